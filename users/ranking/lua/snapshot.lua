-- Every (member, score) of the live generation, in order, and its status. For tests and
-- checks on small boards. ARGV: prefix.
local G, status, watermark = live(ARGV[1])
if not G then
  return {status, watermark}
end
return {status, watermark, redis.call('ZRANGE', G .. 'board', 0, -1, 'WITHSCORES')}
