-- One user's place. ARGV: prefix, member. Returns {status, score, rank, state},
-- with score false when the member is not on the board.
local G, status = live(ARGV[1])
if not G then
  return {status}
end
local board = G .. 'board'
local score = redis.call('ZSCORE', board, ARGV[2])
if not score then
  return {status, false}
end
local rank = redis.call('ZCOUNT', board, '-inf', '(' .. score) + 1
return {status, score, rank, states_of_rows(G, {ARGV[2], score})[1]}
