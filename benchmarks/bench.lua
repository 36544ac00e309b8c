-- The wrk script of every mockhub benchmark: one request shape, and a JSON report.
--
-- wrk -s bench.lua URL -- METHOD PATH BODY [NAME:VALUE ...]
-- An empty BODY sends none. Each "{n}" in BODY becomes a number unique to the request
-- (per wrk thread, prefixed with the thread's number), so a POST can create a new hub each
-- time. done() prints one line, "WRK_RESULT {json}", which the harness reads.
--
-- Custom verbs (LOOKUP) work too: wrk checks the first request() of its first thread with
-- its own HTTP parser, which knows no custom verb, and never sends it; that one call gets
-- the same request as a POST.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local method, path, headers, body, fixed
local sent = 0
local checked = false

function init(args)
  method, path, body = args[1], args[2], args[3]
  if body == "" then
    body = nil
  end
  headers = {}
  for i = 4, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  if body == nil or not string.find(body, "{n}", 1, true) then
    fixed = wrk.format(method, path, headers, body)
  end
end

function request()
  if not checked and thread_number == 1 then
    checked = true
    return wrk.format("POST", path, headers, body)
  end
  if fixed ~= nil then
    return fixed
  end
  sent = sent + 1
  local unique = (string.gsub(body, "{n}", thread_number .. "-" .. sent))
  return wrk.format(method, path, headers, unique)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"latency_mean_us": %.1f, "latency_p50_us": %d, "latency_p99_us": %d, "latency_max_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99), latency.max))
end
