-- wrk script: POST /v1/comments with real comment bodies and a unique external_id per request.
-- 100,000 authors in turn: at 5,000 comments/s each posts every 20 s, under the default
-- per-author rate (5 a minute), so the rule is evaluated but does not hold the load.
local bodies = {}
local n = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

-- VIGIE_RATE (comments/s over all connections, VIGIE_CONNECTIONS of them, VIGIE_THREADS
-- threads): each connection waits between a response and its next request; the wait is
-- corrected every second from the rate reached (wrk is closed-loop: the wait has to leave
-- room for the latency). Read the achieved rate in wrk's "Requests/sec".
local wait_ms = 0
local target = 0       -- responses per second wanted from this thread
local per_thread = 1   -- connections of this thread
local second, seen = 0, 0

function init(args)
  local rate = tonumber(os.getenv("VIGIE_RATE") or "0")
  local threads_n = tonumber(os.getenv("VIGIE_THREADS") or "1")
  per_thread = tonumber(os.getenv("VIGIE_CONNECTIONS") or "1") / threads_n
  if rate > 0 then
    target = rate / threads_n
    wait_ms = per_thread * 1000 / target
  end
  local path = os.getenv("VIGIE_BODIES") or "target/load/bodies.jsonl"
  for line in io.lines(path) do bodies[#bodies + 1] = line end
  run = os.getenv("VIGIE_RUN") or tostring(os.time())
end

function delay()
  return wait_ms
end

function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  local payload = string.format(
    '{"external_id":"%s-%d-%d","thread":{"id":"article-%d","url":"https://example.fr/a/%d","title":"Article"},' ..
    '"author":{"id":"u-%d","name":"Lecteur","email":"u%d@example.fr"},"body":%s,"client":{"ip":"192.0.2.%d"}}',
    run, tid, n, n % 200, n % 200, n % 100000, n % 100000, body, n % 250)
  return wrk.format("POST", "/v1/comments", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("VIGIE_KEY"),
  }, payload)
end

local codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if target > 0 then
    local now = os.time()
    if now ~= second then
      if seen > 0 and second > 0 then
        -- Wanted per_thread/target s between requests of a connection, had per_thread/seen;
        -- half of the difference each second (latency moves with the rate: no overshoot).
        wait_ms = math.max(0, wait_ms + (per_thread / target - per_thread / seen) * 500)
      end
      second, seen = now, 0
    end
    seen = seen + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p90=%.2fms p99=%.2fms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
