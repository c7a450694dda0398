-- A page of the users grouped by score, highest first. ARGV: prefix, offset, limit,
-- users per group. Returns {status, total groups, {points, count, age sum,
-- {member, score, ...}, {state, ...}}, ...}.
--
-- The distinct scores, their counts and age sums are kept by every write (put.lua), so a page
-- costs O(log N + page) and is exact at the moment it is read, count included.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local board = G .. 'board'
local offset, limit, per_group = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local groups = {}
for _, points in ipairs(redis.call('ZRANGE', G .. 'scores', offset, offset + limit - 1)) do
  local score = -tonumber(points)
  local rows = redis.call('ZRANGEBYSCORE', board, score, score, 'WITHSCORES', 'LIMIT', 0, per_group)
  groups[#groups + 1] = {
    points,
    redis.call('HGET', G .. 'counts', points) or '0',
    redis.call('HGET', G .. 'ages', points) or '0',
    rows,
    states_of_rows(G, rows),
  }
end
return {status, redis.call('ZCARD', G .. 'scores'), groups}
