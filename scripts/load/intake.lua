-- wrk script: POST /v1/comments with real comment bodies and a unique external_id per request.
local bodies = {}
local n = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("VIGIE_BODIES") or "target/load/bodies.jsonl"
  for line in io.lines(path) do bodies[#bodies + 1] = line end
  run = os.getenv("VIGIE_RUN") or tostring(os.time())
end

function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  local payload = string.format(
    '{"external_id":"%s-%d-%d","thread":{"id":"article-%d","url":"https://example.fr/a/%d","title":"Article"},' ..
    '"author":{"id":"u-%d","name":"Lecteur","email":"u%d@example.fr"},"body":%s,"client":{"ip":"192.0.2.%d"}}',
    run, tid, n, n % 200, n % 200, n % 5000, n % 5000, body, n % 250)
  return wrk.format("POST", "/v1/comments", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("VIGIE_KEY"),
  }, payload)
end

local codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p90=%.2fms p99=%.2fms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
