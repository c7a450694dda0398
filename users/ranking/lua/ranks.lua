-- Competition ranks of points values. ARGV: prefix, then the values.
-- Returns {status, {rank, ...}}.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local board = G .. 'board'
local ranks = {}
for i = 2, #ARGV do
  ranks[#ranks + 1] = redis.call('ZCOUNT', board, '-inf', '(' .. -tonumber(ARGV[i])) + 1
end
return {status, ranks}
