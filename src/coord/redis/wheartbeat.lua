-- wheartbeat.lua -- extend a worker's liveness. ARGV: 4 worker id.
local m = need_meta()
if not redis.call('ZSCORE', k('alive'), ARGV[4]) then
  fail('STATE', ARGV[4] .. ': worker was declared gone by the coordinator')
end
redis.call('ZADD', k('alive'), 'XX', now() + m.worker_timeout_ms, ARGV[4])
return 1
