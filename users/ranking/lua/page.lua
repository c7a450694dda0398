-- A window of the board. ARGV: prefix, offset, limit, points ('' for the whole board).
-- Returns {status, total, first position, first rank, {member, score, ...},
-- {state, ...}}; the status alone when the index cannot answer.
--
-- With points, the window is taken from the run of users with that score, which starts
-- where the users with more points end: O(log N) however deep the offset.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local board = G .. 'board'
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local total, first = 0, offset
if ARGV[4] == '' then
  total = redis.call('ZCARD', board)
else
  local score = -tonumber(ARGV[4])
  total = redis.call('ZCOUNT', board, score, score)
  first = redis.call('ZCOUNT', board, '-inf', '(' .. score) + offset
  limit = math.min(limit, total - offset)
end
local rows = {}
if limit > 0 then
  rows = redis.call('ZRANGE', board, first, first + limit - 1, 'WITHSCORES')
end
return {status, total, first, first_rank(board, rows), rows, states_of_rows(G, rows)}
