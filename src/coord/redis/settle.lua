-- settle.lua -- the master stores the result of a module it decided
-- without a worker; a queued one leaves its queue. ARGV: 4 module,
-- 5 stored result.
need_meta()
local mod = ARGV[4]
local s = mstate(mod)
if not s then fail('NOENT', mod .. ': module not in the plan') end
if s == 'leased' then fail('STATE', mod .. ': module is leased') end
if s == 'done' then fail('STATE', mod .. ': module is already done') end
if s == 'queued' then
  local cls = redis.call('HGET', k('mclass'), mod)
  if redis.call('LREM', k('q:' .. cls), 1, mod) == 1 then
    redis.call('LPOP', k('bell:' .. cls))
  end
end
redis.call('HSET', k('mstate'), mod, 'done')
redis.call('HDEL', k('token'), mod)
redis.call('HSET', k('results'), mod, ARGV[5])
return 1
