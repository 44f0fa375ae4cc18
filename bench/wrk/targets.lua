-- wrk script: cycle through prepared requests, one per line of the targets file:
--   METHOD <tab> PATH <tab> HEADER: VALUE[|HEADER: VALUE...] <tab> BODY
-- Each thread starts at its own place in the list. At the end, one JSON line with the
-- latency percentiles (microseconds), requests and errors, for bench/run.py.
local requests_ = {}
local position = 0

function init(args)
  for line in io.lines(args[1]) do
    local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    local h = {}
    for pair in headers:gmatch("[^|]+") do
      local name, value = pair:match("^([^:]+):%s*(.*)$")
      h[name] = value
    end
    if body == "" then body = nil end
    requests_[#requests_ + 1] = wrk.format(method, path, h, body)
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  position = math.random(#requests_)
end

function request()
  position = position % #requests_ + 1
  return requests_[position]
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"mean_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
