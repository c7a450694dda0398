-- End a rebuild's fill: from now on writers feed the generation too (put.lua), and the
-- rebuild catches it up with the rows changed since it began. ARGV: prefix, generation,
-- lease. Returns 1, or 0 when the rebuild lost its lease.
local prefix, g, lease = ARGV[1], ARGV[2], ARGV[3]
if redis.call('GET', prefix .. ':filling') ~= g then
  return 0
end
redis.call('DEL', prefix .. ':filling')
redis.call('SET', prefix .. ':building', g, 'EX', lease)
return 1
