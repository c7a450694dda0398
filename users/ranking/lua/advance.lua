-- End a repair pass. ARGV: prefix, generation, watermark (epoch ms when the pass began),
-- tombstone cutoff (epoch ms). Moves the watermark on, marks the generation ready, and prunes
-- tombstones older than the cutoff: no write that old can still arrive. Returns 1, or 0 when
-- another generation became the live one meanwhile.
local prefix, g, watermark, cutoff = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if redis.call('GET', prefix .. ':current') ~= g then
  return 0
end
local G = generation(prefix, g)
if watermark > tonumber(redis.call('GET', G .. 'watermark') or '0') then
  redis.call('SET', G .. 'watermark', string.format('%d', watermark))
end
redis.call('SET', G .. 'ready', '1')
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
