-- enqueue.lua -- a module of the plan at the back of its class queue,
-- with one doorbell token. ARGV: 4 module.
need_meta()
local mod = ARGV[4]
local s = mstate(mod)
if not s then fail('NOENT', mod .. ': module not in the plan') end
if redis.call('EXISTS', k('complete')) == 1 then fail('STATE', mod .. ': the run is complete') end
if s ~= 'idle' then fail('STATE', mod .. ': already enqueued') end
local cls = redis.call('HGET', k('mclass'), mod)
redis.call('HSET', k('mstate'), mod, 'queued')
redis.call('RPUSH', k('q:' .. cls), mod)
redis.call('RPUSH', k('bell:' .. cls), '1')
return 1
