-- bench.lua's requests, each naming one of 16 sessions in turn: the balancer figures' load.
--
-- wrk -s sessions.lua URL -- METHOD PATH BODY [NAME:VALUE ...]
-- Request i carries "X-Mockhub-Session: bench-<i mod 16>", so that a balancer spreads the load over
-- its processes as it spreads many suites' sessions. As in bench.lua, an empty BODY sends none and a
-- "{n}" in BODY becomes a number unique to the request; each session's request is formatted once.

local SESSIONS = 16
local NUMBER = "%03d-%09d"
local PLACEHOLDER = "~~~~~~~~~~~~~" -- as wide as NUMBER's output
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local requests = {} -- per session: the whole request, or the parts before and after the number
local sent = 0

function init(args)
  local method, path, body = args[1], args[2], args[3]
  if body == "" then
    body = nil
  end
  local headers = {}
  for i = 4, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local at = body and string.find(body, "{n}", 1, true)
  if at then
    body = body:sub(1, at - 1) .. PLACEHOLDER .. body:sub(at + 3)
  end
  for session = 0, SESSIONS - 1 do
    headers["X-Mockhub-Session"] = "bench-" .. session
    local formatted = wrk.format(method, path, headers, body)
    if at then
      local start, stop = string.find(formatted, PLACEHOLDER, 1, true)
      requests[session] = { formatted:sub(1, start - 1), formatted:sub(stop + 1) }
    else
      requests[session] = { formatted }
    end
  end
end

function request()
  sent = sent + 1
  local parts = requests[sent % SESSIONS]
  if parts[2] == nil then
    return parts[1]
  end
  return parts[1] .. string.format(NUMBER, thread_number, sent) .. parts[2]
end

-- done(): the shared report, from report.lua beside this script.
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
