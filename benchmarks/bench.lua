-- The wrk script of every mockhub benchmark: one request shape, and a JSON report.
--
-- wrk -s bench.lua URL -- METHOD PATH BODY [NAME:VALUE ...]
-- An empty BODY sends none. A "{n}" in BODY becomes a number unique to the request (the
-- thread's number and a counter, fixed width: the request is formatted once, and each one
-- only fills the number in), so a POST can create a new hub each time. done() prints one
-- line, "WRK_RESULT {json}", which the harness reads.
--
-- Custom verbs (LOOKUP) work too: wrk checks the first request() of its first thread with
-- its own HTTP parser, which knows no custom verb, and never sends it; that one call gets
-- the same request as a POST.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local NUMBER = "%03d-%09d"
local PLACEHOLDER = "~~~~~~~~~~~~~" -- as wide as NUMBER's output
local path, headers, body, fixed, before, after
local sent = 0
local checked = false

function init(args)
  local method
  method, path, body = args[1], args[2], args[3]
  if body == "" then
    body = nil
  end
  headers = {}
  for i = 4, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  local at = body and string.find(body, "{n}", 1, true)
  if not at then
    fixed = wrk.format(method, path, headers, body)
    return
  end
  local template = wrk.format(method, path, headers, body:sub(1, at - 1) .. PLACEHOLDER .. body:sub(at + 3))
  local start, stop = string.find(template, PLACEHOLDER, 1, true)
  before, after = template:sub(1, start - 1), template:sub(stop + 1)
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
  return before .. string.format(NUMBER, thread_number, sent) .. after
end

-- done(): the shared report, from report.lua beside this script.
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
