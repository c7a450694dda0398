-- A user's competition rank at given points: 1 + the other users with more points. ARGV:
-- prefix, member, points. Returns {status, rank}.
--
-- The user is left out of the count (rank_at), so a write may read its rank before its index
-- write lands.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
return {status, rank_at(G .. 'board', ARGV[2], ARGV[3])}
