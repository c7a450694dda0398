-- A user and the `size` users on either side of them. ARGV: prefix, member, size.
-- Returns {status, position (-1 when the member is not on the board), first
-- position, first rank, {member, score, ...}, {state, ...}}.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local board = G .. 'board'
local position = redis.call('ZRANK', board, ARGV[2])
if not position then
  return {status, -1}
end
local size = tonumber(ARGV[3])
local first = math.max(0, position - size)
local rows = redis.call('ZRANGE', board, first, position + size, 'WITHSCORES')
return {status, position, first, first_rank(board, rows), rows, states_of_rows(G, rows)}
