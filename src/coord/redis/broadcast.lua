-- broadcast.lua -- cancel or complete the run. ARGV: 4 'cancel' or
-- 'complete', 5 reason. Idempotent; cancel after complete is refused.
need_meta()
local complete = redis.call('EXISTS', k('complete')) == 1
if ARGV[4] == 'cancel' then
  if complete then fail('STATE', 'cannot cancel a completed run') end
  if redis.call('SET', k('cancel'), ARGV[5], 'NX') then wake('wo', 'cancel') end
elseif not complete then
  redis.call('SET', k('complete'), '1')
  wake('wo', 'complete')
  wake('wc', 'complete')
end
touch()
return 1
