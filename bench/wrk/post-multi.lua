-- Like post.lua, but spreads the requests round-robin over the endpoints in
-- $WRK_PATHS (comma-separated, e.g. "/api0,/api1"), each connection starting
-- at a different one: load on several APIs of one server.
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()
local paths = {}
for p in string.gmatch(os.getenv("WRK_PATHS") or "/", "[^,]+") do
  paths[#paths + 1] = p
end
local requests = {}
local n = 0

-- wrk has set the Host header by the time init runs.
function init(args)
  for i, p in ipairs(paths) do
    requests[i] = wrk.format("POST", p, { ["Host"] = wrk.headers["Host"], ["Content-Type"] = "application/json" }, body)
  end
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
