-- A user's competition rank at given points: 1 + the other users with more points. ARGV:
-- prefix, member, points. Returns {status, rank}.
--
-- The user is left out of the count, so the answer is right whether or not the index holds
-- the user's latest points yet (a write reads its rank before its index write lands).
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local board = G .. 'board'
local score = -tonumber(ARGV[3])
local rank = redis.call('ZCOUNT', board, '-inf', '(' .. score) + 1
local held = redis.call('ZSCORE', board, ARGV[2])
if held and tonumber(held) < score then
  rank = rank - 1
end
return {status, rank}
