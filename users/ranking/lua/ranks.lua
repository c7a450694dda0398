-- Competition ranks of points values. ARGV: prefix, then the values.
-- Returns {status, watermark, {rank, ...}}.
local G, status, watermark = live(ARGV[1])
if not G then
  return {status, watermark}
end
local board = G .. 'board'
local ranks = {}
for i = 2, #ARGV do
  ranks[#ranks + 1] = redis.call('ZCOUNT', board, '-inf', '(' .. -tonumber(ARGV[i])) + 1
end
return {status, watermark, ranks}
