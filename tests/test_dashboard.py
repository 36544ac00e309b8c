"""The live dashboard over HTTP: its page, its event stream and its verdicts, on ``serve`` and on the proxy.

The stream is read as a browser's fetch reads it: one long answer of server-sent events. Every other answer is
checked against the control API's contract by the ``api`` helper. The page in a real browser is
tests/test_dashboard_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from mockhub.contract.contracts import Contract
from mockhub.proxy import ProxySettings, create_proxy_app
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from mockhub.web.keys import SESSIONS
from tests.conftest import HUB_A, POINTS, TOKEN, Api, MakeApi

STREAM = "/__mockhub/ui/stream"
ADMIN_TOKEN = "s3cret-admin"
WAIT = 10.0
"""Seconds a test waits for an event before it fails (a guard, never a measure)."""


class Events:
    """A dashboard's event stream, read one event at a time (comments skipped)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> tuple[str, Any]:
        while True:
            block = await asyncio.wait_for(self.response.content.readuntil(b"\n\n"), WAIT)
            if not block:
                raise EOFError("the stream ended")
            fields = dict(line.split(": ", 1) for line in block.decode().strip().split("\n")
                          if not line.startswith(":"))
            if fields:
                return fields["event"], json.loads(fields["data"])

    async def next_request(self) -> dict[str, Any]:
        name, data = await self.next()
        assert name == "request", (name, data)
        found: dict[str, Any] = data
        return found


OpenStream = Callable[..., Awaitable[Events]]


@pytest.fixture
async def open_stream() -> AsyncIterator[OpenStream]:
    """Open a dashboard's stream on a test client (past its ``hello``), closed again after the test."""
    opened: list[aiohttp.ClientResponse] = []

    async def open_on(client: TestClient, headers: dict[str, str] | None = None) -> Events:
        response = await client.get(STREAM, headers=headers)
        assert response.status == 200, await response.text()
        opened.append(response)
        events = Events(response)
        name, hello = await events.next()
        assert name == "hello", (name, hello)
        return events

    yield open_on
    for response in opened:
        response.close()


async def test_the_page_and_its_assets_come_from_the_package_and_forbid_framing(api: Api) -> None:
    page = await api.get("/__mockhub/ui", token=None)
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert 'data-server="serve"' in html
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", html)  # nothing from elsewhere
    assets = re.findall(r"""(?:src|href)="(/__mockhub/ui/[\w.]+)\"""", html)
    assert sorted(assets) == ["/__mockhub/ui/dashboard.css", "/__mockhub/ui/dashboard.js"]
    script = await api.get("/__mockhub/ui/dashboard.js", token=None)
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert b"/__mockhub/ui/stream" in script.body
    style = await api.get("/__mockhub/ui/dashboard.css", token=None)
    assert style.headers["Content-Type"].startswith("text/css")


