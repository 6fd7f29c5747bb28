-- state.lua -- what a waiting handle needs to know. Returns {planned
-- (0/1), completed, cancelled, master pttl (-2: lapsed)}.
if not meta() then return {0, 0, 0, -2} end
return {1, redis.call('EXISTS', k('complete')), redis.call('EXISTS', k('cancel')),
        redis.call('PTTL', k('master'))}
