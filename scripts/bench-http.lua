-- wrk script of scripts/bench-http.sh: each request is POST /v1/check with one ID, drawn at
-- random from the file named by the first script argument (one ID a line: the hit/miss/related
-- mix the bench script writes). done() prints one machine-readable line:
--   wrk-result rps=R p50=US p99=US max=US requests=N errors=E
-- (errors: connect, read, write, timeout and non-2xx/3xx answers).
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local ids = {}
local count = 0

function init(args)
  for line in io.lines(args[1]) do
    count = count + 1
    ids[count] = line
  end
  -- A different sequence per thread; thread_number is set by setup().
  math.randomseed(7919 * (thread_number or 1))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  return wrk.format(nil, nil, nil, '{"ids":["' .. ids[math.random(count)] .. '"]}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk-result rps=%.1f p50=%d p99=%d max=%d requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), latency.max, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
