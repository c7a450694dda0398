-- The live generation's fingerprint, less the users given. ARGV: prefix, then members.
-- Returns {status, {count, points, versions, ages}}.
--
-- The fingerprint (live count and the sums of points, versions and ages) is kept by every
-- write. Leaving out the users changed in the last moments lets it be compared with the
-- database's fingerprint of the others while writes go on.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local fp = redis.call('HMGET', G .. 'fp', 'n', 'points', 'versions', 'ages')
local n, points, versions, ages = tonumber(fp[1] or '0'), tonumber(fp[2] or '0'),
  tonumber(fp[3] or '0'), tonumber(fp[4] or '0')
local board = G .. 'board'
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', board, ARGV[i])
  if score then
    local version, age = state_of(G, ARGV[i])
    n = n - 1
    points = points + tonumber(score)
    versions = versions - version
    ages = ages - age
  end
end
local function text(value)
  return string.format('%d', value)
end
return {status, {text(n), text(points), text(versions), text(ages)}}
