-- wrk script: Coral Talk's external moderation phase, POST /v1/integrations/coral/moderate with
-- pre-signed requests (coral_bodies.py). VIGIE_RATE as in intake.lua: a fixed rate over all
-- connections, or as fast as the server answers when unset.
local requests = {}
local n = 0
local wait_ms = 0

function init(args)
  local rate = tonumber(os.getenv("VIGIE_RATE") or "0")
  local connections = tonumber(os.getenv("VIGIE_CONNECTIONS") or "1")
  if rate > 0 then wait_ms = connections * 1000 / rate end
  for line in io.lines(os.getenv("VIGIE_CORAL_REQUESTS")) do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", "/v1/integrations/coral/moderate", {
      ["Content-Type"] = "application/json",
      ["User-Agent"] = "Coral Moderation/9.11.8",
      ["X-Coral-Signature"] = sig,
    }, body)
  end
  -- Each thread starts at its own offset so that no two send the same request.
  n = (tonumber(os.getenv("VIGIE_OFFSET") or "0") + math.random(0, #requests - 1))
end

function delay()
  return wait_ms
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

local codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
