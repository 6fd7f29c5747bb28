-- lib.lua -- the prelude of every coordinator script (embedded in front of
-- each one at build time, see cmake/embed_lua.cmake).
--
-- ARGV[1] is the run's key prefix "modpipe:{<run-id>}:", ARGV[2] the
-- protocol version this modpipe speaks, ARGV[3] the expiry of the run's
-- keys in ms; a script's own arguments start at ARGV[4]. Every key of a
-- run shares the hash tag {<run-id>}, so a script may touch them all.
-- Errors start with a code word the C side maps to MP_E* (redis/redis.h):
-- STATE, EXIST, NOENT, INVAL, CORRUPT, LOST.
local P = ARGV[1]
local PROTO = ARGV[2]
local TTL = tonumber(ARGV[3])
local function k(s) return P .. s end
local function fail(word, msg) error({err = word .. ' ' .. msg}) end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local LOST_MSG = 'run state lost: the keys of this run are gone from redis ' ..
                 '(server restarted without persistence, flushed, evicted or expired)'
-- The run's plan settings, checked: nil when no plan was published.
local function meta()
  -- HGETALL, not HMGET: commandstats then tells the clients' HMGET of
  -- results apart (bench/dispatch.c).
  local all = redis.call('HGETALL', k('meta'))
  local m = {}
  for i = 1, #all, 2 do m[all[i]] = all[i + 1] end
  if not m.proto then return nil end
  if m.proto ~= PROTO then
    fail('CORRUPT', 'run state was written by coordinator protocol ' .. tostring(m.proto) ..
         ', this modpipe speaks protocol ' .. PROTO .. ' (mixed modpipe versions, or garbage)')
  end
  local r = {lease_ms = tonumber(m.lease_ms), worker_timeout_ms = tonumber(m.worker_timeout_ms),
             master_timeout_ms = tonumber(m.master_timeout_ms), instances = tonumber(m.instances),
             hash = m.hash, version = m.version}
  if not (r.lease_ms and r.worker_timeout_ms and r.master_timeout_ms and r.instances and
          r.hash and r.version) then
    fail('CORRUPT', 'the plan settings of this run (' .. k('meta') .. ') are garbage')
  end
  return r
end
local function need_meta()
  local m = meta()
  if not m then fail('LOST', LOST_MSG) end
  return m
end
local function number(v, what)
  local n = tonumber(v)
  if not n then fail('CORRUPT', what .. ' holds garbage: ' .. tostring(v)) end
  return n
end
-- The state of a module of the plan (nil when it is not in the plan).
local STATES = {idle = true, queued = true, leased = true, done = true, exhausted = true}
local function mstate(mod)
  local s = redis.call('HGET', k('mstate'), mod)
  if s and not STATES[s] then
    fail('CORRUPT', 'module ' .. mod .. ' has the unknown state ' .. s .. ' in ' .. k('mstate'))
  end
  return s
end
local function event(...)
  redis.call('XADD', k('events'), '*', 'v', PROTO, ...)
end
-- Wake every handle blocked on list `which` ('wo' or 'wc') with `token`.
local function wake(which, token)
  for _, h in ipairs(redis.call('SMEMBERS', k('handles'))) do
    redis.call('RPUSH', k(which .. ':' .. h), token)
  end
end
local FIXED = {'meta', 'classes', 'mclass', 'mstate', 'attempt', 'token', 'results', 'leases',
               'reported', 'workers', 'inst', 'alive', 'events', 'cancel', 'complete',
               'handles', 'keys'}
-- Give every key of the run the expiry TTL (the master's liveness key
-- keeps its own, shorter one).
local function touch()
  for _, name in ipairs(FIXED) do redis.call('PEXPIRE', k(name), TTL) end
  for _, name in ipairs(redis.call('SMEMBERS', k('keys'))) do
    redis.call('PEXPIRE', k(name), TTL)
  end
end
