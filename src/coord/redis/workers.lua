-- workers.lua -- every registration: {id, "instance slots caps", alive}...
need_meta()
local r = {}
local all = redis.call('HGETALL', k('workers'))
for i = 1, #all, 2 do
  r[#r + 1] = all[i]
  r[#r + 1] = all[i + 1]
  r[#r + 1] = redis.call('ZSCORE', k('alive'), all[i]) and 1 or 0
end
return r
