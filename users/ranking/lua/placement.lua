-- One user's place. ARGV: prefix, member. Returns {status, watermark, score, rank, state},
-- with score false when the member is not on the board.
local G, status, watermark = live(ARGV[1])
if not G then
  return {status, watermark}
end
local board = G .. 'board'
local score = redis.call('ZSCORE', board, ARGV[2])
if not score then
  return {status, watermark, false}
end
local rank = redis.call('ZCOUNT', board, '-inf', '(' .. score) + 1
return {status, watermark, score, rank, states_of_rows(G, {ARGV[2], score})[1]}
