-- Make a rebuilt generation the live one. ARGV: prefix, generation, trust ms (how long reads
-- may trust it: the rebuild applied every row marked before its catch-up began), and the
-- database's checkpoint when the rebuild began (the index has seen at least that one).
-- Returns the previous generation or '', or false when the rebuild lost its lease.
--
-- The swap is one SET: readers move to the new generation at once, and never see a partly
-- filled one.
local prefix, g, trust, checkpoint = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('GET', prefix .. ':building') ~= g then
  return false
end
local previous = redis.call('GET', prefix .. ':current')
redis.call('SET', prefix .. ':current', g)
if trust > 0 then
  redis.call('SET', prefix .. ':trusted', '1', 'PX', trust)
end
if checkpoint > tonumber(redis.call('GET', prefix .. ':checkpoint') or '0') then
  redis.call('SET', prefix .. ':checkpoint', string.format('%d', checkpoint))
end
redis.call('DEL', prefix .. ':building')
if previous and previous ~= g then
  -- UNLINK frees the old board in the background: a DEL (or a RENAME over it) of millions
  -- of entries would stall every client for seconds. The rest goes with garbage collection.
  redis.call('UNLINK', generation(prefix, previous) .. 'board')
end
return previous or ''
