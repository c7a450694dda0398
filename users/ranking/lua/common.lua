-- Shared helpers, loaded ahead of every other script (see scripts.py).
--
-- ARGV[1] of every script is the key prefix P. P:current names the live generation g, and
-- the generation's keys live under P:g:<g>:, so a rebuild fills a new generation beside the
-- live one and a swap is one SET.

local function generation(prefix, g)
  return prefix .. ':g:' .. g .. ':'
end

-- The live generation's key prefix, or nil when the index cannot answer; then the status
-- for readers (health.py): 0 no index, 1 doubtful (no sweep has vouched for it within the
-- trust bound), 2 trusted, 3 retired (its database is gone).
local function live(prefix)
  local flags = redis.call('MGET', prefix .. ':current', prefix .. ':retired', prefix .. ':trusted')
  if flags[2] then
    return nil, 3
  end
  if not flags[1] then
    return nil, 0
  end
  return generation(prefix, flags[1]), flags[3] and 2 or 1
end

-- A user's state hash and field: users share a hash with the members that differ from theirs
-- in the last character only (64 of them; 16 for ObjectIds), so that each hash stays in
-- Redis's compact encoding. keys.py and rebuild.py follow the same rule.
local function state_key(G, member)
  return G .. 's:' .. string.sub(member, 1, -2), string.sub(member, -1)
end

-- The board's score for points: their negation, written so that 0 stays "0" (Lua's -0 would
-- be stored and read back as "-0").
local function score_of(points)
  return string.format('%d', -points)
end

-- The state the generation holds for a member: version, age, and whether it is live.
-- Live users are stored as version * 256 + age, deleted ones as -version (a tombstone);
-- an unknown member has version -1.
local function state_of(G, member)
  local key, field = state_key(G, member)
  local raw = redis.call('HGET', key, field)
  if not raw then
    return -1, 0, false
  end
  raw = tonumber(raw)
  if raw < 0 then
    return -raw, 0, false
  end
  return math.floor(raw / 256), raw % 256, true
end

-- The raw states of the members of a flat (member, score, member, score, ...) list.
local function states_of_rows(G, rows)
  local states = {}
  for i = 1, #rows, 2 do
    local key, field = state_key(G, rows[i])
    states[#states + 1] = redis.call('HGET', key, field) or '0'
  end
  return states
end

-- Competition rank of the first of `rows` (flat member, score pairs): 1 + users scored lower,
-- that is with more points.
local function first_rank(board, rows)
  if #rows == 0 then
    return 0
  end
  return redis.call('ZCOUNT', board, '-inf', '(' .. rows[2]) + 1
end

-- A user's competition rank at `points`: 1 + the other users with more points. The user is
-- left out of the count, so the answer is right whether or not the board holds the user's
-- latest points yet.
local function rank_at(board, member, points)
  local score = -tonumber(points)
  local rank = redis.call('ZCOUNT', board, '-inf', '(' .. score) + 1
  local held = redis.call('ZSCORE', board, member)
  if held and tonumber(held) < score then
    rank = rank - 1
  end
  return rank
end
