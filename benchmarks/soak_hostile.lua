-- The soak's hostile traffic: the worst inputs each limit is there for, over and over.
--
-- wrk -s soak_hostile.lua URL
-- Huge headers and bodies (journal cuts and byte budget), deeply nested JSON (depth limit),
-- fault rules on ever new paths and long globs (rule limit, glob limit), ever new session
-- names (session limit: 503 once every session is in recent use), with ordinary reads in
-- between. Each request gets its own answer (400, 503 or 200); memory must stay flat.

local TOKEN = "mockhub-dev-token"
local n = 0
local checked = false
local JUNK = string.rep("j", 4000)
local BIG = string.rep("b", 512 * 1024)
local DEEP = string.rep("[", 5000) .. string.rep("]", 5000)
local GLOB = "/" .. string.rep("*a", 600)

local function headers(session)
  return {["Authorization"] = "Bearer " .. TOKEN, ["Content-Type"] = "application/json",
          ["X-Mockhub-Session"] = session}
end

function request()
  n = n + 1
  local h = headers("hostile-" .. (n % 40))
  if not checked then  -- wrk parses its first request itself
    checked = true
    return wrk.format("GET", "/api/v1/hubs", h)
  end
  local k = n % 8
  if k == 0 then
    for i = 1, 60 do h["X-Junk-" .. i] = JUNK end
    return wrk.format("GET", "/api/v1/hubs", h)
  elseif k == 1 then
    return wrk.format("POST", "/api/v1/hubs", h, '{"name": "big", "description": "' .. BIG .. '"}')
  elseif k == 2 then
    return wrk.format("POST", "/rest/v1/service/integration_points", h,
                      '{"code": "deep", "type": "im", "opts": {"roles": ' .. DEEP .. '}}')
  elseif k == 3 then
    return wrk.format("POST", "/__mockhub/faults", h,
                      string.format('{"path": "/api/v1/hubs/%d", "status": 503}', n))
  elseif k == 4 then
    return wrk.format("POST", "/__mockhub/faults", h, '{"path": "' .. GLOB .. '", "status": 503}')
  elseif k == 5 then
    return wrk.format("GET", "/api/v1/hubs", headers("flood-" .. n))
  elseif k == 6 then
    return wrk.format("GET", "/rest/v1/service/integration_points?limit=100", h)
  end
  return wrk.format("GET", "/api/v1/hubs?pageSize=100", h)
end

dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "report.lua")
