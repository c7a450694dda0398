-- Each request takes a random line of the file named by the first argument (a path with its
-- query). With "POST" and a token after it, each request posts an empty JSON body with that
-- token. Used by benchmarks/run.py: `wrk ... -s paths.lua URL -- FILE [POST TOKEN]`.
local paths, method, headers, body = {}, "GET", {}, nil

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  if args[2] == "POST" then
    method, body = "POST", "{}"
    headers["Authorization"] = "Token " .. args[3]
    headers["Content-Type"] = "application/json"
  end
  -- Each thread draws its own sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))
end

function request()
  return wrk.format(method, paths[math.random(#paths)], headers, body)
end
