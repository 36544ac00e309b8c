-- The soak's traffic: a mix of both APIs' reads, writes, errors, faults and sessions.
--
-- wrk -s soak.lua URL  (the built-in dataset's token; arguments after -- are ignored)
-- Every request of the twelve shapes below, in turn, in one of 30 sessions (more than the
-- server keeps, so sessions are evicted and made again all the time). Hub names cycle over
-- 500 per session, so the state stays bounded and later creates are refused as taken: any
-- memory growth is a leak, not data.

local TOKEN = "mockhub-dev-token"
local n = 0
local checked = false
local HUB = "/api/v1/hubs/3bc1e69f-c520-446f-ab2c-01751fd66a31"
local POINT = "/rest/v1/service/integration_points/b4680fbe-016c-d86f-1d6b-50e54938780c"

local function headers(session)
  return {["Authorization"] = "Bearer " .. TOKEN, ["Content-Type"] = "application/json",
          ["X-Mockhub-Session"] = session}
end

function request()
  n = n + 1
  local h = headers("soak-" .. (n * 7 % 30))
  if not checked then  -- wrk parses its first request itself and knows no LOOKUP (see bench.lua)
    checked = true
    return wrk.format("GET", "/api/v1/hubs", h)
  end
  local k = n % 12
  if k == 0 then
    return wrk.format("POST", "/api/v1/hubs", h, string.format('{"name": "Soak %d", "description": "soak"}', n % 500))
  elseif k == 1 then
    return wrk.format("GET", "/api/v1/hubs?pageSize=50", h)
  elseif k == 2 then
    return wrk.format("LOOKUP", "/rest/v1/service/integration_points", h, '"ABCDE"')
  elseif k == 3 then
    return wrk.format("GET", HUB, h)
  elseif k == 4 then
    return wrk.format("PUT", HUB, h, '{"statusId": 2002}')
  elseif k == 5 then
    return wrk.format("GET", "/rest/v1/service/integration_points?limit=10&mask=id,opts.title&flat=true", h)
  elseif k == 6 then
    return wrk.format("GET", "/api/v1/integrations?pageSize=10", h)
  elseif k == 7 then
    h["X-Mockhub-Fault"] = "503"
    return wrk.format("GET", "/api/v1/hubs", h)
  elseif k == 8 then
    return wrk.format("POST", "/api/v1/hubs", h, '{"statusId": 1, "color": "red"}')
  elseif k == 9 then
    return wrk.format("GET", "/api/v1/hubs/not-a-guid", h)
  elseif k == 10 then
    h["Authorization"] = "Bearer nobody"
    return wrk.format("GET", "/api/v1/hubs", h)
  end
  return wrk.format("PATCH", POINT, h, '{"opts": {"title": "soak"}}')
end

-- done(): the shared report, from report.lua beside this script.
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
