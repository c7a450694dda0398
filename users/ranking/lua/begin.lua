-- Start a rebuild into a new generation. ARGV: prefix, lease in seconds.
-- Returns the generation, or false while another rebuild holds a lease.
--
-- The generation is first only `filling`: writers do not know it, so the rebuild loads it
-- with plain bulk commands. open.lua then makes it `building`, which writers feed too.
local prefix, lease = ARGV[1], ARGV[2]
if redis.call('EXISTS', prefix .. ':filling', prefix .. ':building') > 0 then
  return false
end
local g = redis.call('INCR', prefix .. ':generation')
redis.call('SET', prefix .. ':filling', g, 'EX', lease)
redis.call('SADD', prefix .. ':generations', g)
return g
