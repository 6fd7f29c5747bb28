-- renew.lua -- extend a lease held by token. ARGV: 4 module, 5 token.
-- Returns 'ok', 'cancel' (the run is stopping; the lease is extended
-- too: an always_run module keeps running) or 'lost'.
local m = need_meta()
if mstate(ARGV[4]) ~= 'leased' or redis.call('HGET', k('token'), ARGV[4]) ~= ARGV[5] then
  return 'lost'
end
redis.call('ZADD', k('leases'), now() + m.lease_ms, ARGV[4])
redis.call('SREM', k('reported'), ARGV[4])
if redis.call('EXISTS', k('cancel'), k('complete')) > 0 then return 'cancel' end
return 'ok'
