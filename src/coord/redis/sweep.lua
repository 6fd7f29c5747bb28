-- sweep.lua -- the master reports what lapsed by now (leases past their
-- deadline, once each; workers silent for worker_timeout) as events and
-- returns how many ms until the next thing may lapse (-1: nothing).
local m = need_meta()
local t = now()
for _, mod in ipairs(redis.call('ZRANGEBYSCORE', k('leases'), '-inf', t)) do
  if redis.call('SADD', k('reported'), mod) == 1 then
    event('k', 'lease_expired', 'a', redis.call('HGET', k('attempt'), mod) or '0', 'm', mod,
          't', redis.call('HGET', k('token'), mod) or '', 'd', 'lease expired')
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', k('alive'), '-inf', t)) do
  redis.call('ZREM', k('alive'), id)
  local info = redis.call('HGET', k('workers'), id) or '-1'
  event('k', 'worker_left', 'i', string.match(info, '^(%S+)'), 'w', id,
        'd', 'silent for ' .. m.worker_timeout_ms .. ' ms')
end
local next = -1
for _, key in ipairs({'leases', 'alive'}) do
  local first = redis.call('ZRANGEBYSCORE', k(key), '(' .. t, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if first[2] then
    local d = tonumber(first[2]) - t
    if next < 0 or d < next then next = d end
  end
end
return next
