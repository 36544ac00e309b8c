"""``mockhub proxy``: transparent forwarding, contract checks of both sides, upstream faults, recording.

The proxy runs in front of a real mockhub server, or of a drifting server written here; every
answer the tests read through it is checked against the contracts, the control API's included.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.proxy import ProxySettings, create_proxy_app
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from tests.conftest import (
    CLOCK,
    HUB_A,
    HUB_A3,
    HUB_B,
    OTHER_TOKEN,
    POINT_ABCDE,
    POINTS,
    RESPONSE_A,
    TOKEN,
    TRANSFER_A,
    Api,
    Reply,
    raw_exchange,
)
from tests.test_cli import get_json, serving

Serve = Callable[..., Awaitable[TestClient]]
MakeProxy = Callable[..., Awaitable[Api]]
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def serve(aiohttp_client: Any) -> Serve:
    """Serve an app on a real port, as ``mockhub serve`` does (custom verbs included)."""

    async def start(app: web.Application) -> TestClient:
        client: TestClient = await aiohttp_client(MockhubTestServer(app))
        return client

    return start


@pytest.fixture
def make_proxy(serve: Serve, checker: ResponseChecker, contract: Contract) -> MakeProxy:
    """A proxy in front of ``target`` (a URL), with a checked client."""

    async def make(target: str, **settings: Any) -> Api:
        app = create_proxy_app(ProxySettings(target=target, **settings), contract=contract)
        return Api(await serve(app), checker)

    return make


def url_of(client: TestClient) -> str:
    return str(client.server.make_url("")).rstrip("/")


async def mock(serve: Serve, contract: Contract, **settings: Any) -> TestClient:
    settings.setdefault("clock", CLOCK)
    return await serve(create_app(Settings(**settings), contract=contract))


async def raw(client: TestClient, method: str, path: str, **kw: Any) -> Reply:
    """A request that no checker sees (for answers that break the contract on purpose)."""
    async with client.request(method, path, **kw) as response:
        return Reply(response.status, response.headers, await response.read())


async def violations(proxy: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await proxy.get("/__mockhub/violations", token=None)).json()
    return found


# -- transparent forwarding ------------------------------------------------------------------

EXCHANGES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/hubs?pageSize=2&pageNumber=1", {}),
    ("GET", f"/api/v1/hubs/{HUB_A}", {}),
    ("POST", "/api/v1/hubs", {"json": {"name": "Support", "description": "d", "closeDormantConversation": 3}}),
    ("PUT", f"/api/v1/hubs/{HUB_A}", {"json": {"statusId": 2002}}),
    ("GET", f"/api/v1/integrations/hubs/{HUB_A}/WebChat", {}),
    ("GET", f"/api/v1/hubs/{HUB_A}", {"token": OTHER_TOKEN}),
    ("GET", "/api/v1/hubs/not-a-guid", {}),
    ("GET", "/api/v1/hubs", {"token": None}),
    ("GET", f"{POINTS}?mask=code,opts.title&flat=true", {}),
    ("LOOKUP", POINTS, {"json": "ABCDE"}),
    ("POST", POINTS, {"json": "902", "headers": {"X-HTTP-Method-Override": "LOOKUP"}}),
    ("LOOKUP", POINTS, {"json": "nope"}),
    ("PATCH", f"{POINTS}/{POINT_ABCDE}", {"json": {"token_remote": "00ea293c29f9dc30"}}),
    ("DELETE", f"{POINTS}/{POINT_ABCDE}", {}),
    ("GET", f"{POINTS}/{POINT_ABCDE}", {}),
    ("DELETE", f"/api/v1/hubs/{HUB_A}", {}),
]


def request_of(path: str, options: dict[str, Any]) -> dict[str, Any]:
    token = options.get("token", TOKEN)
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **options.get("headers", {})}
    if "json" in options:
        return {"headers": {**headers, **JSON}, "data": json.dumps(options["json"])}
    return {"headers": headers}


async def test_answers_through_the_proxy_are_those_of_the_server_byte_for_byte(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    direct = await mock(serve, contract)
    behind = await mock(serve, contract)  # a twin: the same data, seed and clock
    proxy = await make_proxy(url_of(behind))
    for method, path, options in EXCHANGES:
        expected = await raw(direct, method, path, **request_of(path, options))
        assert proxy.client is not None
        got = await raw(proxy.client, method, path, **request_of(path, options))
        assert (got.status, got.body) == (expected.status, expected.body), f"{method} {path}"
        same = {k: v for k, v in expected.headers.items() if k != "Date"}
        assert {k: v for k, v in got.headers.items() if k != "Date"} == same, f"{method} {path}"
        assert not proxy.checker.check(method, path.split("?")[0], got.status, got.headers, got.body)
    # No answer broke the contract; two requests did, on purpose (a malformed id, no token).
    assert [(v["side"], v["path"], v["status"]) for v in await violations(proxy)] == [
        ("request", "/api/v1/hubs/not-a-guid", 400), ("request", "/api/v1/hubs", 401)]
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        (m, p.split("?")[0], s) for (m, p, _), s in zip(EXCHANGES, [e["status"] for e in journal], strict=True)]
    assert journal[0]["query"] == "pageSize=2&pageNumber=1"
    assert journal[0]["headers"]["Authorization"] == "Bearer mock****"


async def test_the_target_gets_the_request_as_sent_with_its_own_host_and_no_hop_by_hop_fields(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind))
    assert proxy.client is not None
    body = b'{"name":"Raw",  "description":"spaces kept"}'
    reply = await raw(proxy.client, "POST", "/api/v1/hubs?b=2&a=1&a=x%2By", data=body, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "X-Trace": "t-1", "User-Agent": "app/1",
        "Connection": "keep-alive, X-Hop", "X-Hop": "dropped", "Keep-Alive": "timeout=5", "TE": "trailers"})
    assert reply.status == 200
    seen = (await raw(behind, "GET", "/__mockhub/requests")).json()[-1]
    assert seen["query"] == "b=2&a=1&a=x%2By"
    assert seen["body"] == body.decode()
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["host"] == f"127.0.0.1:{behind.server.port}"
    assert headers["x-trace"] == "t-1"
    assert headers["via"] == "1.1 mockhub"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "app/1"
    for hop in ("x-hop", "keep-alive", "te"):
        assert hop not in headers, hop
    # What a client leaves out stays out: the proxy's HTTP client adds no header of its own.
    request = f"GET {POINTS} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    answer = await asyncio.to_thread(raw_exchange, proxy.client.port, request)
    assert answer.startswith(b"HTTP/1.1 200 OK")
    bare = (await raw(behind, "GET", "/__mockhub/requests")).json()[-1]["headers"]
    assert sorted(k.lower() for k in bare) == ["host", "via"]


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_compressed_request_body_is_forwarded_readable_and_checked_decoded(
        serve: Serve, contract: Contract, make_proxy: MakeProxy, coding: str) -> None:
    """The proxy forwarded the decompressed bytes under the client's Content-Encoding: the target answered
    400 "Can not decode content-encoding" where the same request straight to it was 200."""
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind))
    assert proxy.client is not None

    def packed(hub: dict[str, Any]) -> bytes:
        body = json.dumps(hub).encode()
        return gzip.compress(body) if coding == "gzip" else zlib.compress(body)

    headers = {"Authorization": f"Bearer {TOKEN}", **JSON, "Content-Encoding": coding}
    direct = await raw(behind, "POST", "/api/v1/hubs", data=packed({"name": "Direct", "description": ""}),
                       headers=headers)
    assert direct.status == 200
    through = await raw(proxy.client, "POST", "/api/v1/hubs", data=packed({"name": "Zipped", "description": ""}),
                        headers=headers)
    assert through.status == 200, through.body  # was 400: Can not decode content-encoding
    assert through.json()["name"] == "Zipped"
    assert await violations(proxy) == []
    drifted = await raw(proxy.client, "POST", "/api/v1/hubs", data=packed({"name": 5, "description": ""}),
                        headers=headers)
    assert drifted.status == 400  # the target read it, and so did the proxy's check:
    [violation] = await violations(proxy)
    assert [(p["in"], p["at"]) for p in violation["problems"]] == [("body", "$.name")]
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert json.loads(journal[0]["body"]) == {"name": "Zipped", "description": ""}


# -- a drifting server ------------------------------------------------------------------------

HUB = {"hubId": HUB_A, "tenantId": "00000000-0000-0000-0000-000000000001", "name": "n", "description": "d",
       "closeDormantConversation": 30, "statusId": 2000, "created": "2020-10-13T02:42:26.9932101Z",
       "modified": "2020-10-13T02:42:26.9932101Z"}
DRIFTS = {
    # path: (status, headers, body), each off-contract in one way
    f"/api/v1/hubs/{HUB_A}": (200, {}, {k: v for k, v in HUB.items() if k != "created"}),
    "/api/v1/hubs": (200, {}, {"pageNumber": 0, "pageSize": 50, "total": "1", "results": [HUB]}),
    "/api/v1/integrations/00000000-0000-0000-0000-0000000000b1": (418, {}, {"status": 418, "errors": []}),
    f"{POINTS}/{POINT_ABCDE}": (404, {}, {"error_code": 1400, "error_message": "Integration point not found."}),
    "/api/v1/integrations": (429, {}, {"status": 429, "errors": [
        {"code": 107, "description": "Too many requests. (code: PRT000107)"}]}),
}
SLOW = f"/api/v1/integrations/hubs/{HUB_A}/Slack"
"""Where the drifting server takes longer than the proxy waits."""
FOUND = {  # path: (operation, where, the words the problem says)
    f"/api/v1/hubs/{HUB_A}": ("getHub", ("body", "$"), "'created' is a required property"),
    "/api/v1/hubs": ("listHubs", ("body", "$.total"), "'1' is not of type 'integer'"),
    "/api/v1/integrations/00000000-0000-0000-0000-0000000000b1": (
        "getIntegration", ("status", ""), "status 418 is not documented for getIntegration"),
    f"{POINTS}/{POINT_ABCDE}": ("getIntegrationPoint", ("body", "$.error_code"), "error_code is 1400, expected 1404"),
    "/api/v1/integrations": ("listIntegrations", ("header", "Retry-After"), "no Retry-After header"),
}


async def drifting(request: web.Request) -> web.StreamResponse:
    if request.path == SLOW:
        await asyncio.sleep(5)
    if request.path == "/broken":  # promises 100 bytes, sends 10, hangs up
        response = web.StreamResponse(headers={"Content-Length": "100", "Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"status":')
        assert request.transport is not None
        request.transport.close()
        return response
    if request.path == f"/api/v1/hubs/{HUB_B}":  # a conforming answer, gzipped
        zipped = gzip.compress(json.dumps({**HUB, "hubId": HUB_B}).encode(), mtime=0)
        return web.Response(body=zipped, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    status, headers, body = DRIFTS[request.path]
    return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def drifter(aiohttp_server: Any) -> str:
    app = web.Application()
    app.router.add_get("/{tail:.*}", drifting)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


async def test_each_drift_of_the_server_is_reported_once_with_its_path(drifter: str, make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(drifter)
    assert proxy.client is not None
    for path, (status, _, body) in DRIFTS.items():
        reply = await raw(proxy.client, "GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert (reply.status, reply.json()) == (status, body)  # passed on unchanged all the same
    reported = await violations(proxy)
    assert len(reported) == len(DRIFTS)
    for entry, (path, (operation, (part, at), words)) in zip(reported, FOUND.items(), strict=True):
        assert (entry["path"], entry["side"], entry["operation"], entry["method"]) == (path, "response", operation,
                                                                                      "GET")
        assert entry["status"] == DRIFTS[path][0]
        assert [(p["in"], p["at"]) for p in entry["problems"]] == [(part, at)], entry
        assert words in entry["problems"][0]["message"]
    assert (await proxy.delete("/__mockhub/violations", token=None)).json() == {"status": "cleared"}
    assert await violations(proxy) == []


async def test_a_gzipped_answer_is_passed_on_gzipped_and_checked_unzipped(drifter: str,
                                                                          make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(drifter)
    assert proxy.client is not None
    zipped = gzip.compress(json.dumps({**HUB, "hubId": HUB_B}).encode(), mtime=0)
    async with proxy.client.get(f"/api/v1/hubs/{HUB_B}", headers={"Authorization": f"Bearer {TOKEN}",
                                                                   "Accept-Encoding": "gzip"},
                                auto_decompress=False) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert await response.read() == zipped
    assert await violations(proxy) == []


async def test_each_violation_is_one_log_line_naming_the_operation(drifter: str, make_proxy: MakeProxy,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    proxy = await make_proxy(drifter)
    assert proxy.client is not None
    for _ in range(2):  # the same answer twice: a remembered verdict, still a violation of each exchange
        await raw(proxy.client, "GET", "/api/v1/hubs", headers={"Authorization": f"Bearer {TOKEN}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "mockhub.proxy"]
    assert lines == ["violation (response) listHubs GET /api/v1/hubs -> 200: "
                     "'1' is not of type 'integer' (at $.total)"] * 2


async def test_an_off_contract_request_is_reported_as_the_clients_and_still_forwarded(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind))
    reply = await proxy.post("/api/v1/hubs", {"name": 5, "description": "d", "color": "red"})
    assert reply.status == 400  # the target's own answer
    assert reply.error_codes() == [303, 302]
    assert (await raw(behind, "GET", "/__mockhub/requests")).json()[-1]["body"] == json.dumps(
        {"name": 5, "description": "d", "color": "red"})
    [entry] = await violations(proxy)
    assert (entry["side"], entry["operation"], entry["status"]) == ("request", "createHub", 400)
    assert {(p["in"], p["at"], p["message"]) for p in entry["problems"]} == {
        ("body", "$.name", "Property 'name' must be a string."),
        ("body", "$", "Property 'color' is not supported."),
    }


async def test_each_missing_property_of_a_request_is_reported_once(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(url_of(await mock(serve, contract)))
    reply = await proxy.post(f"/api/v1/integrations/hubs/{HUB_A}", {"channelId": "WebChat"})
    assert reply.status == 400
    [entry] = await violations(proxy)
    assert sorted((p["in"], p["at"], p["message"]) for p in entry["problems"]) == [
        ("body", "$", "Property 'configuration' is required."),
        ("body", "$", "Property 'name' is required."),
    ]


@pytest.mark.parametrize(("method", "path", "options", "where", "words"), [
    ("GET", "/api/v1/nothing-here", {}, ("route", ""), "no operation of the contract has this path"),
    ("PATCH", "/api/v1/hubs", {"json": {}}, ("route", ""), "PATCH is not an operation of /api/v1/hubs"),
    ("GET", "/api/v1/hubs?pageSize=500", {}, ("query", "pageSize"), "must be <= 100"),
    ("GET", "/api/v1/hubs/not-a-guid", {}, ("path", "hubId"), "is not a valid GUID"),
    ("GET", "/api/v1/hubs", {"token": None}, ("header", "Authorization"), "no bearer token"),
    ("POST", "/api/v1/hubs", {"data": "{}"}, ("header", "Content-Type"), "'text/plain' is not supported"),
    ("LOOKUP", POINTS, {"json": {"key": "ABCDE"}}, ("body", "$"), "must be a string"),
    ("POST", POINTS, {"json": "ABCDE", "headers": {"X-HTTP-Method-Override": "FIND"}},
     ("header", "X-HTTP-Method-Override"), "expected one of: LOOKUP"),
    ("POST", f"/api/v1/integrations/hubs/{HUB_A}", {"json": {"channelId": "WebChat", "name": 5, "configuration": {}}},
     ("body", "$.name"), "Property 'name' must be a string."),  # a create, of the create-or-update operation
    ("POST", "/connect/token", {"json": {"grant_type": "client_credentials"}}, ("body", "$"),
     "must be application/x-www-form-urlencoded"),
    ("POST", "/connect/token", {"form": "grant_type=password"}, ("body", "$.grant_type"),
     "expected one of: client_credentials"),
])
async def test_requests_off_the_contract_are_reported(serve: Serve, contract: Contract, make_proxy: MakeProxy,
                                                      method: str, path: str, options: dict[str, Any],
                                                      where: tuple[str, str], words: str) -> None:
    proxy = await make_proxy(url_of(await mock(serve, contract)))
    assert proxy.client is not None
    sent = request_of(path, options)
    if "data" in options:
        sent = {"headers": {**sent["headers"], "Content-Type": "text/plain"}, "data": options["data"]}
    if "form" in options:
        sent = {"headers": {"Content-Type": "application/x-www-form-urlencoded"}, "data": options["form"]}
    reply = await raw(proxy.client, method, path, **sent)
    assert 400 <= reply.status < 500
    [entry] = await violations(proxy)
    assert (entry["side"], entry["method"], entry["status"]) == ("request", method, reply.status)
    first = entry["problems"][0]
    assert (first["in"], first["at"]) == where
    assert words in first["message"]


async def test_a_token_request_passes_unchanged_and_its_secret_is_in_no_journal(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind))
    form = ("grant_type=client_credentials&client_id=hubster.portal.api.00000000000000000000000000000001"
            "&client_secret=mockhub-dev-portal-secret")
    reply = await proxy.request("POST", "/connect/token", token=None, data=form,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 200 and reply.json()["token_type"] == "Bearer"
    assert (await proxy.get("/api/v1/hubs", token=reply.json()["access_token"])).status == 200
    assert await violations(proxy) == []
    for journal in ((await proxy.get("/__mockhub/requests", token=None)).json(),
                    (await raw(behind, "GET", "/__mockhub/requests")).json()):
        assert journal[0]["body"].endswith("&client_secret=****")
        assert "mockhub-dev-portal-secret" not in json.dumps(journal)


async def test_what_a_client_makes_the_proxy_find_is_bounded(serve: Serve, contract: Contract, make_proxy: MakeProxy,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """A body with 300,000 unknown properties was a violation of 300,000 problems: four such requests took the
    proxy from 51 to 446 MiB, GET /__mockhub/violations answered 98 MB and each log line held every problem."""
    proxy = await make_proxy(url_of(await mock(serve, contract)), violations_total_bytes=60_000)
    assert proxy.client is not None
    unknown = {"name": "n", "description": "d", **{f"unknown-{i}": 0 for i in range(5000)}}
    for _ in range(4):
        await raw(proxy.client, "POST", "/api/v1/hubs", json=unknown, headers={"Authorization": f"Bearer {TOKEN}"})
    listed = await proxy.get("/__mockhub/violations", token=None)
    assert 0 < len(listed.body) <= 60_000
    kept = listed.json()
    assert 1 <= len(kept) < 4  # the latest that fit
    for entry in kept:
        assert len(entry["problems"]) == 100 and entry["more_problems"] == 4900
        assert entry["problems"][0] == {"in": "body", "at": "$", "message": "Property 'unknown-0' is not supported."}
    lines = [r.getMessage() for r in caplog.records if r.name == "mockhub.proxy"]
    assert len(lines) == 4 and all(len(line) <= 2048 and line.endswith(" more") for line in lines)
    # a name of 100,000 characters is quoted cut, and a check stops counting at 10,000 problems
    long = {"name": "n", "description": "d", "a" * 100_000: 0, **{f"u{i}": 0 for i in range(20_000)}}
    await raw(proxy.client, "POST", "/api/v1/hubs", json=long, headers={"Authorization": f"Bearer {TOKEN}"})
    latest = (await proxy.get("/__mockhub/violations", token=None)).json()[-1]
    assert latest["more_problems"] == 9900
    assert max(len(problem["message"]) for problem in latest["problems"]) == 1024


async def test_a_body_larger_than_the_proxy_forwards_is_413_in_the_apis_format(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind), max_body_bytes=1024)
    assert proxy.client is not None
    reply = await raw(proxy.client, "POST", POINTS, data=json.dumps({"code": "x" * 2000, "type": "im"}),
                      headers=JSON)
    assert (reply.status, reply.json()["error_code"]) == (413, 1413)
    assert (await raw(behind, "GET", "/__mockhub/requests")).json() == []  # not forwarded
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert [(e["status"], e["fault"]) for e in journal] == [(413, "too large to forward")]


async def test_bodies_the_proxy_receives_together_are_bounded(serve: Serve, contract: Contract,
                                                            make_proxy: MakeProxy) -> None:
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind), max_pending_body_bytes=1000)
    assert proxy.client is not None
    point = json.dumps({"code": "SLOW", "type": "im", "url": "https://example.com/" + "u" * 700}).encode()
    head = (f"POST {POINTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(point)}\r\nConnection: close\r\n\r\n").encode()
    slow = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", proxy.client.server.port), 10)
    try:
        await asyncio.to_thread(slow.sendall, head + point[:10])
        for _ in range(100):  # until the proxy counts the slow body
            reply = await raw(proxy.client, "POST", POINTS, data=json.dumps({"code": "c" * 400}), headers=JSON)
            if reply.status == 503:
                break
            await asyncio.sleep(0.02)
        assert (reply.status, reply.json()["error_code"], reply.headers["Retry-After"]) == (503, 1503, "1")
        await asyncio.to_thread(slow.sendall, point[10:])
        answer = await asyncio.to_thread(slow.recv, 65536)
    finally:
        slow.close()
    assert answer.startswith(b"HTTP/1.1 200")
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert (journal[-2]["status"], journal[-2]["fault"]) == (503, "too many bodies at once")
    forwarded = (await raw(behind, "GET", "/__mockhub/requests")).json()
    assert len(forwarded) == len([e for e in journal if e["fault"] is None])  # a refused body is not forwarded
    assert await violations(proxy) == []  # a body the proxy did not read is no client's drift

async def test_an_answer_is_streamed_as_the_target_sends_it(aiohttp_server: Any, make_proxy: MakeProxy) -> None:
    more = asyncio.Event()

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b"[1,")
        await more.wait()  # the rest only once the client has had the first part
        await response.write(b"2]")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get(POINTS, trickle)
    target = await aiohttp_server(app)
    proxy = await make_proxy(str(target.make_url("")).rstrip("/"))
    assert proxy.client is not None
    async with proxy.client.get(POINTS) as response:
        assert await response.content.readexactly(3) == b"[1,"
        more.set()
        assert await response.content.read() == b"2]"
    [entry] = await violations(proxy)  # checked whole once it ended: a list, but not of points
    assert (entry["side"], [p["at"] for p in entry["problems"]]) == ("response", ["$[0]", "$[1]"])


# -- upstream faults ---------------------------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_password_in_the_target_is_never_shown(make_proxy: MakeProxy, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    port, report = closed_port(), tmp_path / "proxy.xml"
    proxy = await make_proxy(f"http://ops:s3cret-pw@127.0.0.1:{port}", junit=report)
    answer = await proxy.get(POINTS, token=None)  # no Authorization of its own to clash with the URL's
    assert answer.status == 502
    assert f"the target http://ops:***@127.0.0.1:{port}:" in answer.json()["error_message"]
    assert proxy.client is not None
    await proxy.client.close()  # the JUnit report is written at shutdown
    assert [r for r in caplog.records if "could not reach" in r.getMessage()]
    assert not [r for r in caplog.records if "s3cret-pw" in r.getMessage()]
    assert f"http://ops:***@127.0.0.1:{port}" in report.read_text() and "s3cret-pw" not in report.read_text()
    process = subprocess.Popen([sys.executable, "-m", "mockhub", "proxy", "--port", "0", "--target",
                                f"http://ops:s3cret-pw@127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip().endswith(f" -> http://ops:***@127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(10)


async def test_a_target_that_is_down_is_502_in_each_apis_format(make_proxy: MakeProxy,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    proxy = await make_proxy(f"http://127.0.0.1:{closed_port()}")
    portal = await proxy.get("/api/v1/hubs")  # checked: the contract documents a gateway's 502 and 504
    assert (portal.status, portal.json()["status"], portal.error_codes()) == (502, 502, [100])
    era = await proxy.get(POINTS)
    assert (era.status, era.json()["error_code"]) == (502, 1502)
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert [(e["status"], e["fault"]) for e in journal] == [(502, "target unreachable")] * 2
    assert any("could not reach the target" in r.getMessage() for r in caplog.records)
    assert await violations(proxy) == []


async def test_a_target_that_does_not_answer_in_time_is_504(drifter: str, make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(drifter, read_timeout=0.2)
    slow = await proxy.get(SLOW)
    assert (slow.status, slow.json()["status"], slow.error_codes()) == (504, 504, [108])
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert journal[-1]["fault"] == "target timed out"


async def test_an_answer_broken_off_by_the_target_is_broken_off_for_the_client(drifter: str,
                                                                                make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(drifter)
    assert proxy.client is not None
    with pytest.raises(aiohttp.ClientPayloadError):
        await raw(proxy.client, "GET", "/broken")
    journal = (await proxy.get("/__mockhub/requests", token=None)).json()
    assert [(e["path"], e["status"], e["fault"]) for e in journal] == [("/broken", 200, "answer broken off")]
    assert (await proxy.get("/__mockhub/health", token=None)).status == 200  # and the proxy goes on


# -- the control API ---------------------------------------------------------------------------

async def test_the_control_api_answers_as_on_serve(serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(url_of(await mock(serve, contract)), cors_origins=("http://app.example",))
    assert (await proxy.get("/__mockhub/health", token=None)).json()["status"] == "ok"
    assert (await proxy.get("/__mockhub/openapi.json", token=None)).json() == contract.document
    in_3_2 = await proxy.get("/__mockhub/openapi.json", token=None, params={"version": "3.2"})
    assert in_3_2.json() == json.loads(contract.published_3_2)
    assert (await proxy.get("/__mockhub/openapi.json", token=None, params={"version": "3"})).status == 400
    await proxy.get("/api/v1/hubs")
    assert len((await proxy.get("/__mockhub/requests", token=None)).json()) == 1
    assert (await proxy.delete("/__mockhub/requests", token=None)).json() == {"status": "cleared"}
    assert (await proxy.get("/__mockhub/requests", token=None)).json() == []
    refused = await proxy.post("/__mockhub/health", {}, token=None)
    assert (refused.status, refused.headers["Allow"]) == (405, "GET")
    assert (await proxy.get("/__mockhub/state", token=None)).status == 404  # a mock's, not a proxy's
    assert (await proxy.post("/__mockhub/record", None, token=None)).status == 409  # no --record
    allowed = await proxy.get("/__mockhub/health", token=None, headers={"Origin": "http://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://app.example"


async def test_the_proxys_journal_is_read_a_page_at_a_time_as_on_serve(serve: Serve, contract: Contract,
                                                                      make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(url_of(await mock(serve, contract)))
    for _ in range(3):
        await proxy.get("/api/v1/hubs")
    first = await proxy.get("/__mockhub/requests", token=None, params={"limit": 2})
    assert [entry["seq"] for entry in first.json()] == [1, 2]
    assert first.headers["Link"] == '</__mockhub/requests?limit=2&after=2>; rel="next"'
    rest = await proxy.get("/__mockhub/requests?limit=2&after=2", token=None)
    assert [entry["seq"] for entry in rest.json()] == [3] and "Link" not in rest.headers
    assert (await proxy.get("/__mockhub/requests", token=None, params={"after": -1})).status == 400


async def test_the_admin_token_guards_the_control_api_but_not_the_traffic(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    proxy = await make_proxy(url_of(await mock(serve, contract)), admin_token="s3cret")
    assert (await proxy.get("/api/v1/hubs")).status == 200
    assert (await proxy.get("/__mockhub/health", token=None)).status == 200
    assert (await proxy.get("/__mockhub/violations", token=None)).status == 401
    allowed = await proxy.get("/__mockhub/violations", token=None, headers={"X-Mockhub-Admin-Token": "s3cret"})
    assert allowed.json() == []


async def test_a_cors_preflight_is_no_violation_nor_the_405_to_a_head_request(serve: Serve, contract: Contract,
                                                                      make_proxy: MakeProxy) -> None:
    """A browser asks before a LOOKUP (the mock answers 204, as documented): no one broke the contract. A client
    sends HEAD, which no operation has: the client's doing, and the server's 405 (no body, as HTTP says) is right."""
    proxy = await make_proxy(url_of(await mock(serve, contract)))
    assert proxy.client is not None
    asked = await raw(proxy.client, "OPTIONS", POINTS, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "LOOKUP"})
    head = await raw(proxy.client, "HEAD", "/api/v1/hubs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (asked.status, head.status) == (204, 405)
    assert [(v["method"], v["side"]) for v in await violations(proxy)] == [("HEAD", "request")]


# -- one guard for both control APIs -------------------------------------------------------------

MakeControl = Callable[..., Awaitable[Api]]
SECRET = "REAL-REMOTE-SECRET-0042"
FOREIGN_PAGES = ("http://evil.example", "http://203.0.113.5", "http://[2001:db8::5]:8000", "http://10.0.0.7:3000",
                 "null")
"""Pages that may not drive a control API: another site, and pages served from addresses (not this machine's)."""
LOCAL_PAGES = ("http://localhost:5173", "http://app.localhost:3000", "http://127.0.0.1:5173", "http://127.8.0.1",
               "http://[::1]:5173")


@pytest.fixture(params=["serve", "proxy"])
def make_control(request: pytest.FixtureRequest, serve: Serve, contract: Contract, checker: ResponseChecker,
                 make_proxy: MakeProxy) -> MakeControl:
    """A server with a control API, given the options both servers take: ``mockhub serve``, or ``mockhub proxy``
    in front of one. The same calls must get the same answers from both."""

    async def make(**settings: Any) -> Api:
        if request.param == "serve":
            return Api(await mock(serve, contract, **settings), checker)
        return await make_proxy(url_of(await mock(serve, contract)), **settings)

    return make


async def test_a_control_api_answers_no_host_name_that_could_be_rebound(make_control: MakeControl) -> None:
    """A page on attacker.example, its name rebound to 127.0.0.1, read the proxy's journal: the remote
    service's token an app had sent through it."""
    server = await make_control()
    assert (await server.patch(f"{POINTS}/{POINT_ABCDE}", {"token_remote": SECRET})).status == 200
    for path in ("/__mockhub/requests", "/__mockhub/openapi.json"):
        refused = await server.get(path, token=None, headers={"Host": "attacker.example"})
        assert (refused.status, refused.json()["status"]) == (403, 403), path
        assert "--allowed-host" in refused.json()["error"] and SECRET.encode() not in refused.body
    assert (await server.delete("/__mockhub/requests", token=None, headers={"Host": "attacker.example"})).status == 403
    assert (await server.get("/__mockhub/health", token=None, headers={"Host": "attacker.example"})).status == 200
    for host in ("localhost:8080", "127.0.0.1", "[::1]:8080", "app.localhost", "10.1.2.3:80"):
        assert (await server.get("/__mockhub/openapi.json", token=None, headers={"Host": host})).status == 200, host
    assert SECRET.encode() in (await server.get("/__mockhub/requests", token=None)).body  # kept, not lost


async def test_an_allowed_host_name_reaches_either_control_api(make_control: MakeControl) -> None:
    server = await make_control(allowed_hosts=("mockhub",))
    assert (await server.get("/__mockhub/requests", token=None, headers={"Host": "mockhub:8080"})).status == 200
    assert (await server.get("/__mockhub/requests", token=None, headers={"Host": "evil.example"})).status == 403


@pytest.mark.parametrize("page", FOREIGN_PAGES)
async def test_a_page_not_on_this_machine_can_neither_read_nor_change_a_control_api(make_control: MakeControl,
                                                                                      page: str) -> None:
    """A cross-site form or body-less fetch reaches the server without a preflight; a page served from an IP
    address (someone's own machine) is as foreign as one on a name."""
    server = await make_control()
    await server.patch(f"{POINTS}/{POINT_ABCDE}", {"token_remote": SECRET})
    read = await server.get("/__mockhub/requests", token=None, headers={"Origin": page})
    assert read.status == 403 and SECRET.encode() not in read.body
    cleared = await server.delete("/__mockhub/requests", token=None, headers={"Origin": page})
    assert cleared.status == 403
    assert len((await server.get("/__mockhub/requests", token=None)).json()) == 1  # nothing cleared
    assert (await server.get("/__mockhub/health", token=None, headers={"Origin": page})).status == 200


async def test_a_page_elsewhere_cannot_drive_the_proxys_own_calls(serve: Serve, contract: Contract,
                                                                   make_proxy: MakeProxy, tmp_path: Path) -> None:
    record = tmp_path / "recorded.json"
    proxy = await make_proxy(url_of(await mock(serve, contract)), record=record)
    assert proxy.client is not None
    await raw(proxy.client, "GET", "/api/v1/hubs/not-a-guid", headers={"Authorization": f"Bearer {TOKEN}"})
    for page in ("http://evil.example", "http://203.0.113.5"):
        assert (await proxy.post("/__mockhub/record", None, token=None, headers={"Origin": page})).status == 403
        assert (await proxy.delete("/__mockhub/violations", token=None, headers={"Origin": page})).status == 403
        assert (await proxy.get("/__mockhub/violations", token=None, headers={"Origin": page})).status == 403
    assert not record.exists()
    assert len(await violations(proxy)) == 1


async def test_a_page_elsewhere_cannot_reset_the_mock(serve: Serve, contract: Contract,
                                                      checker: ResponseChecker) -> None:
    api = Api(await mock(serve, contract), checker)
    assert (await api.post("/api/v1/hubs", {"name": "Mine", "description": ""})).status == 200
    for page in ("http://203.0.113.5", "http://[2001:db8::5]:8000"):
        assert (await api.request("POST", "/__mockhub/reset", token=None, headers={"Origin": page})).status == 403
        assert (await api.get("/__mockhub/state", token=None, headers={"Origin": page})).status == 403
    assert "Mine" in [hub["name"] for hub in (await api.get("/api/v1/hubs")).json()["results"]]


@pytest.mark.parametrize("page", LOCAL_PAGES)
async def test_a_page_on_this_machine_drives_a_control_api(make_control: MakeControl, page: str) -> None:
    server = await make_control()
    reply = await server.delete("/__mockhub/requests", token=None, headers={"Origin": page})
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == page
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"


async def test_cors_origin_lets_a_page_elsewhere_drive_a_control_api_and_allowed_host_does_not(
        make_control: MakeControl) -> None:
    """--allowed-host says which names the server is reached by (``*``: any); it lets no page anywhere drive it."""
    server = await make_control(cors_origins=("http://192.168.1.20:5173",), allowed_hosts=("*",))
    listed = await server.get("/__mockhub/requests", token=None, headers={"Origin": "http://192.168.1.20:5173"})
    assert (listed.status, listed.headers["Access-Control-Allow-Origin"]) == (200, "http://192.168.1.20:5173")
    for page in ("http://evil.example", "http://192.168.1.21:5173"):
        assert (await server.get("/__mockhub/requests", token=None, headers={"Origin": page})).status == 403


async def test_a_refused_page_can_read_why_and_nothing_else(make_control: MakeControl) -> None:
    """The app saw only "Failed to fetch", never the message naming --cors-origin."""
    server = await make_control(admin_token="s3cret")
    await server.patch(f"{POINTS}/{POINT_ABCDE}", {"token_remote": SECRET})
    page = "http://203.0.113.5:3000"
    refused = await server.get("/__mockhub/requests", token=None,
                               headers={"Origin": page, "X-Mockhub-Admin-Token": "s3cret"})
    assert refused.status == 403 and SECRET.encode() not in refused.body
    assert "--cors-origin" in refused.json()["error"]
    assert refused.headers["Access-Control-Allow-Origin"] == page
    assert refused.headers["Access-Control-Allow-Credentials"] == "true"
    local = await server.get("/__mockhub/requests", token=None, headers={"Origin": "http://localhost:5173"})
    assert local.status == 401 and "X-Mockhub-Admin-Token" in local.json()["error"]
    assert local.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert local.headers.getall("Vary") == ["Origin"]
    assert "Access-Control-Allow-Origin" not in (await server.get("/__mockhub/requests", token=None)).headers


async def test_a_preflight_from_a_page_elsewhere_is_refused_naming_cors_origin(make_control: MakeControl) -> None:
    server = await make_control()
    assert server.client is not None
    asked = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-mockhub-admin-token"}
    refused = await raw(server.client, "OPTIONS", "/__mockhub/requests", headers={**asked, "Origin": "http://10.0.0.7"})
    assert refused.status == 403 and "--cors-origin" in refused.json()["error"]
    allowed = await raw(server.client, "OPTIONS", "/__mockhub/requests", headers={**asked, "Origin": "http://[::1]"})
    assert (allowed.status, allowed.headers["Access-Control-Allow-Origin"]) == (204, "http://[::1]")


async def test_a_junit_report_quoting_control_characters_is_still_xml(drifter: str, make_proxy: MakeProxy,
                                                                      tmp_path: Path) -> None:
    report = tmp_path / "proxy.xml"
    proxy = await make_proxy(drifter, junit=report)
    assert proxy.client is not None
    await raw(proxy.client, "GET", "/api/v1/hubs?pageSize=%1B%00x", headers={"Authorization": f"Bearer {TOKEN}"})
    await proxy.client.close()
    [failure] = [case.find("failure") for case in ET.parse(report).getroot().iter("testcase")
                 if case.find("failure") is not None]
    assert failure is not None and failure.text is not None and "\\x1b" in failure.text


async def test_a_record_that_cannot_be_written_says_which_file_and_why(drifter: str, make_proxy: MakeProxy,
                                                                       tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    proxy = await make_proxy(drifter, record=folder / "record.json")
    folder.rmdir()
    reply = await proxy.post("/__mockhub/record", token=None)
    assert reply.status == 500
    assert f"Cannot write {folder / 'record.json'}: No such file or directory" in reply.json()["error"]


async def test_junit_at_shutdown_has_a_testcase_per_operation_failed_when_violated(
        drifter: str, make_proxy: MakeProxy, tmp_path: Path) -> None:
    report = tmp_path / "proxy.xml"
    proxy = await make_proxy(drifter, junit=report)
    assert proxy.client is not None
    for path in (f"/api/v1/hubs/{HUB_A}", "/api/v1/nothing-here"):
        await raw(proxy.client, "GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    await proxy.client.close()
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    assert set(cases) == {"getHub", "(no operation)"}
    assert all(failure is not None for failure in cases.values())


# -- recording ---------------------------------------------------------------------------------

READS = [
    "/api/v1/hubs", f"/api/v1/hubs/{HUB_A}", "/api/v1/integrations?pageSize=100",
    *(f"/api/v1/integrations/hubs/{HUB_A}/{channel}" for channel in ("TwilioSMS", "WebChat", "Slack")),
    "/api/v1/integrations/00000000-0000-0000-0000-0000000000b1", POINTS, f"{POINTS}/{POINT_ABCDE}",
    f"/api/v1/commands/transfers/hub/{HUB_A3}", f"/api/v1/commands/responses/hub/{HUB_A3}",
    f"/api/v1/commands/responses/{RESPONSE_A}", "/api/v1/commands/responses/00000000-0000-0000-0000-0000000000e3",
]
SHAPES = {  # secret: the shape its fake keeps
    "authToken": r"^[0-9a-f]{32}$", "pageAccessToken": r"^\w+$", "botAccessToken": r"^xoxb-\d+-\d+-\w+$",
    "appAccessToken": r"^xoxp-\d+-\d+-\d+-[0-9a-f]+$", "publicSigningKey": r"^[0-9A-F]{32}$",
    "privateSigningKey": r"^[0-9A-F]{32}$",
}


def secrets_in(value: Any) -> dict[str, str]:
    """Every configuration secret of a JSON value, by field name and where it was."""
    found: dict[str, str] = {}

    def walk(node: Any, at: str) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key in SHAPES and isinstance(item, str):
                    found[f"{at}.{key}"] = item
                walk(item, f"{at}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{at}[{index}]")

    walk(value, "$")
    return found


def without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "(secret)" if k in SHAPES else without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


async def test_what_was_recorded_serves_the_same_gets_with_secrets_replaced(
        serve: Serve, contract: Contract, make_proxy: MakeProxy, tmp_path: Path) -> None:
    record = tmp_path / "recorded.json"
    proxy = await make_proxy(url_of(await mock(serve, contract)), record=record, seed=3)
    seen = {path: (await proxy.get(path)).json() for path in READS}
    await proxy.get("/api/v1/hubs", token=OTHER_TOKEN)
    summary = (await proxy.post("/__mockhub/record", None, token=None)).json()
    assert summary["counts"] == {"tenants": 2, "hubs": 4, "integrations": 6, "transferCommands": 1,
                                 "responseCommands": 3, "integrationPoints": 2}
    text = record.read_text()
    originals = {secret for body in seen.values() for secret in secrets_in(body).values()}
    assert len(originals) >= 6
    for secret in (*originals, TOKEN, OTHER_TOKEN):
        assert secret not in text
    data = json.loads(text)
    for where, fake in secrets_in(data).items():
        assert re.match(SHAPES[where.rsplit(".", 1)[1]], fake), (where, fake)
    [tenant] = [t for t in data["tenants"] if t["tenantId"] == HUB["tenantId"]]
    replay = Api(await mock(serve, contract, fixtures=(record,)), proxy.checker)
    for path, body in seen.items():
        again = (await replay.get(path, token=tenant["tokens"][0])).json()
        assert without_secrets(again) == without_secrets(body), path
        assert secrets_in(again).keys() == secrets_in(body).keys()


async def test_a_password_inside_a_url_never_reaches_the_recording(serve: Serve, contract: Contract,
                                                                     make_proxy: MakeProxy, tmp_path: Path) -> None:
    """An integration point's url (and a webhook's) may carry its credentials: ``https://user:pass@host/``."""
    record = tmp_path / "recorded.json"
    proxy = await make_proxy(url_of(await mock(serve, contract)), record=record, seed=5)
    point_url = "https://hook-user:REAL-PASS-0042@hooks.example/in?x=1"
    webhook = "https://bot:WEBHOOK-PASS-77@hooks.example/direct"
    assert (await proxy.patch(f"{POINTS}/{POINT_ABCDE}", {"url": point_url}, token=None)).status == 200
    made = await proxy.post(f"/api/v1/integrations/hubs/{HUB_A}", {
        "channelId": "Direct", "name": "Hooked", "configuration": {"integrationType": "Agent", "webhookUrl": webhook}})
    assert made.status == 200
    await proxy.get(f"/api/v1/integrations/{made.json()['integrationId']}")
    await proxy.get(f"/api/v1/hubs/{HUB_A}")
    assert (await proxy.post("/__mockhub/record", None, token=None)).status == 200
    text = record.read_text()
    for secret in ("hook-user", "REAL-PASS-0042", "WEBHOOK-PASS-77", "bot:"):
        assert secret not in text, secret
    data = json.loads(text)
    [point] = [p for p in data["integrationPoints"] if p["id"] == POINT_ABCDE]
    assert re.fullmatch(r"https://[a-z]{4}-[a-z]{4}:[A-Z]{4}-[A-Z]{4}-\d{4}@hooks\.example/in\?x=1", point["url"])
    [hooked] = [i for i in data["integrations"] if i["name"] == "Hooked"]
    assert re.fullmatch(r"https://[a-z]{3}:[A-Z]{7}-[A-Z]{4}-\d{2}@hooks\.example/direct",
                        hooked["configuration"]["webhookUrl"])


async def test_a_recording_holds_the_clients_seen_and_none_of_their_secrets(
        serve: Serve, contract: Contract, make_proxy: MakeProxy, tmp_path: Path) -> None:
    record = tmp_path / "recorded.json"
    proxy = await make_proxy(url_of(await mock(serve, contract)), record=record, seed=3)
    client_path = "/api/v1/tenants/clients/hubster.portal.api.00000000000000000000000000000001"
    made = (await proxy.post(f"{client_path}/tokens", {"name": "ci", "expiration": "2030-01-31T00:00:00"})).json()
    seen = (await proxy.get(client_path)).json()
    gone = (await proxy.post(f"{client_path}/tokens", {"name": "gone"})).json()
    assert (await proxy.delete(f"{client_path}/tokens/{gone['id']}")).status == 200
    form = "grant_type=client_credentials&client_id=hubster.portal.api.00000000000000000000000000000001"
    token = (await proxy.request("POST", "/connect/token", token=None, data=f"{form}&client_secret={made['token']}",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})).json()
    assert (await proxy.post("/__mockhub/record", None, token=None)).status == 200
    text = record.read_text()
    for secret in (made["token"], gone["token"], "mockhub-dev-portal-secret", token["access_token"], TOKEN):
        assert secret not in text
    [tenant] = json.loads(text)["tenants"]
    portal = tenant["clients"]["portal"]
    assert [(s["id"], s["name"], s.get("expiration")) for s in portal["secrets"]] == [
        (1, "mockhub dev portal secret", None), (made["id"], "ci", "2030-01-31T00:00:00")]
    replay = Api(await mock(serve, contract, fixtures=(record,)), proxy.checker)
    again = (await replay.get(client_path, token=tenant["tokens"][0])).json()
    assert {**again, "secrets": [s["id"] for s in again["secrets"]]} == {
        **seen, "secrets": [s["id"] for s in seen["secrets"]]}
    recorded = portal["secrets"][1]["token"]
    reply = await replay.request("POST", "/connect/token", token=None, data=f"{form}&client_secret={recorded}",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 200


# -- the command line ----------------------------------------------------------------------------

def test_the_proxy_command_prints_its_banner_forwards_and_writes_its_reports_on_sigterm(tmp_path: Path) -> None:
    report, record = tmp_path / "proxy.xml", tmp_path / "recorded.json"
    with serving() as (_, target):
        env = {**os.environ, "MOCKHUB_TARGET": target, "MOCKHUB_PORT": "0", "MOCKHUB_JUNIT": str(report)}
        process = subprocess.Popen([sys.executable, "-m", "mockhub", "proxy", "--record", str(record)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            banner = process.stdout.readline().strip()
            assert re.fullmatch(rf"mockhub proxy listening on http://127\.0\.0\.1:\d+ -> {re.escape(target)}",
                                banner), banner
            url = banner.split()[4]
            assert get_json(f"{url}/api/v1/hubs", token=TOKEN)["total"] == 3  # type: ignore[index]
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(5)
    assert 'name="listHubs"' in report.read_text()
    assert len(json.loads(record.read_text())["hubs"]) == 3


def test_the_proxy_command_needs_a_target() -> None:
    done = subprocess.run([sys.executable, "-m", "mockhub", "proxy", "--port", "0"], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "MOCKHUB_TARGET"}, timeout=30)
    assert done.returncode == 2
    assert "--target URL" in done.stderr


async def test_a_recording_keeps_the_order_the_lists_showed(serve: Serve, contract: Contract, make_proxy: MakeProxy,
                                                            tmp_path: Path) -> None:
    """Records seen one by one before a list showed them (a hub created, then the hubs listed) were written in
    the order first seen, so the replay's pages held other hubs than the target's."""
    record = tmp_path / "recorded.json"
    proxy = await make_proxy(url_of(await mock(serve, contract)), record=record)
    assert (await proxy.post("/api/v1/hubs", {"name": "Made first, listed last", "description": ""})).status == 200
    await proxy.get(f"{POINTS}/{POINT_ABCDE}", token=None)
    seen = {path: (await proxy.get(path)).json() for path in (
        "/api/v1/hubs?pageSize=100", "/api/v1/hubs?pageSize=1", "/api/v1/hubs?pageSize=2&pageNumber=1")}
    points = (await proxy.get(f"{POINTS}?limit=1000", token=None)).json()
    assert (await proxy.post("/__mockhub/record", None, token=None)).status == 200
    tenant = next(t for t in json.loads(record.read_text())["tenants"] if t["tenantId"] == HUB["tenantId"])
    replay = Api(await mock(serve, contract, fixtures=(record,)), proxy.checker)
    for path, body in seen.items():
        assert (await replay.get(path, token=tenant["tokens"][0])).json() == body, path
    assert [p["id"] for p in (await replay.get(f"{POINTS}?limit=1000", token=None)).json()] == [p["id"] for p in points]


async def test_a_recording_follows_the_commands_made_changed_and_deleted(
        serve: Serve, contract: Contract, make_proxy: MakeProxy, tmp_path: Path) -> None:
    record = tmp_path / "recorded.json"
    proxy = await make_proxy(url_of(await mock(serve, contract)), record=record)
    assert [h["hubId"] for h in (await proxy.get("/api/v1/hubs?pageSize=1")).json()["results"]] == [HUB_A]
    hub = (await proxy.post("/api/v1/hubs", {"name": "Shop", "description": ""})).json()["hubId"]
    made = [(await proxy.post(f"/api/v1/commands/transfers/{hub}", {
        "name": f"t{i}", "url": "https://shop.example", "linkDescription": "Shop"})).json() for i in range(3)]
    secret = (await proxy.post(f"/api/v1/commands/responses/{hub}", {
        "name": "login", "integrationTypeId": "agent", "type": "message", "responses": [
            {"type": "image", "url": "https://bob:s3cret@images.example/a.png"}]})).json()
    await proxy.put(f"/api/v1/commands/transfers/{made[0]['commandId']}", {"linkDescription": "Changed"})
    await proxy.delete(f"/api/v1/commands/transfers/{made[1]['commandId']}")
    seen = (await proxy.get(f"/api/v1/commands/transfers/hub/{hub}")).json()
    await proxy.get(f"/api/v1/commands/transfers/{TRANSFER_A}")  # its hub's answer was never seen
    doomed = (await proxy.post(f"/api/v1/commands/responses/{HUB_A}", {
        "name": "gone", "integrationTypeId": "agent", "type": "event", "responses": [{"type": "seen"}]})).json()
    await proxy.delete(f"/api/v1/hubs/{HUB_A}")  # takes its commands along
    summary = (await proxy.post("/__mockhub/record", None, token=None)).json()
    assert summary["leftOut"] == [f"transfer command {TRANSFER_A}: its hub was not seen"]
    data = json.loads(record.read_text())
    assert data["transferCommands"] == seen == [{**made[0], "linkDescription": "Changed"}, made[2]]
    assert doomed["commandId"] not in record.read_text() and "s3cret" not in record.read_text()
    [kept] = data["responseCommands"]
    assert kept["commandId"] == secret["commandId"]
    assert re.fullmatch(r"https://[a-z]{3}:[a-z]\d[a-z]{4}@images\.example/a\.png", kept["responses"][0]["url"])
    tenant = next(t for t in data["tenants"] if t["tenantId"] == HUB["tenantId"])
    replay = Api(await mock(serve, contract, fixtures=(record,)), proxy.checker)
    assert (await replay.get(f"/api/v1/commands/transfers/hub/{hub}", token=tenant["tokens"][0])).json() == seen


async def command_drifting(request: web.Request) -> web.StreamResponse:
    """A server whose command answers each break the contract in one way."""
    if request.path.startswith("/api/v1/commands/transfers/"):
        command = {"commandId": TRANSFER_A, "hubId": HUB_A3, "name": "n", "description": "", "url": "https://a.example",
                   "linkDescription": "l"}  # no mountDelay
        return web.json_response(command)
    wrong_kind = {"commandId": RESPONSE_A, "hubId": HUB_A3, "name": "n", "category": "", "description": "",
                  "integrationTypeId": "agent", "type": "event", "responses": [{"type": "text", "text": "hi"}]}
    return web.json_response([wrong_kind])


async def test_the_proxy_checks_command_answers_and_requests(
        aiohttp_server: Any, serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    app = web.Application()
    app.router.add_get("/{tail:.*}", command_drifting)
    drifter = await make_proxy(str((await aiohttp_server(app)).make_url("")).rstrip("/"))
    assert drifter.client is not None
    for path in (f"/api/v1/commands/transfers/{TRANSFER_A}", f"/api/v1/commands/responses/hub/{HUB_A3}"):
        assert (await raw(drifter.client, "GET", path, headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    found = [(v["operation"], v["side"], [(p["in"], p["at"]) for p in v["problems"]], v["problems"][0]["message"])
             for v in await violations(drifter)]
    assert found == [
        ("getTransferCommand", "response", [("body", "$")], "'mountDelay' is a required property"),
        ("listResponseCommands", "response", [("body", "$[0].responses[0].type")],
         "'text' is not one of ['seen', 'typing_on', 'typing_off', 'payload']"),
    ]
    proxy = await make_proxy(url_of(await mock(serve, contract)))
    reply = await proxy.post(f"/api/v1/commands/responses/{HUB_A}", {
        "name": "empty", "integrationTypeId": "agent", "type": "message", "responses": [{"type": "text"}]})
    assert reply.error_codes() == [307]
    reply = await proxy.put(f"/api/v1/commands/responses/{RESPONSE_A}", {"type": "dialog"})
    assert reply.error_codes() == [206]
    found = [(v["operation"], v["side"], [(p["in"], p["at"], p["message"]) for p in v["problems"]])
             for v in await violations(proxy)]
    assert found == [
        ("createResponseCommand", "request", [("body", "$.responses[0]", "Message 'responses[0]' is empty: give at "
                                                                         "least one of text, items and actions.")]),
        ("updateResponseCommand", "request", [("body", "$.type", "Value 'dialog' of 'type' is not valid; expected "
                                                                 "one of: message, event.")]),
    ]


def test_the_proxy_on_a_port_in_use_says_so_in_one_line() -> None:
    with serving() as (_, url):
        port = url.rsplit(":", 1)[1]
        result = subprocess.run([sys.executable, "-m", "mockhub", "proxy", "--target", url, "--port", port],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"mockhub: cannot listen on 127.0.0.1:{port}: Address already in use; " \
        "--port 0 picks a free port"  # (no "Unclosed client session" after it)


async def test_requests_no_route_takes_are_answered_in_the_apis_format_and_absolute_targets_are_forwarded(
        serve: Serve, contract: Contract, make_proxy: MakeProxy) -> None:
    """``OPTIONS *`` was a plain-text 404 through the proxy, and an absolute-form target (which a server must
    accept) was forwarded as the target's path: a 502."""
    behind = await mock(serve, contract)
    proxy = await make_proxy(url_of(behind))
    assert proxy.client is not None
    port = int(proxy.client.server.port)  # type: ignore[arg-type]

    def exchange(request: bytes) -> tuple[int, str, Any]:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        content_type = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-type:"))
        return int(head.split()[1]), content_type.decode(), json.loads(body)

    status, content_type, body = await asyncio.to_thread(
        exchange, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, content_type, body["status"]) == (404, "application/json; charset=utf-8", 404)
    status, _, body = await asyncio.to_thread(
        exchange, f"GET http://elsewhere.example/api/v1/hubs/{HUB_A} HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n".encode())
    assert (status, body["hubId"]) == (200, HUB_A)
