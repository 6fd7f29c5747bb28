-- register.lua -- a worker joins the run.
-- ARGV: 4 worker id, 5 instance, 6 slots, 7 capabilities (canonical),
-- 8 pipeline hash, 9 version.
-- Returns {0} before the plan is published, else {1, class...}.
local m = meta()
if not m then return {0} end
local id, inst = ARGV[4], tonumber(ARGV[5])
if ARGV[8] ~= m.hash then
  fail('INVAL', id .. ': refused: pipeline hash ' .. ARGV[8] .. " differs from the master's " .. m.hash)
end
if ARGV[9] ~= m.version then
  fail('INVAL', id .. ': refused: modpipe version ' .. ARGV[9] .. " differs from the master's " ..
       m.version)
end
if inst >= m.instances then
  fail('INVAL', id .. ': refused: instance index ' .. inst .. ' outside 0..' .. (m.instances - 1))
end
local other = redis.call('HGET', k('inst'), ARGV[5])
if other and redis.call('ZSCORE', k('alive'), other) then
  fail('EXIST', id .. ': refused: instance index ' .. inst .. ' is already registered by ' .. other)
end
if redis.call('ZSCORE', k('alive'), id) then
  fail('EXIST', id .. ': refused: worker id already registered')
end
redis.call('HSET', k('workers'), id, ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. ARGV[7])
redis.call('HSET', k('inst'), ARGV[5], id)
redis.call('ZADD', k('alive'), now() + m.worker_timeout_ms, id)
event('k', 'worker_joined', 'i', ARGV[5], 'w', id, 'd', ARGV[7])
local r = {1}
for _, c in ipairs(redis.call('SMEMBERS', k('classes'))) do r[#r + 1] = c end
return r
