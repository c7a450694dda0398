-- End a sweep pass that applied every row the database marked. ARGV: prefix, trust ms (how
-- long reads may trust the index from now), checkpoint ('' to keep it), backlog rows, oldest
-- mark's age in ms ('' without one), alive seconds, tombstone lifetime ms, token, identities
-- key. Returns 1, or 0 when there is no live generation or the index is retired.
--
-- `trusted` expires by Redis's own clock, so no process compares clocks to trust the index.
-- Tombstones older than their lifetime are pruned: no write that old can still arrive.
local prefix = ARGV[1]
if redis.call('EXISTS', prefix .. ':retired') == 1 then
  return 0
end
local g = redis.call('GET', prefix .. ':current')
if not g then
  return 0
end
local trust = tonumber(ARGV[2])
if trust > 0 then
  redis.call('SET', prefix .. ':trusted', '1', 'PX', trust)
end
if ARGV[3] ~= '' and tonumber(ARGV[3]) > tonumber(redis.call('GET', prefix .. ':checkpoint') or '0') then
  redis.call('SET', prefix .. ':checkpoint', ARGV[3])
end
redis.call('HSET', prefix .. ':backlog', 'rows', ARGV[4], 'oldest', ARGV[5])
redis.call('INCR', prefix .. ':passes')
redis.call('SET', prefix .. ':alive', '1', 'EX', ARGV[6])
redis.call('SADD', ARGV[9], ARGV[8])

local G = generation(prefix, g)
local time = redis.call('TIME')
local cutoff = time[1] * 1000 + math.floor(time[2] / 1000) - tonumber(ARGV[7])
for _, member in ipairs(
  redis.call('ZRANGEBYSCORE', G .. 'tombstones', '-inf', cutoff, 'LIMIT', 0, 1000)
) do
  local key, field = state_key(G, member)
  local raw = redis.call('HGET', key, field)
  if raw and tonumber(raw) < 0 then
    redis.call('HDEL', key, field)
  end
  redis.call('ZREM', G .. 'tombstones', member)
end
return 1
