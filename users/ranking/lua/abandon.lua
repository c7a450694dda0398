-- Give up a rebuild that failed, so the next one need not wait for its lease to expire.
-- ARGV: prefix, generation. Its keys go with garbage collection.
local given_up = 0
for _, name in ipairs({':filling', ':building'}) do
  if redis.call('GET', ARGV[1] .. name) == ARGV[2] then
    redis.call('DEL', ARGV[1] .. name)
    given_up = 1
  end
end
return given_up
