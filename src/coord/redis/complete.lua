-- complete.lua -- store a worker's result, once, from the lease holder.
-- ARGV: 4 module, 5 token, 6 status, 7 stored result, 8 worker id,
-- 9 instance, 10 attempt. A stale or duplicate result is rejected and
-- the master told (a 'rejected' event).
need_meta()
local mod, token = ARGV[4], ARGV[5]
local s = mstate(mod)
local holder = redis.call('HGET', k('token'), mod)
local why = nil
if not s then why = 'module not in the plan'
elseif s == 'done' then why = 'module already has a result'
elseif s ~= 'leased' then why = 'module is not leased'
elseif holder ~= token then why = 'lease is now held by ' .. tostring(holder) end
if why then
  event('k', 'rejected', 'a', ARGV[10], 'm', mod, 't', token, 's', ARGV[6], 'd', why)
  fail('STATE', mod .. ': stale result from ' .. token .. ' rejected: ' .. why)
end
redis.call('HSET', k('results'), mod, ARGV[7])
redis.call('HSET', k('mstate'), mod, 'done')
redis.call('HDEL', k('token'), mod)
redis.call('ZREM', k('leases'), mod)
redis.call('SREM', k('reported'), mod)
local att = redis.call('HGET', k('attempt'), mod) or '0'
event('k', 'result', 'i', ARGV[9], 'a', att, 'w', ARGV[8], 'm', mod, 't', token, 's', ARGV[6])
return 1
