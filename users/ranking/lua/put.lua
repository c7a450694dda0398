-- Record users' states. ARGV: prefix, target, then (member, points, version, age) quads;
-- empty points mean a deleted user.
--
-- target '' applies to the live generation and to one being rebuilt; a generation id
-- applies to that generation only, while it is the one being rebuilt (a rebuild's own fill),
-- and refreshes its lease. Returns how many states were newer than the ones held, or -1 when
-- the targeted rebuild is no longer the current one.
--
-- A state lands only when its version is newer than the one held, so writes may arrive late,
-- twice or out of order, from any process, and the index still ends equal to the database.
-- The board, the states, the per-score aggregates and the fingerprint change together.
local prefix, target, lease = ARGV[1], ARGV[2], ARGV[3]
local building = redis.call('GET', prefix .. ':building')
local targets = {}
if target ~= '' then
  if building ~= target then
    return -1
  end
  redis.call('EXPIRE', prefix .. ':building', lease)
  targets[1] = target
else
  local current = redis.call('GET', prefix .. ':current')
  if current then
    targets[#targets + 1] = current
  end
  if building and building ~= current then
    targets[#targets + 1] = building
  end
end

local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
local applied = 0

for _, g in ipairs(targets) do
  local G = generation(prefix, g)
  local board = G .. 'board'
  -- Per-score deltas of the count and the age sum, and of the fingerprint, written once per
  -- call rather than once per user.
  local counts, ages = {}, {}
  local fp = {n = 0, points = 0, versions = 0, ages = 0}
  local function account(points, version, age, sign)
    counts[points] = (counts[points] or 0) + sign
    ages[points] = (ages[points] or 0) + sign * age
    fp.n = fp.n + sign
    fp.points = fp.points + sign * points
    fp.versions = fp.versions + sign * version
    fp.ages = fp.ages + sign * age
  end

  for i = 4, #ARGV, 4 do
    local member, points, version, age = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]),
      tonumber(ARGV[i + 3])
    local held_version, held_age, held_live = state_of(G, member)
    if version > held_version then
      applied = applied + 1
      if held_live then
        local score = redis.call('ZSCORE', board, member)
        if score then
          account(-tonumber(score), held_version, held_age, -1)
        end
      end
      local key, field = state_key(G, member)
      if points == '' then
        redis.call('ZREM', board, member)
        redis.call('HSET', key, field, string.format('%d', -version))
        redis.call('ZADD', G .. 'tombstones', now, member)
      else
        points = tonumber(points)
        redis.call('ZADD', board, -points, member)
        redis.call('HSET', key, field, string.format('%d', version * 256 + age))
        if held_version >= 0 and not held_live then
          redis.call('ZREM', G .. 'tombstones', member)
        end
        account(points, version, age, 1)
      end
    end
  end

  for points, delta in pairs(counts) do
    if delta ~= 0 or ages[points] ~= 0 then
      local field = string.format('%d', points)
      local count = redis.call('HINCRBY', G .. 'counts', field, delta)
      redis.call('HINCRBY', G .. 'ages', field, ages[points])
      if count <= 0 then
        redis.call('HDEL', G .. 'counts', field)
        redis.call('HDEL', G .. 'ages', field)
        redis.call('ZREM', G .. 'scores', field)
      elseif count == delta then
        redis.call('ZADD', G .. 'scores', -points, field)
      end
    end
  end
  for name, delta in pairs(fp) do
    if delta ~= 0 then
      redis.call('HINCRBY', G .. 'fp', name, string.format('%d', delta))
    end
  end
end
return applied
