-- publish.lua -- the master publishes the plan, once per run.
-- ARGV: 4 pipeline hash, 5 version, 6 instances, 7 lease_ms,
-- 8 worker_timeout_ms, 9 master_timeout_ms, then (module, class) pairs.
if redis.call('EXISTS', k('meta')) == 1 then
  meta() -- a clear error for another protocol's state
  fail('EXIST', 'the plan of this run is already published')
end
for i = 10, #ARGV, 2 do
  if redis.call('HSETNX', k('mclass'), ARGV[i], ARGV[i + 1]) == 0 then
    redis.call('DEL', k('mclass'), k('mstate'), k('classes'))
    fail('INVAL', ARGV[i] .. ': module twice in the plan')
  end
  redis.call('HSET', k('mstate'), ARGV[i], 'idle')
  if redis.call('SADD', k('classes'), ARGV[i + 1]) == 1 then
    redis.call('SADD', k('keys'), 'q:' .. ARGV[i + 1], 'bell:' .. ARGV[i + 1])
  end
end
redis.call('HSET', k('meta'), 'proto', PROTO, 'hash', ARGV[4], 'version', ARGV[5],
           'instances', ARGV[6], 'lease_ms', ARGV[7], 'worker_timeout_ms', ARGV[8],
           'master_timeout_ms', ARGV[9])
redis.call('SET', k('master'), '1', 'PX', ARGV[9])
wake('wo', 'plan')
touch()
return 1
