-- handle.lua -- a handle opens or closes. ARGV: 4 'open' or 'close',
-- 5 handle nonce, 6 worker id ('' when not registered).
-- A handle's wake lists are wo:<nonce> (observe and registration: plan,
-- cancel, complete) and wc:<nonce> (claims: complete).
local n = ARGV[5]
if ARGV[4] == 'open' then
  redis.call('SADD', k('handles'), n)
  redis.call('SADD', k('keys'), 'wo:' .. n, 'wc:' .. n)
  redis.call('PEXPIRE', k('handles'), TTL)
  redis.call('PEXPIRE', k('keys'), TTL)
  return 1
end
redis.call('SREM', k('handles'), n)
redis.call('SREM', k('keys'), 'wo:' .. n, 'wc:' .. n)
redis.call('DEL', k('wo:' .. n), k('wc:' .. n))
if ARGV[6] ~= '' and redis.call('ZREM', k('alive'), ARGV[6]) == 1 then
  local info = redis.call('HGET', k('workers'), ARGV[6]) or '-1'
  event('k', 'worker_left', 'i', string.match(info, '^(%S+)'), 'w', ARGV[6],
        'd', 'closed its connection')
end
return 1
