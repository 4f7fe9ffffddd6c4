-- wrk script: POSTs a JSON body of exactly BODY_BYTES bytes to the URL's path.
-- UNIQUE=1 makes every body different (the miss path), prefixed with SALT so no two slices of a run
-- share one; otherwise every request carries the same body (the hit path).
-- On exit it prints one line, `RESULT {json}`, with counts and latency percentiles in microseconds.
local size = tonumber(os.getenv("BODY_BYTES") or "1024")
local unique = os.getenv("UNIQUE") == "1"
local salt = os.getenv("SALT") or "0"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

-- `{"q":"<head>","pad":"xxx..."}` padded to exactly `size` bytes.
local function body_of(head)
  local fixed = #'{"q":"","pad":""}' + #head
  return '{"q":"' .. head .. '","pad":"' .. string.rep("x", size - fixed) .. '"}'
end

wrk.body = body_of("fixed")

local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

if unique then
  local pad_cache = {}
  request = function()
    counter = counter + 1
    -- `thread_id` is the global that setup() gave this thread's Lua state.
    local head = salt .. "-" .. (thread_id or 0) .. "-" .. counter
    local fixed = #'{"q":"","pad":""}' + #head
    local pad = pad_cache[fixed]
    if not pad then
      pad = string.rep("x", size - fixed)
      pad_cache[fixed] = pad
    end
    return wrk.format(nil, nil, nil, '{"q":"' .. head .. '","pad":"' .. pad .. '"}')
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
