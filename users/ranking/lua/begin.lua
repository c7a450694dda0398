-- Start a rebuild into a new generation. ARGV: prefix, lease in seconds.
-- Returns {generation, misses so far}, or false while another rebuild holds the lease.
local prefix, lease = ARGV[1], ARGV[2]
if redis.call('EXISTS', prefix .. ':building') == 1 then
  return false
end
local g = redis.call('INCR', prefix .. ':generation')
redis.call('SET', prefix .. ':building', g, 'EX', lease)
redis.call('SADD', prefix .. ':generations', g)
return {g, redis.call('GET', prefix .. ':misses') or '0'}
