-- requeue.lua -- compare-and-set on the token: a leased module back at
-- the FRONT of its queue, or exhausted at max_attempts.
-- ARGV: 4 module, 5 token, 6 max attempts, 7 reason.
-- Returns 'requeued', 'stale' or 'exhausted'.
need_meta()
local mod = ARGV[4]
local s = mstate(mod)
if not s then fail('NOENT', mod .. ': module not in the plan') end
if s ~= 'leased' or redis.call('HGET', k('token'), mod) ~= ARGV[5] then return 'stale' end
redis.call('ZREM', k('leases'), mod)
redis.call('SREM', k('reported'), mod)
redis.call('HDEL', k('token'), mod)
local att = number(redis.call('HGET', k('attempt'), mod) or '0', 'attempt of ' .. mod)
if att >= tonumber(ARGV[6]) then
  redis.call('HSET', k('mstate'), mod, 'exhausted')
  return 'exhausted'
end
local cls = redis.call('HGET', k('mclass'), mod)
redis.call('HSET', k('mstate'), mod, 'queued')
redis.call('LPUSH', k('q:' .. cls), mod)
redis.call('RPUSH', k('bell:' .. cls), '1')
return 'requeued'
