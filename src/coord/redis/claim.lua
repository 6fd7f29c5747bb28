-- claim.lua -- pop the head of the first served queue that has one and
-- lease it: attempt+1, token <worker>#<attempt>, deadline on Redis TIME.
-- ARGV: 4 worker id, 5 instance, 6 '1' when the caller holds a doorbell
-- token of class ARGV[7] (it woke from BLMPOP), 8.. served classes in
-- claim order. Returns {'ok', module, attempt, token, waiting}, {'completed'},
-- {'lost'} (master liveness lapsed) or {'none', master pttl}.
local m = need_meta()
if redis.call('EXISTS', k('complete')) == 1 then return {'completed'} end
local pttl = redis.call('PTTL', k('master'))
if pttl == -2 then return {'lost'} end
local id = ARGV[4]
if not redis.call('ZSCORE', k('alive'), id) then
  fail('STATE', id .. ': worker was declared gone by the coordinator')
end
local held = ARGV[6] == '1'
for i = 8, #ARGV do
  local cls = ARGV[i]
  local mod = redis.call('LPOP', k('q:' .. cls))
  if mod then
    local s = mstate(mod)
    if s ~= 'queued' then
      fail('CORRUPT', 'queue ' .. k('q:' .. cls) .. ' holds ' .. mod .. ', which is ' ..
           tostring(s or 'not in the plan'))
    end
    -- one doorbell token per queued module: the one held, or one of cls
    if not held or ARGV[7] ~= cls then
      redis.call('LPOP', k('bell:' .. cls))
      if held then redis.call('RPUSH', k('bell:' .. ARGV[7]), '1') end
    end
    local att = redis.call('HINCRBY', k('attempt'), mod, 1)
    local token = id .. '#' .. att
    redis.call('HSET', k('mstate'), mod, 'leased')
    redis.call('HSET', k('token'), mod, token)
    redis.call('ZADD', k('leases'), now() + m.lease_ms, mod)
    redis.call('SREM', k('reported'), mod)
    event('k', 'claimed', 'i', ARGV[5], 'a', att, 'w', id, 'm', mod, 't', token)
    -- how many served modules still wait: the caller's next claim starts
    -- with this script rather than a pop when some do
    local waiting = 0
    for j = 8, #ARGV do waiting = waiting + redis.call('LLEN', k('bell:' .. ARGV[j])) end
    return {'ok', mod, att, token, waiting}
  end
end
return {'none', pttl}
