-- wrk script: Coral Talk's calls to a Perspective endpoint, POST
-- /perspective/v1alpha1/comments:analyze (or :suggestscore with VIGIE_OPERATION) with `?key=`,
-- bodies from perspective_bodies.py. VIGIE_RATE as in intake.lua: a fixed rate over all
-- connections, or as fast as the server answers when unset.
local requests = {}
local n = 0
local wait_ms = 0

function init(args)
  local rate = tonumber(os.getenv("VIGIE_RATE") or "0")
  local connections = tonumber(os.getenv("VIGIE_CONNECTIONS") or "1")
  if rate > 0 then wait_ms = connections * 1000 / rate end
  local path = "/perspective/v1alpha1/" .. (os.getenv("VIGIE_OPERATION") or "comments:analyze")
    .. "?key=" .. os.getenv("VIGIE_PERSPECTIVE_KEY")
  for body in io.lines(os.getenv("VIGIE_PERSPECTIVE_BODIES")) do
    requests[#requests + 1] = wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
  end
  n = (tonumber(os.getenv("VIGIE_OFFSET") or "0") + math.random(0, #requests - 1))
end

function delay()
  return wait_ms
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
