-- Every (member, score) of the live generation, in order, and its status. For tests and
-- checks on small boards. ARGV: prefix.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
return {status, redis.call('ZRANGE', G .. 'board', 0, -1, 'WITHSCORES')}
