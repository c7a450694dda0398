-- Record users' states. ARGV: prefix, target, lease, then (member, points, state) triples:
-- state is version * 256 + age, or -version with empty points for a deleted user (the
-- encoding the state hashes keep; see common.lua).
--
-- target '' applies to the live generation and to one being rebuilt; a generation id
-- applies to that generation only, while it is the one being rebuilt (a rebuild's own fill),
-- and renews its lease. Returns {how many states were newer than the ones held, complete,
-- status, rank}: complete is 1 unless a rebuild is filling a generation that writers do not
-- feed yet (so the rows' marks must stay for its catch-up); status is the live generation's,
-- as the read scripts give it; rank, for a single user's write to the live index, is that
-- user's competition rank at the points sent, as the board stands after the write, so that
-- the write needs no second call to answer with it (none for a deletion, a batch or another
-- target, which nobody asks it of). Or -1 when the targeted rebuild is no longer the current
-- one.
--
-- A state lands only when its version is newer than the one held, so writes may arrive late,
-- twice or out of order, from any process, and the index still ends equal to the database.
-- The board, the states, the per-score aggregates and the fingerprint change together.
-- States are read with one HMGET per bucket and the board written with one ZADD, so a batch
-- of hundreds (a rebuild, a repair, seeding) costs tens of calls rather than thousands.
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

-- Calls a command with `head` and then `items`, at most `size` items to a call (Lua's
-- unpack has a limit on how many values it spreads).
local function call_in_parts(command, key, items, size)
  for first = 1, #items, size do
    redis.call(command, key, unpack(items, first, math.min(first + size - 1, #items)))
  end
end

local function apply(G)
  local board = G .. 'board'
  -- 1. What the generation holds for every member of the batch, a bucket at a time.
  -- Members arrive mostly in id order, so consecutive ones share a bucket.
  local key_of, field_of, fields_of, keys = {}, {}, {}, {}
  local last_bucket, key = nil, nil
  for i = 4, #ARGV, 3 do
    local member = ARGV[i]
    local bucket = string.sub(member, 1, -2)
    if bucket ~= last_bucket then
      last_bucket, key = bucket, G .. 's:' .. bucket
      if not fields_of[key] then
        fields_of[key] = {}
        keys[#keys + 1] = key
      end
    end
    local field = string.sub(member, -1)
    key_of[i], field_of[i] = key, field
    local fields = fields_of[key]
    fields[#fields + 1] = field
  end
  local held = {}
  for _, k in ipairs(keys) do
    local raws = redis.call('HMGET', k, unpack(fields_of[k]))
    local values = {}
    for j, field in ipairs(fields_of[k]) do
      values[field] = raws[j] and tonumber(raws[j]) or nil
    end
    held[k] = values
  end

  -- 2. Decide, in order, which states are newer; work out what changes.
  local points_of = {}  -- members' points as this batch leaves them (false: off the board)
  local writes, changed = {}, {}  -- state fields to set, per key
  local counts, ages = {}, {}  -- per-score deltas of the count and the age sum
  local fp_n, fp_points, fp_versions, fp_ages = 0, 0, 0, 0
  local tombstoned, revived = {}, {}
  local applied = 0
  for i = 4, #ARGV, 3 do
    local member, k, field = ARGV[i], key_of[i], field_of[i]
    local state = tonumber(ARGV[i + 2])
    local version = state < 0 and -state or math.floor(state / 256)
    local raw = held[k][field]
    local held_version, held_age, held_live = -1, 0, false
    if raw then
      if raw < 0 then
        held_version = -raw
      else
        held_version, held_age, held_live = math.floor(raw / 256), raw % 256, true
      end
    end
    if version > held_version then
      applied = applied + 1
      if held_live then
        local points = points_of[member]
        if points == nil then
          local score = redis.call('ZSCORE', board, member)
          points = score and -tonumber(score) or false
        end
        if points then
          counts[points] = (counts[points] or 0) - 1
          ages[points] = (ages[points] or 0) - held_age
          fp_n, fp_points = fp_n - 1, fp_points - points
          fp_versions, fp_ages = fp_versions - held_version, fp_ages - held_age
        end
      end
      if ARGV[i + 1] == '' then
        points_of[member] = false
        tombstoned[member], revived[member] = true, nil
      else
        local points, age = tonumber(ARGV[i + 1]), state % 256
        points_of[member] = points
        if held_version >= 0 and not held_live then
          revived[member], tombstoned[member] = true, nil
        end
        counts[points] = (counts[points] or 0) + 1
        ages[points] = (ages[points] or 0) + age
        fp_n, fp_points = fp_n + 1, fp_points + points
        fp_versions, fp_ages = fp_versions + version, fp_ages + age
      end
      held[k][field] = state
      local pending = writes[k]
      if not pending then
        pending = {}
        writes[k] = pending
        changed[#changed + 1] = k
      end
      -- Field-value pairs: if a member comes twice, HSET keeps the later pair.
      pending[#pending + 1] = field
      pending[#pending + 1] = ARGV[i + 2]
    end
  end
  if applied == 0 then
    return 0
  end
  local fp = {n = fp_n, points = fp_points, versions = fp_versions, ages = fp_ages}

  -- 3. Write it all.
  local add, remove = {}, {}
  for member, points in pairs(points_of) do
    if points then
      add[#add + 1] = score_of(points)
      add[#add + 1] = member
    else
      remove[#remove + 1] = member
    end
  end
  call_in_parts('ZADD', board, add, 1000)
  call_in_parts('ZREM', board, remove, 1000)
  for _, key in ipairs(changed) do
    redis.call('HSET', key, unpack(writes[key]))
  end
  local stamped, unstamped = {}, {}
  for member in pairs(tombstoned) do
    stamped[#stamped + 1] = now
    stamped[#stamped + 1] = member
  end
  for member in pairs(revived) do
    unstamped[#unstamped + 1] = member
  end
  call_in_parts('ZADD', G .. 'tombstones', stamped, 1000)
  call_in_parts('ZREM', G .. 'tombstones', unstamped, 1000)
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
        redis.call('ZADD', G .. 'scores', score_of(points), field)
      end
    end
  end
  for name, delta in pairs(fp) do
    if delta ~= 0 then
      redis.call('HINCRBY', G .. 'fp', name, string.format('%d', delta))
    end
  end
  return applied
end

local applied = 0
for _, g in ipairs(targets) do
  applied = apply(generation(prefix, g))
end
local filling = redis.call('EXISTS', prefix .. ':filling')
local G, status = live(prefix)
local rank = false
if G and target == '' and #ARGV == 6 and ARGV[5] ~= '' then
  rank = rank_at(G .. 'board', ARGV[4], ARGV[5])
end
return {applied, 1 - filling, status, rank}
