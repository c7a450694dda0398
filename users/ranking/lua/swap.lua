-- Make a rebuilt generation the live one. ARGV: prefix, generation, misses when the rebuild
-- began, watermark (epoch ms when it was opened to writers). Returns {previous generation or '', ready}, or
-- false when the rebuild lost its lease.
--
-- The swap is one SET: readers move to the new generation at once, and never see a partly
-- filled one. It is `ready` only if no process reported a missed write since the rebuild
-- began; otherwise a repair from the watermark makes it ready.
local prefix, g, misses, watermark = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('GET', prefix .. ':building') ~= g then
  return false
end
local previous = redis.call('GET', prefix .. ':current')
redis.call('SET', prefix .. ':current', g)
local G = generation(prefix, g)
redis.call('SET', G .. 'watermark', watermark)
local ready = (redis.call('GET', prefix .. ':misses') or '0') == misses
if ready then
  redis.call('SET', G .. 'ready', '1')
end
redis.call('DEL', prefix .. ':building')
if previous and previous ~= g then
  -- UNLINK frees the old board in the background: a DEL (or a RENAME over it) of millions
  -- of entries would stall every client for seconds. The rest goes with garbage collection.
  redis.call('UNLINK', generation(prefix, previous) .. 'board')
end
return {previous or '', ready and 1 or 0}
