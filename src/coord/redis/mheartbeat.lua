-- mheartbeat.lua -- extend the master's liveness by master_timeout_ms
-- and the expiry of the run's keys.
local m = need_meta()
redis.call('SET', k('master'), '1', 'PX', m.master_timeout_ms)
touch()
return 1
