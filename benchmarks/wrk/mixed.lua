-- A mixed load for benchmarks/soak.py: `wrk ... -s mixed.lua URL -- READS WRITES TOKEN SHARE`.
-- Each request is a write (an empty JSON POST with the token, to a random line of WRITES) with
-- probability SHARE percent, else a GET of a random line of READS. done() prints the count of
-- 5xx and 429 answers, which wrk's own summary lumps in with every other non-2xx.
local reads, writes, token, share = {}, {}, nil, 10
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do reads[#reads + 1] = line end
  for line in io.lines(args[2]) do writes[#writes + 1] = line end
  token, share = args[3], tonumber(args[4])
  server_errors, throttled = 0, 0
  -- Each thread draws its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))
end

function request()
  if math.random(100) <= share then
    local headers = {["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json"}
    return wrk.format("POST", writes[math.random(#writes)], headers, "{}")
  end
  return wrk.format("GET", reads[math.random(#reads)])
end

function response(status, headers, body)
  if status >= 500 then
    server_errors = server_errors + 1
  elseif status == 429 then
    throttled = throttled + 1
  end
end

function done(summary, latency, requests)
  local errors, refused = 0, 0
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("server_errors")
    refused = refused + thread:get("throttled")
  end
  io.write(string.format("5xx: %d\n429: %d\n", errors, refused))
end
