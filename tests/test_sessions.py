"""Isolated sessions inside one server (issue 12): parallel suites against one mock."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from mockhub.web.cookie_hosts import MAX_ORIGINS
from tests.conftest import HUB_A, Api, MakeApi, ManualTime
from tests.test_cli import serving

HUBS = "/api/v1/hubs"


def named(session: str, **headers: str) -> dict[str, str]:
    return {"X-Mockhub-Session": session, **headers}


async def total(api: Api, **headers: str) -> int:
    return int((await api.get(HUBS, headers=headers)).json()["total"])


async def test_two_sessions_do_not_see_each_others_data(api: Api) -> None:
    created = await api.post(HUBS, {"name": "Only in A", "description": ""}, headers=named("a"))
    assert created.status == 200
    assert await total(api, **named("a")) == 4
    assert await total(api, **named("b")) == 3
    assert await total(api) == 3  # the default session
    assert (await api.get(f"{HUBS}/{created.json()['hubId']}", headers=named("b"))).status == 404


async def test_a_new_session_starts_from_the_start_up_state(api: Api) -> None:
    await api.post(HUBS, {"name": "Changed default", "description": ""})
    fresh = await api.get("/__mockhub/state", token=None, headers=named("fresh"))
    await api.post("/__mockhub/reset", token=None)
    startup = await api.get("/__mockhub/state", token=None)
    assert fresh.body == startup.body
    # and the same requests give the same answers in both: same random sequence, same clock
    one = await api.post(HUBS, {"name": "Twin", "description": ""}, headers=named("one"))
    two = await api.post(HUBS, {"name": "Twin", "description": ""}, headers=named("two"))
    assert one.body == two.body


async def test_faults_and_rate_limits_stay_in_their_session(api: Api) -> None:
    await api.post("/__mockhub/faults", {"status": 503}, token=None, headers=named("flaky"))
    await api.post("/__mockhub/faults", {"rate_limit": {"requests": 1, "per_seconds": 60}}, token=None,
                   headers=named("limited"))
    assert (await api.get(HUBS, headers=named("flaky"))).status == 503
    assert [(await api.get(HUBS, headers=named("limited"))).status for _ in range(2)] == [200, 429]
    assert (await api.get(HUBS, headers=named("calm"))).status == 200
    assert (await api.get(HUBS)).status == 200


async def test_each_session_has_its_own_journal_marked_with_its_name(api: Api) -> None:
    await api.get(HUBS, headers=named("a"))
    await api.get(HUBS, headers=named("a"))
    await api.get(f"{HUBS}/{HUB_A}", headers=named("b"))
    a = (await api.get("/__mockhub/requests", token=None, headers=named("a"))).json()
    b = (await api.get("/__mockhub/requests", token=None, params={"session": "b"})).json()
    assert [(e["session"], e["path"]) for e in a] == [("a", HUBS), ("a", HUBS)]
    assert [(e["session"], e["path"]) for e in b] == [("b", f"{HUBS}/{HUB_A}")]
    assert (await api.get("/__mockhub/requests", token=None)).json() == []


async def test_the_cookie_selects_a_session_for_browser_apps(api: Api) -> None:
    await api.post(HUBS, {"name": "Cookie hub", "description": ""}, headers={"Cookie": "mockhub_session=tab-1"})
    assert await total(api, Cookie="theme=dark; mockhub_session=tab-1") == 4
    assert await total(api, Cookie="mockhub_session=tab-2") == 3
    # the header wins over the cookie
    assert await total(api, Cookie="mockhub_session=tab-1", **named("tab-2")) == 3


async def test_admin_calls_act_on_the_named_session(api: Api) -> None:
    await api.post(HUBS, {"name": "To be reset", "description": ""}, headers=named("s"))
    await api.post(HUBS, {"name": "Kept", "description": ""})
    assert (await api.post("/__mockhub/reset", token=None, headers=named("s"))).json()["session"] == "s"
    assert await total(api, **named("s")) == 3
    assert await total(api) == 4
    put = await api.request("PUT", "/__mockhub/state", token=None, params={"session": "s"},
                            json_body={"tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222",
                                                    "tokens": ["mockhub-dev-token"]}]})
    assert put.json()["session"] == "s"
    assert await total(api, **named("s")) == 0
    assert await total(api) == 4


async def test_sessions_are_listed_and_dropped(api: Api) -> None:
    await api.post(HUBS, {"name": "Gone soon", "description": ""}, headers=named("temp"))
    await api.post("/__mockhub/faults", {"status": 408}, token=None, headers=named("temp"))
    listed = (await api.get("/__mockhub/sessions", token=None)).json()
    assert [(s["name"], s["requests"], s["faults"]) for s in listed] == [("default", 0, 0), ("temp", 1, 1)]
    assert (await api.delete("/__mockhub/sessions/temp", token=None)).status == 200
    assert (await api.delete("/__mockhub/sessions/temp", token=None)).status == 404
    assert await total(api, **named("temp")) == 3  # used again: a fresh session
    refused = await api.delete("/__mockhub/sessions/default", token=None)
    assert refused.status == 400
    assert "reset it" in refused.json()["error"]


async def test_the_least_recently_used_session_is_evicted_and_logged(make_api: MakeApi,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    api = await make_api(max_sessions=3, session_busy_seconds=0)  # the default and two named ones
    caplog.set_level(logging.INFO, logger="mockhub")
    await api.post(HUBS, {"name": "Old", "description": ""}, headers=named("old"))
    await api.post(HUBS, {"name": "Kept", "description": ""}, headers=named("kept"))
    await api.get(HUBS, headers=named("old"))  # old is now more recent than kept
    await api.get(HUBS, headers=named("new"))
    names = [s["name"] for s in (await api.get("/__mockhub/sessions", token=None)).json()]
    assert names == ["default", "old", "new"]
    assert "session 'kept' evicted: the most sessions are in use" in caplog.text
    assert await total(api, **named("old")) == 4
    assert await total(api, **named("kept")) == 3  # started afresh


async def test_a_flood_of_new_sessions_cannot_evict_one_in_use(make_api: MakeApi) -> None:
    api = await make_api(max_sessions=3)  # the default, the victim and one more
    await api.post(HUBS, {"name": "Mine", "description": ""}, headers=named("victim"))
    await api.get(HUBS, headers=named("flood-0"))
    portal = await api.get(HUBS, headers=named("flood-1"))
    assert portal.status == 503
    assert portal.headers["Retry-After"].isdigit()
    description = portal.json()["errors"][0]["description"]
    assert "--max-sessions" in description and "(code: PRT000104)" in description
    era = await api.get("/rest/v1/service/integration_points", headers=named("flood-2"))
    assert (era.status, era.json()["error_code"]) == (503, 1503)
    admin = await api.get("/__mockhub/requests", token=None, headers=named("flood-3"))
    assert admin.status == 503 and "--max-sessions" in admin.json()["error"]
    assert await total(api, **named("victim")) == 4  # its data is still there
    names = [s["name"] for s in (await api.get("/__mockhub/sessions", token=None)).json()]
    assert sorted(names) == ["default", "flood-0", "victim"]


async def test_a_session_quiet_for_longer_than_busy_makes_room(make_api: MakeApi) -> None:
    time = ManualTime()
    api = await make_api(max_sessions=3, session_busy_seconds=60, monotonic=time)
    await api.get(HUBS, headers=named("first"))
    time.advance(1)
    await api.get(HUBS, headers=named("second"))
    time.advance(58)
    assert (await api.get(HUBS, headers=named("third"))).status == 503  # both used within the last minute
    time.advance(2)  # "first" was last used 61 s ago, "second" 60 s ago
    assert (await api.get(HUBS, headers=named("third"))).status == 200
    names = [s["name"] for s in (await api.get("/__mockhub/sessions", token=None)).json()]
    assert names == ["default", "second", "third"]


async def test_an_idle_session_expires(make_api: MakeApi, caplog: pytest.LogCaptureFixture) -> None:
    time = ManualTime()
    api = await make_api(session_idle_seconds=600, monotonic=time)
    caplog.set_level(logging.INFO, logger="mockhub")
    await api.post(HUBS, {"name": "Idle", "description": ""}, headers=named("idle"))
    time.advance(601)
    await api.get(HUBS, headers=named("busy"))
    assert [s["name"] for s in (await api.get("/__mockhub/sessions", token=None)).json()] == ["default", "busy"]
    assert re.search(r"session 'idle' evicted: idle for \d+ s", caplog.text)


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "ünï"])
async def test_a_bad_session_name_is_400_in_the_apis_format(api: Api, name: str) -> None:
    portal = await api.get(HUBS, headers=named(name))
    assert portal.status == 400
    assert "X-Mockhub-Session" in portal.json()["errors"][0]["description"]
    era = await api.get("/rest/v1/service/integration_points", headers=named(name))
    assert era.status == 400
    assert era.json()["error_code"] == 1400
    admin = await api.get("/__mockhub/requests", token=None, headers=named(name))
    assert admin.status == 400


async def test_parallel_suites_in_their_own_sessions_do_not_collide(api: Api) -> None:
    async def suite(session: str) -> list[int]:
        statuses = []
        for i in range(10):
            reply = await api.post(HUBS, {"name": f"Shared name {i}", "description": ""}, headers=named(session))
            statuses.append(reply.status)
        reply = await api.get(HUBS, params={"pageSize": "100"}, headers=named(session))
        statuses.append(reply.json()["total"])
        return statuses

    results = await asyncio.gather(*(suite(f"worker-{n}") for n in range(4)))
    assert all(r == [200] * 10 + [13] for r in results)


async def test_cors_allows_the_session_header(api: Api) -> None:
    assert api.client is not None
    async with api.client.options(HUBS, headers={"Origin": "http://localhost:3000",
                                                 "Access-Control-Request-Method": "POST"}) as response:
        assert "X-Mockhub-Session" in response.headers["Access-Control-Allow-Headers"]


def test_the_access_log_shows_the_session() -> None:
    import urllib.request

    with serving() as (process, url):
        request = urllib.request.Request(f"{url}/__mockhub/requests", headers={"X-Mockhub-Session": "e2e-7"})
        assert json.load(urllib.request.urlopen(request, timeout=10)) == []
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        log = process.stderr.read()
    assert re.search(r'"GET /__mockhub/requests" 200 \S+ms session=e2e-7$', log, re.M), log


async def test_on_the_admin_api_an_explicit_session_parameter_beats_the_cookie(api: Api) -> None:
    await api.get(HUBS, headers=named("from-query"))
    listed = await api.get("/__mockhub/requests", token=None, params={"session": "from-query"},
                           headers={"Cookie": "mockhub_session=from-cookie"})
    assert [e["session"] for e in listed.json()] == ["from-query"]


async def test_a_request_waiting_while_its_session_is_dropped_or_reset_stays_with_the_state_it_came_to(
        api: Api) -> None:
    """A delayed request is applied to the state it arrived in, then waits: dropping or resetting the session
    meanwhile takes it away with that state, and its exchange with that journal (it used to run on the store
    being freed: a 500; or, after a reset, to land in the next state, as a test's in the next test's)."""
    created = await api.post(HUBS, {"name": "Before the drop", "description": ""}, headers=named("gone"))
    assert created.status == 200
    slow = {"X-Mockhub-Delay": "300"}
    waiting_read = asyncio.create_task(api.get(HUBS, headers=named("gone", **slow)))
    waiting_write = asyncio.create_task(api.post(HUBS, {"name": "Gone with it", "description": ""},
                                                 headers=named("gone", **slow)))
    waiting_default = asyncio.create_task(api.post(HUBS, {"name": "Reset away", "description": ""}, headers=slow))
    await asyncio.sleep(0.1)
    assert (await api.delete("/__mockhub/sessions/gone", token=None)).status == 200
    assert (await api.post("/__mockhub/reset", token=None)).status in (200, 204)
    read, write, default = await waiting_read, await waiting_write, await waiting_default
    assert (read.status, write.status, default.status) == (200, 200, 200)
    assert "Before the drop" in [hub["name"] for hub in read.json()["results"]]  # read where it arrived
    for headers in (named("gone"), {}):
        names = [hub["name"] for hub in (await api.get(HUBS, headers=headers)).json()["results"]]
        assert not {"Before the drop", "Gone with it", "Reset away"} & set(names)
        journal = (await api.get("/__mockhub/requests", token=None, headers=headers)).json()
        assert [(e["seq"], e["method"]) for e in journal] == [(1, "GET")]  # numbered from 1 again


async def test_a_refused_or_sessionless_control_call_makes_no_session(make_api: MakeApi) -> None:
    """The session was looked for (made, maybe evicting another) before the Host and token were checked, and
    health answered a browser 503 or 400 for the session cookie it sends along."""
    api = await make_api(admin_token="sekret", max_sessions=3, session_busy_seconds=0)
    admin = {"X-Mockhub-Admin-Token": "sekret"}
    assert (await api.post(HUBS, {"name": "mine", "description": ""}, headers=named("w1"))).status == 200
    for intruder in ("intruder", "intruder2"):
        assert (await api.get("/__mockhub/requests", token=None, params={"session": intruder})).status == 401
    assert [s["name"] for s in (await api.get("/__mockhub/sessions", token=None, headers=admin)).json()] == [
        "default", "w1"]
    for cookie in ("mockhub_session=a/b", "mockhub_session=new-one"):
        health = await api.get("/__mockhub/health", token=None, headers={"Cookie": cookie})
        assert health.status == 200
    assert (await total(api, **named("w1"))) == 4  # still there


async def test_idle_sessions_go_whatever_traffic_comes(make_api: MakeApi) -> None:
    api = await make_api(session_idle_seconds=0.2)
    assert (await api.post(HUBS, {"name": "idle", "description": ""}, headers=named("idle"))).status == 200
    for _ in range(4):  # only default-session traffic from here
        await asyncio.sleep(0.15)
        assert (await api.get(HUBS)).status == 200
    assert [s["name"] for s in (await api.get("/__mockhub/sessions", token=None)).json()] == ["default"]


async def test_a_request_whose_body_comes_after_a_reset_is_applied_and_journaled_together(api: Api) -> None:
    """A request is applied once it is whole: a reset while its body came (the next test starting) gave it the
    new state without a journal entry, so the journal and the state disagreed."""
    import socket

    assert api.client is not None
    port = int(api.client.server.port)  # type: ignore[arg-type]
    body = json.dumps({"name": "Whole after the reset", "description": ""}).encode()
    head = (f"POST {HUBS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer mockhub-dev-token\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + body[:10])
        await asyncio.sleep(0.1)
        assert (await api.post("/__mockhub/reset", token=None)).status in (200, 204)
        sock.sendall(body[10:])
        answer = await asyncio.to_thread(sock.recv, 65536)
    assert answer.startswith(b"HTTP/1.1 200")
    names = [hub["name"] for hub in (await api.get(HUBS)).json()["results"]]
    journal = [(e["method"], e["path"]) for e in (await api.get("/__mockhub/requests", token=None)).json()]
    assert "Whole after the reset" in names and ("POST", HUBS) in journal


def cookie_traps(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mockhub" and "naming no session" in r.getMessage()]


async def test_a_page_on_another_host_name_naming_no_session_is_warned_of_the_cookie_trap(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """A page on localhost:5173 sets its mockhub_session cookie; the browser sends it to localhost only, so its
    calls to the mock on 127.0.0.1 land in the default session, silently. The log now says why, once."""
    caplog.set_level(logging.WARNING, logger="mockhub")
    page = {"Origin": "http://localhost:5173"}
    await api.get(HUBS, headers=page)
    assert cookie_traps(caplog) == []  # no named session: nothing is lost
    await api.get(HUBS, headers=named("tab-1"))
    for _ in range(3):
        await api.get(HUBS, headers=page)
    assert (await api.request("POST", "/__mockhub/reset", token=None, headers=page)).status == 200
    [line] = cookie_traps(caplog)  # once for that page
    assert "http://localhost:5173" in line and "127.0.0.1" in line and "default session" in line
    assert "mockhub_session" in line and "X-Mockhub-Session" in line and "\n" not in line
    # A page on the host name it calls, or one naming its session, is in no trap.
    await api.get(HUBS, headers={"Origin": "http://127.0.0.1:5173"})
    await api.get(HUBS, headers={"Origin": "http://localhost:3000", "Cookie": "mockhub_session=tab-1"})
    await api.get(HUBS, headers=named("tab-1", Origin="http://localhost:3001"))
    assert len(cookie_traps(caplog)) == 1
    await api.get(HUBS, headers={"Origin": "http://localhost:3002", "Cookie": "theme=dark"})
    assert len(cookie_traps(caplog)) == 2


async def test_the_cookie_trap_is_said_for_a_bounded_number_of_pages(api: Api,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mockhub")
    await api.get(HUBS, headers=named("tab-1"))
    for port in range(MAX_ORIGINS + 20):
        await api.get(HUBS, headers={"Origin": f"http://localhost:{3000 + port}"})
    assert len(cookie_traps(caplog)) == MAX_ORIGINS