async def test_a_request_appears_on_an_open_stream_with_its_session_status_and_answer(
        api: Api, open_stream: OpenStream) -> None:
    assert api.client is not None
    events = await open_stream(api.client)
    await api.get(f"/api/v1/hubs/{HUB_A}", headers={"X-Mockhub-Session": "tab-1"})
    seen = await events.next_request()
    assert (seen["session"], seen["method"], seen["path"], seen["status"]) == ("tab-1", "GET", f"/api/v1/hubs/{HUB_A}",
                                                                              200)
    assert seen["headers"]["Authorization"] == "Bearer mock****"  # masked, as the journal shows it
    answer = seen["answer"]
    assert answer["status"] == 200
    assert answer["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(answer["body"])["hubId"] == HUB_A
    assert answer["body_cut"] is False
    await api.request("LOOKUP", POINTS, data='"ABCDE"', headers={"Content-Type": "application/json"}, token=None)
    lookup = await events.next_request()
    assert (lookup["method"], lookup["session"], lookup["status"]) == ("LOOKUP", "default", 200)


async def test_each_request_is_shown_on_the_stream_as_the_journal_shows_it(api: Api, open_stream: OpenStream) -> None:
    assert api.client is not None
    events = await open_stream(api.client)
    many = {f"X-Many-{number}": str(number) for number in range(70)}  # past the 64 headers an entry keeps
    sent = [("GET", f"/api/v1/hubs/{HUB_A}?pageSize=2", None, {}),
            ("POST", "/api/v1/hubs", b'{"name": "Shown \xc3\xa9", "description": "d"}', {}),
            ("GET", f"/api/v1/hubs/{HUB_A}", None, many),
            ("POST", "/api/v1/hubs", b'{"name": "\xff"}', {})]  # not UTF-8: shown replaced
    for method, path, body, headers in sent:
        await api.request(method, path, data=body, headers={"Content-Type": "application/json", **headers})
    shown = [await events.next_request() for _ in sent]
    journal = (await api.get("/__mockhub/requests", token=None)).json()
    assert [entry["cut"] for entry in journal] == [[], [], ["headers"], []]
    assert [{name: event[name] for name in entry} for event, entry in zip(shown, journal, strict=True)] == journal


async def test_faults_and_overrides_are_marked_and_a_reset_connection_has_no_answer(
        api: Api, open_stream: OpenStream) -> None:
    assert api.client is not None
    events = await open_stream(api.client)
    await api.post("/__mockhub/faults", {"id": "slow-down", "path": f"/api/v1/hubs/{HUB_A}", "status": 429})
    assert (await api.get(f"/api/v1/hubs/{HUB_A}")).status == 429
    limited = await events.next_request()
    assert (limited["status"], limited["fault"]) == (429, "429")
    assert json.loads(limited["answer"]["body"])["status"] == 429
    await api.delete("/__mockhub/faults")
    await api.post("/__mockhub/overrides", {"id": "gone", "method": "GET", "path": "/api/v1/hubs/*",
                                            "response": {"status": 404, "body": {"status": 404, "errors": [
                                                {"code": 105, "description": "Not found (code: PRT000105)"}]}}})
    await api.get(f"/api/v1/hubs/{HUB_A}")
    overridden = await events.next_request()
    assert (overridden["status"], overridden["override"]) == (404, "gone")
    await api.delete("/__mockhub/overrides")
    with pytest.raises(aiohttp.ClientError):  # the connection is reset
        await api.get(f"/api/v1/hubs/{HUB_A}", headers={"X-Mockhub-Fault": "reset"})
    reset = await events.next_request()
    assert (reset["fault"], reset["answer"]) == ("reset", None)


async def test_an_answer_longer_than_the_journal_keeps_is_cut_and_says_so(make_api: MakeApi,
                                                                          open_stream: OpenStream) -> None:
    api = await make_api(journal_body_bytes=100)
    assert api.client is not None
    events = await open_stream(api.client)
    await api.get("/api/v1/hubs?pageSize=50")
    answer = (await events.next_request())["answer"]
    assert answer["body_cut"] is True
    assert len(answer["body"].encode()) == 100


async def test_nothing_listens_to_the_journal_once_the_last_dashboard_has_gone(make_api: MakeApi,
                                                                               open_stream: OpenStream) -> None:
    """With no dashboard open a request pays one check of an empty list; a dashboard that leaves takes its
    listener along."""
    api = await make_api()
    assert api.client is not None
    feed = api.client.app[SESSIONS].journal_feed  # type: ignore[index]
    assert feed.listeners == []
    first, second = await open_stream(api.client), await open_stream(api.client)
    assert len(feed.listeners) == 1  # one listener, however many dashboards
    await api.get(f"/api/v1/hubs/{HUB_A}")
    assert (await first.next_request())["seq"] == (await second.next_request())["seq"] == 1
    first.response.close()
    second.response.close()
    for _ in range(100):  # the server notices a client that left at its next write: send it something
        await api.get(f"/api/v1/hubs/{HUB_A}")
        if not feed.listeners:
            break
        await asyncio.sleep(0.05)
    assert feed.listeners == []


async def test_past_the_open_streams_allowed_one_more_is_refused_until_one_closes(make_api: MakeApi,
                                                                                   open_stream: OpenStream) -> None:
    api = await make_api(dashboard_streams=1)
    assert api.client is not None
    first = await open_stream(api.client)
    refused = await api.get(STREAM)
    assert refused.status == 503
    assert "--dashboard-streams" in refused.json()["error"]
    assert refused.headers["Retry-After"]
    first.response.close()
    for _ in range(100):
        again = await api.client.get(STREAM)
        if again.status == 200:
            again.close()
            break
        again.close()
        await asyncio.sleep(0.05)
    else:
        pytest.fail("a closed dashboard's place was never free again")


async def test_a_dashboard_that_reads_too_slowly_is_told_how_many_requests_it_missed(
        make_api: MakeApi, open_stream: OpenStream) -> None:
    """Its queue is bounded in bytes: past it the oldest waiting requests go, and the stream says so."""
    api = await make_api(dashboard_queue_bytes=1)  # no request fits: each is dropped as it comes
    assert api.client is not None
    events = await open_stream(api.client)
    for _ in range(3):
        await api.get(f"/api/v1/hubs/{HUB_A}")
    missed = 0
    while missed < 3:
        name, data = await events.next()
        assert name == "dropped"
        missed += data["dropped"]
    assert missed == 3
    assert (await api.get(f"/api/v1/hubs/{HUB_A}")).status == 200  # the server goes on as ever


async def test_the_verdict_says_what_the_contract_declares_and_where_an_answer_breaks_it(api: Api) -> None:
    hub = (await api.get(f"/api/v1/hubs/{HUB_A}")).json()
    answer = {"method": "GET", "path": f"/api/v1/hubs/{HUB_A}", "status": 200,
              "headers": {"content-type": "application/json; charset=utf-8"}, "body": json.dumps(hub)}
    kept = (await api.post("/__mockhub/ui/verdict", answer)).json()
    assert kept == {"operation": "getHub", "expected": "200 application/json Hub", "problems": []}
    broken = (await api.post("/__mockhub/ui/verdict", {**answer, "status": 418,
                                                       "body": json.dumps({"hubId": 5})})).json()
    assert broken["problems"][0]["in"] == "status"
    wrong = (await api.post("/__mockhub/ui/verdict", {**answer, "body": json.dumps({**hub, "hubId": 5})})).json()
    assert [(p["in"], p["at"]) for p in wrong["problems"]] == [("body", "$.hubId")]
    unknown = (await api.post("/__mockhub/ui/verdict", {**answer, "path": "/api/v9/nothing", "status": 404})).json()
    assert unknown["operation"] is None
    refused = await api.post("/__mockhub/ui/verdict", {"method": "GET"})
    assert refused.status == 400


async def test_a_verdict_lists_the_first_hundred_problems_and_counts_the_rest_to_ten_thousand(api: Api) -> None:
    page = {"pageNumber": 0, "pageSize": 50, "total": 1, "results": [1] * 200_000}  # each item a problem
    answer = {"method": "GET", "path": "/api/v1/hubs", "status": 200,
              "headers": {"content-type": "application/json; charset=utf-8"}, "body": json.dumps(page)}
    verdict = (await api.post("/__mockhub/ui/verdict", answer)).json()
    assert len(verdict["problems"]) == 100 and verdict["more_problems"] == 9_900
    assert verdict["problems"][0]["at"] == "$.results[0]"
    assert (await api.get(f"/api/v1/hubs/{HUB_A}")).status == 200


async def test_the_dashboard_keeps_the_control_apis_rules(make_api: MakeApi) -> None:
    """A foreign Host and a foreign page are refused everywhere; with an admin token, the page and its assets
    (no data) open without it, the stream and the verdict need it."""
    api = await make_api(admin_token=ADMIN_TOKEN)
    for path in ("/__mockhub/ui", "/__mockhub/ui/dashboard.js", STREAM):
        rebound = await api.get(path, headers={"Host": "attacker.example"}, token=None)
        assert rebound.status == 403, path
        foreign = await api.get(path, headers={"Origin": "https://attacker.example"}, token=None)
        assert foreign.status == 403, path
    for path in ("/__mockhub/ui", "/__mockhub/ui/dashboard.js", "/__mockhub/ui/dashboard.css"):
        assert (await api.get(path, token=None)).status == 200, path
    page = (await api.get("/__mockhub/ui", token=None)).body.decode()
    assert 'data-token="required"' in page
    assert (await api.get(STREAM, token=None)).status == 401
    verdict = {"method": "GET", "path": "/api/v1/hubs", "status": 200, "headers": {}, "body": ""}
    assert (await api.post("/__mockhub/ui/verdict", verdict, token=None)).status == 401
    assert api.client is not None
    with_token = await api.client.get(STREAM, headers={"X-Mockhub-Admin-Token": ADMIN_TOKEN})
    assert with_token.status == 200
    with_token.close()


async def test_a_stop_ends_an_open_stream_at_once_with_bye(contract: Contract, admin_contract: Contract) -> None:
    """The stop does not wait its grace (here two minutes) for a dashboard: the stream says ``bye`` and ends."""
    app = create_app(Settings(shutdown_grace=120.0), contract=contract, admin_contract=admin_contract)
    server = MockhubTestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as session, session.get(server.make_url(STREAM)) as response:
        events = Events(response)
        assert (await events.next())[0] == "hello"
        stopping = asyncio.create_task(server.close())
        assert (await events.next())[0] == "bye"
        assert await asyncio.wait_for(response.content.read(), WAIT) == b""  # the answer ended, not cut
        await asyncio.wait_for(stopping, WAIT)


async def drifting_hub(request: web.Request) -> web.Response:
    """A target whose hub has a number for an id, and a path of the contract."""
    return web.json_response({"hubId": 5}, status=200)


async def test_the_proxys_view_shows_each_exchange_with_its_violations(aiohttp_client: Any, aiohttp_server: Any,
                                                                       contract: Contract,
                                                                       open_stream: OpenStream) -> None:
    target = web.Application()
    target.router.add_get("/{tail:.*}", drifting_hub)
    upstream = await aiohttp_server(target)
    proxy = await aiohttp_client(MockhubTestServer(create_proxy_app(
        ProxySettings(target=str(upstream.make_url("")).rstrip("/")), contract=contract)))
    page = await proxy.get("/__mockhub/ui")
    assert 'data-server="proxy"' in await page.text()
    events = await open_stream(proxy)
    forwarded = await proxy.get(f"/api/v1/hubs/{HUB_A}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert forwarded.status == 200
    seen = await events.next_request()
    assert (seen["session"], seen["status"], json.loads(seen["answer"]["body"])) == ("proxy", 200, {"hubId": 5})
    sides = {violation["side"] for violation in seen["violations"]}
    assert sides == {"response"}
    assert any(problem["at"] == "$.hubId" for violation in seen["violations"] for problem in violation["problems"])
