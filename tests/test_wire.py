"""The wire in front of aiohttp: what a client sees of it, over raw sockets and HTTP.

Every request is framed by mockhub and handed to aiohttp's own handler one at a time. These
tests speak as clients do (careful ones, careless ones and hostile ones) and check that each
gets a whole answer in the API's format, that a stop or a half-close answers what was
received, and that what a client owes is timed, never what the server does. Every answer
the contract describes is checked against it.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from mockhub.web.keys import CONTROL
from mockhub.web.server import BackgroundServer
from tests.conftest import CLOCK, HUB_A, POINT_ABCDE, POINTS, TOKEN, Api, MakeApi, raw_exchange
from tests.test_http_framing import Request, encode
from tests.test_http_parser import _checked, _port, _Replay, read_answers

HUBS = "/api/v1/hubs"
HUB = f"{HUBS}/{HUB_A}"
AUTH = f"Authorization: Bearer {TOKEN}\r\n"
LIST_CODES: Request = ("GET", f"{POINTS}?mask=code", b"")
LOOKUP_ABCDE: Request = ("LOOKUP", POINTS, b'"ABCDE"')
Reply = tuple[int, Message, Any]
"""An answer's status, header fields and JSON body (``None`` for none)."""


# Raw sockets

def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a socket timeout fails the test)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _half_closed_exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, say nothing more will come (``SHUT_WR``), and read until the server closes."""
    with _connect(port) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return _until_closed(sock)


def _hub_body(name: str) -> bytes:
    return json.dumps({"name": name, "description": "sent over a raw socket"}).encode()


# Reading answers

def _replies(checker: ResponseChecker, raw: bytes, requests: list[Request], off_contract: tuple[int, ...] = ()) \
        -> list[Reply]:
    """Exactly one answer per request in ``raw``, in order, with its header fields; each checked against the
    contract (as ``read_answers`` does) but the ones at the indexes ``off_contract``, which the contract does not
    describe (a refused method, an unmet expectation): those must still be JSON."""
    api = Api(None, checker)
    replay = _Replay(raw)
    replies: list[Reply] = []
    for i, (method, path, _) in enumerate(requests):
        response = http.client.HTTPResponse(replay, method=method)  # type: ignore[arg-type]
        response.begin()
        headers = response.headers
        if i in off_contract:
            assert headers.get_content_type() == "application/json"
            replies.append((response.status, headers, json.loads(response.read())))
        else:
            status, body = _checked(api, method, path, response)
            replies.append((status, headers, body))
    assert replay.read() == b"", "the server answered more than was asked"
    return replies


def _assert_portal_error(status: int, reply: Reply) -> None:
    got, _, body = reply
    assert got == status
    assert body["status"] == status
    assert body["errors"] and all(isinstance(e["code"], int) and e["description"] for e in body["errors"])


def _assert_era_error(status: int, reply: Reply) -> None:
    got, _, body = reply
    assert got == status
    assert body["error_code"] == 1000 + status
    assert isinstance(body["error_message"], str) and body["error_message"]


def _connection_close(headers: Message) -> bool:
    return "close" in headers.get("Connection", "").lower()


async def _journal(api: Api) -> list[dict[str, Any]]:
    reply = await api.get("/__mockhub/requests")
    assert reply.status == 200
    entries: list[dict[str, Any]] = reply.json()
    return entries


# Servers

class Servers:
    """Background servers a test starts, served as ``mockhub serve`` serves (its own thread and loop)."""

    def __init__(self) -> None:
        self.running: list[BackgroundServer] = []
        self.stopped: list[BackgroundServer] = []

    def start(self, **settings: Any) -> tuple[BackgroundServer, int]:
        """A server of the built-in dataset with ``settings``, and its port."""
        server = BackgroundServer(create_app(Settings(clock=CLOCK, **settings)))
        port = int(server.start().rsplit(":", 1)[1])
        self.running.append(server)
        return server, port

    def stop_in_a_thread(self, server: BackgroundServer) -> threading.Thread:
        """Stop ``server`` from another thread (as a signal would), while the test's client waits."""
        self.running.remove(server)
        self.stopped.append(server)
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        return stopping


@pytest.fixture
def servers() -> Iterator[Servers]:
    """Background servers, stopped after the test; none may have met an unexpected error."""
    started = Servers()
    yield started
    for server in started.running:
        server.stop()
    errors = [error for server in started.running + started.stopped for error in server.app[CONTROL].server_errors()]
    assert not errors, "the mock met unexpected errors:\n" + "\n".join(errors)


async def _timed(request: web.Request) -> web.Response:
    """A handler that bounds its own work with ``asyncio.timeout``, as many do."""
    async with asyncio.timeout(5):
        await asyncio.sleep(0)
    return web.json_response({"timed": True})


async def _cookie(request: web.Request) -> web.Response:
    response = web.json_response({"cookie": "set"})
    response.set_cookie("flavour", "oat")
    return response


def _with_extra_routes(app: web.Application) -> web.Application:
    app.router.add_get("/extra/timed", _timed)
    app.router.add_get("/extra/cookie", _cookie)
    app.router.add_get("/extra/named/{name}", _named)
    return app


async def _named(request: web.Request) -> web.Response:
    """What a handler of aiohttp's own reads off a ``web.Request``: its route's match and its app."""
    return web.json_response({"name": request.match_info["name"], "apps": len(request.match_info.apps),
                              "frozen": request.app.frozen})


def _mockhub_app(contract: Contract, admin_contract: Contract) -> web.Application:
    return create_app(Settings(clock=CLOCK), contract=contract, admin_contract=admin_contract)


# Handlers of routes an app adds itself

async def test_a_handler_using_asyncio_timeout_answers_on_a_mockhub_app(
        aiohttp_client: Any, contract: Contract, admin_contract: Contract) -> None:
    app = _with_extra_routes(_mockhub_app(contract, admin_contract))
    client = await aiohttp_client(MockhubTestServer(app))
    async with client.get("/extra/timed") as response:
        assert (response.status, await response.json()) == (200, {"timed": True})


async def test_a_route_an_app_adds_gets_the_web_request_aiohttp_gives_its_handlers(
        aiohttp_client: Any, contract: Contract, admin_contract: Contract, checker: ResponseChecker) -> None:
    app = _with_extra_routes(_mockhub_app(contract, admin_contract))
    client = await aiohttp_client(MockhubTestServer(app))
    async with client.get("/extra/named/oat") as response:
        assert (response.status, await response.json()) == (200, {"name": "oat", "apps": 1, "frozen": True})
    api = Api(client, checker)
    assert (await api.get(HUB)).status == 200  # the app's own operations answer as ever beside it
    assert [e["path"] for e in await _journal(api)] == ["/extra/named/oat", HUB]


@pytest.mark.parametrize("server_class", [TestServer, MockhubTestServer], ids=["aiohttp", "mockhub"])
async def test_a_handler_using_asyncio_timeout_answers_on_a_plain_aiohttp_app(
        aiohttp_client: Any, server_class: type[TestServer]) -> None:
    client = await aiohttp_client(server_class(_with_extra_routes(web.Application())))
    async with client.get("/extra/timed") as response:
        assert (response.status, await response.json()) == (200, {"timed": True})


async def test_a_handler_that_sets_a_cookie_answers_with_it_and_is_journaled(
        aiohttp_client: Any, contract: Contract, admin_contract: Contract, checker: ResponseChecker) -> None:
    app = _with_extra_routes(_mockhub_app(contract, admin_contract))
    client = await aiohttp_client(MockhubTestServer(app))
    async with client.get("/extra/cookie") as response:
        assert (response.status, await response.json()) == (200, {"cookie": "set"})
        assert response.headers["Set-Cookie"].startswith("flavour=oat")
    journal = await _journal(Api(client, checker))
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [("GET", "/extra/cookie", 200)]
    assert not app[CONTROL].server_errors()


@pytest.mark.parametrize("server_class", [TestServer, MockhubTestServer], ids=["aiohttp", "mockhub"])
async def test_a_handler_that_sets_a_cookie_answers_with_it_on_a_plain_aiohttp_app(
        aiohttp_client: Any, server_class: type[TestServer]) -> None:
    client = await aiohttp_client(server_class(_with_extra_routes(web.Application())))
    async with client.get("/extra/cookie") as response:
        assert (response.status, await response.json()) == (200, {"cookie": "set"})
        assert response.headers["Set-Cookie"].startswith("flavour=oat")


# A stop answers what it received

ASK_HUB = f"GET {HUB} HTTP/1.1\r\nHost: x\r\n{AUTH}"
DELAYED_HUB = f"{ASK_HUB}X-Mockhub-Delay: 800\r\n\r\n".encode()
RECEIVED = 0.2
"""Seconds for the server to read what a test just sent (the first answer then waits out its 800 ms delay)."""


def _stop_while_waiting(servers: Servers, server: BackgroundServer, port: int, data: bytes) -> bytes:
    """Send ``data`` (the first request waits on a delay), stop the server meanwhile; all it sent until it closed."""
    with _connect(port) as sock:
        sock.sendall(data)
        time.sleep(RECEIVED)
        stopping = servers.stop_in_a_thread(server)
        answered = _until_closed(sock)
        stopping.join(timeout=30)
        assert not stopping.is_alive()
    return answered


async def test_a_stop_answers_a_request_waiting_on_a_delay_and_says_the_connection_closes(
        servers: Servers, checker: ResponseChecker) -> None:
    server, port = servers.start(shutdown_grace=5.0)
    raw = await asyncio.to_thread(_stop_while_waiting, servers, server, port, DELAYED_HUB)
    [(status, headers, hub)] = _replies(checker, raw, [("GET", HUB, b"")])
    assert (status, hub["hubId"]) == (200, HUB_A)
    assert _connection_close(headers)


async def test_a_stop_answers_two_pipelined_requests_and_only_the_second_says_the_connection_closes(
        servers: Servers, checker: ResponseChecker) -> None:
    server, port = servers.start(shutdown_grace=5.0)
    raw = await asyncio.to_thread(_stop_while_waiting, servers, server, port, DELAYED_HUB + f"{ASK_HUB}\r\n".encode())
    first, second = _replies(checker, raw, [("GET", HUB, b"")] * 2)
    assert (first[0], second[0]) == (200, 200)
    assert (_connection_close(first[1]), _connection_close(second[1])) == (False, True)


# Connection faults, and clients that leave

async def test_a_connection_reset_fault_leaves_the_server_answering_on_other_connections(api: Api) -> None:
    def reset_then_ask() -> tuple[bytes, bytes]:
        with _connect(_port(api)) as sock:
            sock.sendall(f"GET {HUBS} HTTP/1.1\r\nHost: x\r\n{AUTH}X-Mockhub-Fault: reset\r\n\r\n".encode())
            try:
                got = _until_closed(sock)
            except ConnectionResetError:
                got = b"reset"
        return got, raw_exchange(_port(api), b"".join(encode([("GET", HUB, b"")])))

    reset, other = await asyncio.to_thread(reset_then_ask)
    assert reset in (b"reset", b"")
    [(status, hub)] = read_answers(api, other, [("GET", HUB, b"")])
    assert (status, hub["hubId"]) == (200, HUB_A)
    assert (await api.get(HUBS)).status == 200


async def test_a_client_that_gives_up_on_a_waiting_answer_still_has_its_request_applied_and_journaled(
        api: Api) -> None:
    def give_up() -> None:
        with _connect(_port(api)) as sock:
            sock.sendall(f"DELETE {HUB} HTTP/1.1\r\nHost: x\r\n{AUTH}X-Mockhub-Delay: 200\r\n\r\n".encode())
            time.sleep(0.05)

    await asyncio.to_thread(give_up)
    deleted: list[tuple[str, int]] = []
    for _ in range(100):  # the answer is due 0.2 s after the request; a busy machine may take longer
        deleted = [(e["method"], e["status"]) for e in await _journal(api) if e["path"] == HUB]
        if deleted:
            break
        await asyncio.sleep(0.05)
    assert deleted == [("DELETE", 200)]
    assert (await api.get(HUB)).status == 404


# Middlewares an app adds itself

async def test_a_middleware_added_after_create_app_runs_for_every_api_request_a_raw_lookup_included(
        aiohttp_client: Any, contract: Contract, admin_contract: Contract, checker: ResponseChecker) -> None:
    app = _mockhub_app(contract, admin_contract)
    seen: list[str] = []

    @web.middleware
    async def stamp(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append(request.method)
        response = await handler(request)
        response.headers["X-Stamped"] = "yes"
        return response

    app.middlewares.append(stamp)
    port = (await aiohttp_client(MockhubTestServer(app))).port
    requests = [("GET", HUB, b""), LOOKUP_ABCDE]
    raw = await asyncio.to_thread(raw_exchange, port, b"".join(encode(requests)))
    hub, lookup = _replies(checker, raw, requests)
    assert (hub[0], hub[2]["hubId"]) == (200, HUB_A)
    assert (lookup[0], lookup[2]) == (200, [POINT_ABCDE])  # answered as a LOOKUP
    assert [hub[1].get("X-Stamped"), lookup[1].get("X-Stamped")] == ["yes", "yes"]
    assert seen == ["GET", "LOOKUP"]


# Expectations

async def test_a_body_sent_after_100_continue_is_read(api: Api) -> None:
    body = _hub_body("after continue")

    def expect() -> tuple[bytes, bytes]:
        with _connect(_port(api)) as sock:
            sock.sendall(f"POST {HUBS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
                         f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
            interim = b""
            while not interim.endswith(b"\r\n\r\n"):
                interim += sock.recv(1)
            sock.sendall(body)
            return interim, _until_closed(sock)

    interim, raw = await asyncio.to_thread(expect)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    [(status, hub)] = read_answers(api, raw, [("POST", HUBS, body)])
    assert (status, hub["name"]) == (200, "after continue")
    assert (await api.get(f"{HUBS}/{hub['hubId']}")).status == 200


async def test_an_expectation_other_than_100_continue_is_a_417_in_the_apis_format(api: Api) -> None:
    def expect(path: str) -> bytes:
        return raw_exchange(_port(api), f"POST {path} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
                                        "Expect: foo\r\nContent-Length: 2\r\n\r\n{}".encode())

    [portal] = _replies(api.checker, await asyncio.to_thread(expect, HUBS), [("POST", HUBS, b"{}")], (0,))
    _assert_portal_error(417, portal)
    [era] = _replies(api.checker, await asyncio.to_thread(expect, POINTS), [("POST", POINTS, b"{}")], (0,))
    _assert_era_error(417, era)


# Half-closed connections

async def test_a_half_closed_connection_has_every_request_answered_in_order_then_is_closed(api: Api) -> None:
    requests = [("GET", HUB, b""), LOOKUP_ABCDE, LIST_CODES]
    raw = await asyncio.to_thread(_half_closed_exchange, _port(api), b"".join(encode(requests, close_last=False)))
    answers = read_answers(api, raw, requests)
    assert [status for status, _ in answers] == [200, 200, 200]
    assert answers[0][1]["hubId"] == HUB_A
    assert answers[1][1] == [POINT_ABCDE]
    assert answers[2][1] == [{"code": "ABCDE"}, {"code": "902"}]


async def test_two_pipelined_posts_before_a_half_close_are_both_applied_and_answered(api: Api) -> None:
    requests = [("POST", HUBS, _hub_body("half one")), ("POST", HUBS, _hub_body("half two"))]
    raw = await asyncio.to_thread(_half_closed_exchange, _port(api), b"".join(encode(requests, close_last=False)))
    answers = read_answers(api, raw, requests)
    assert [(status, hub["name"]) for status, hub in answers] == [(200, "half one"), (200, "half two")]
    names = [hub["name"] for hub in (await api.get(HUBS, params={"pageSize": 100})).json()["results"]]
    assert names.count("half one") == names.count("half two") == 1


@pytest.mark.parametrize("head", [f"GET {HUB} HTTP/1.1\r\nHost: x\r\n{AUTH}Cookie: flavour=oat\r\n\r\n",
                                  f"GET {HUB} HTTP/1.0\r\nHost: x\r\n{AUTH}\r\n"], ids=["cookie", "http-1.0"])
async def test_a_request_before_a_half_close_is_answered(api: Api, head: str) -> None:
    raw = await asyncio.to_thread(_half_closed_exchange, _port(api), head.encode())
    [(status, hub)] = read_answers(api, raw, [("GET", HUB, b"")])
    assert (status, hub["hubId"]) == (200, HUB_A)


# What is not served: protocol switches, proxying, unknown methods

async def test_an_upgrade_is_declined_and_the_request_in_the_same_write_behind_it_answered(api: Api) -> None:
    upgrade = (f"GET {HUB} HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode()
    [after] = encode([LIST_CODES])
    raw = await asyncio.to_thread(raw_exchange, _port(api), upgrade + after)
    answers = read_answers(api, raw, [("GET", HUB, b""), LIST_CODES])
    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1]["hubId"] == HUB_A


async def test_connect_is_a_405_in_the_apis_format_and_the_connection_closes(api: Api) -> None:
    raw = await asyncio.to_thread(raw_exchange, _port(api), b"CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n")
    [reply] = _replies(api.checker, raw, [("CONNECT", "host:443", b"")], (0,))
    _assert_portal_error(405, reply)
    assert _connection_close(reply[1])  # and the server closed it: raw_exchange reads until it does


async def test_a_lower_case_method_is_a_405_with_a_json_body_whatever_frames_its_body(api: Api) -> None:
    head = f"get {HUBS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
    [after] = encode([LIST_CODES])
    replies = []
    for framing in ("Content-Length: 2\r\n\r\n{}", "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"):
        raw = await asyncio.to_thread(raw_exchange, _port(api), (head + framing).encode() + after)
        refused, listed = _replies(api.checker, raw, [("get", HUBS, b"{}"), LIST_CODES], (0,))
        _assert_portal_error(405, refused)
        assert listed[0] == 200  # the refused request's body was read as its body, not as the next request
        replies.append((refused[0], refused[1].get("Allow"), refused[2]))
    assert replies[0] == replies[1]


# What a client owes is timed, never what the server does; connections are bounded

async def test_the_head_timer_does_not_run_while_the_server_is_busy_answering(make_api: MakeApi) -> None:
    api = await make_api(head_timeout=0.5)
    requests = [LIST_CODES] * 41
    raw = b"".join(encode(requests)).replace(b"\r\n\r\n", b"\r\nX-Mockhub-Delay: 1200\r\n\r\n", 1)
    answers = read_answers(api, await asyncio.to_thread(raw_exchange, _port(api), raw), requests)
    assert answers == [(200, [{"code": "ABCDE"}, {"code": "902"}])] * 41


STUCK_BODY = (f"POST {HUBS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
              "Content-Length: 100\r\n\r\n{").encode()
"""A head promising 100 bytes of body, and the body's first byte only."""


async def test_a_body_that_does_not_come_is_cut_off_and_its_budget_released(make_api: MakeApi) -> None:
    api = await make_api(body_timeout=0.3, max_pending_body_bytes=150)

    def stuck() -> bytes:
        with _connect(_port(api)) as sock:
            sock.sendall(STUCK_BODY)
            return _until_closed(sock)

    raw = await asyncio.to_thread(stuck)
    if raw:  # closed with an answer: a whole one, in the API's format
        read_answers(api, raw, [("POST", HUBS, b"")])
    body = json.dumps({"name": "after the cut", "description": "a body of more than fifty bytes"})
    reply = await api.request("POST", HUBS, data=body, headers={"Content-Type": "application/json"})
    for _ in range(40):  # the server lets the cut-off body go as it sees the connection close
        if reply.status != 503:
            break
        await asyncio.sleep(0.05)
        reply = await api.request("POST", HUBS, data=body, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.json()["name"]) == (200, "after the cut")


async def test_connections_stuck_in_a_body_do_not_keep_a_new_client_out_for_long(make_api: MakeApi) -> None:
    api = await make_api(max_connections=3)

    def newcomer() -> list[int]:
        stuck = [_connect(_port(api)) for _ in range(3)]
        statuses: list[int] = []
        try:
            for sock in stuck:
                sock.sendall(STUCK_BODY)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and 200 not in statuses:
                [(status, _)] = read_answers(api, raw_exchange(_port(api), b"".join(encode([LIST_CODES]))),
                                             [LIST_CODES])
                statuses.append(status)
                if status != 200:
                    time.sleep(0.1)
        finally:
            for sock in stuck:
                sock.close()
        return statuses

    statuses = await asyncio.to_thread(newcomer)
    assert statuses[-1] == 200
    assert set(statuses) <= {200, 503}


async def test_a_burst_past_the_connection_limit_gets_whole_answers_and_no_reset(make_api: MakeApi) -> None:
    api = await make_api(max_connections=20)
    [request] = encode([LIST_CODES], close_last=False)  # each client means to keep its connection

    def burst() -> list[Reply | str]:
        socks = [_connect(_port(api)) for _ in range(25)]
        got: list[Reply | str] = []
        try:
            for sock in socks:
                sock.sendall(request)
            for sock in socks:
                response = http.client.HTTPResponse(sock, method="GET")
                try:
                    response.begin()
                except ConnectionResetError:
                    got.append("reset")
                    continue
                headers = response.headers
                status, body = _checked(api, *LIST_CODES[:2], response)
                got.append((status, headers, body))
        finally:
            for sock in socks:
                sock.close()
        return got

    got = await asyncio.to_thread(burst)
    assert "reset" not in got
    for reply in got:
        assert not isinstance(reply, str)
        status, headers, _ = reply
        assert status in (200, 503)
        if status == 503:
            assert headers["Retry-After"] == "1"


# Bodies and fields mockhub reads itself

async def test_a_body_not_in_its_content_encoding_is_a_400_and_the_next_request_is_answered(api: Api) -> None:
    bad = (f"POST {HUBS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
           "Content-Length: 8\r\n\r\nnot gzip").encode()
    [after] = encode([LIST_CODES])
    raw = await asyncio.to_thread(raw_exchange, _port(api), bad + after)
    refused, listed = read_answers(api, raw, [("POST", HUBS, b"not gzip"), LIST_CODES])
    assert (refused[0], refused[1]["status"]) == (400, 400)
    assert "Content-Encoding" in refused[1]["errors"][0]["description"]
    assert listed == (200, [{"code": "ABCDE"}, {"code": "902"}])
    # the api fixture fails the test if the mock met an error of its own


async def test_a_clients_own_wire_method_field_is_ignored(api: Api) -> None:
    raw = await asyncio.to_thread(raw_exchange, _port(api), f"GET {HUB} HTTP/1.1\r\nHost: x\r\n{AUTH}"
                                                            "X-Mockhub-Wire-Method: DELETE\r\nConnection: close\r\n\r\n"
                                                            .encode())
    [(status, hub)] = read_answers(api, raw, [("GET", HUB, b"")])
    assert (status, hub["hubId"]) == (200, HUB_A)
    assert (await api.get(HUB)).status == 200


def _gzipped_post(body: bytes) -> bytes:
    zipped = gzip.compress(body)
    return (f"POST {HUBS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(zipped)}\r\nConnection: close\r\n\r\n").encode() + zipped


async def test_a_gzipped_post_to_serve_is_stored_and_a_gzip_bomb_is_413(
        servers: Servers, checker: ResponseChecker) -> None:
    _, port = servers.start(max_body_bytes=64 * 1024)
    body = _hub_body("zipped")
    [(status, _, hub)] = _replies(checker, await asyncio.to_thread(raw_exchange, port, _gzipped_post(body)),
                                  [("POST", HUBS, body)])
    assert (status, hub["name"]) == (200, "zipped")
    fetch = f"GET {HUBS}/{hub['hubId']} HTTP/1.1\r\nHost: x\r\n{AUTH}Connection: close\r\n\r\n".encode()
    [(status, _, stored)] = _replies(checker, await asyncio.to_thread(raw_exchange, port, fetch),
                                     [("GET", f"{HUBS}/{hub['hubId']}", b"")])
    assert (status, stored["name"]) == (200, "zipped")
    bomb = _hub_body("x" * 1_000_000)
    assert len(gzip.compress(bomb)) < 64 * 1024 < len(bomb)
    [(status, _, refused)] = _replies(checker, await asyncio.to_thread(raw_exchange, port, _gzipped_post(bomb)),
                                      [("POST", HUBS, b"")])
    assert (status, refused["status"]) == (413, 413)


# Chunked bodies: handed to aiohttp rewritten, so nothing of one request reaches another

CHUNKED_LOOKUP = (f"POST {POINTS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
                  "X-HTTP-Method-Override: LOOKUP\r\nTransfer-Encoding: chunked\r\n\r\n").encode()


async def test_a_chunked_bodys_trailer_fields_never_reach_the_next_request(api: Api, checker: ResponseChecker) -> None:
    """aiohttp's parser kept a trailer and gave it to the next request: an Authorization trailer let a GET
    without a token read tenant A's hubs, and a trailer named X-Mockhub-Wire-Method made a POST a LOOKUP."""
    data = (CHUNKED_LOOKUP + b'7\r\n"ABCDE"\r\n0\r\nAuthorization: Bearer ' + TOKEN.encode() + b"\r\n"
            b"X-Mockhub-Wire-Method: LOOKUP\r\n\r\n" + f"GET {HUBS} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            + f"POST {POINTS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\nContent-Length: 5\r\n"
              "Connection: close\r\n\r\n\"abc\"".encode())
    raw = await asyncio.to_thread(_half_closed_exchange, _port(api), data)
    replies = _replies(checker, raw, [("LOOKUP", POINTS, b""), ("GET", HUBS, b""), ("POST", POINTS, b"")])
    assert [status for status, _, _ in replies] == [200, 401, 400]  # the POST creates, it is no LOOKUP
    assert replies[0][2] == [POINT_ABCDE]


@pytest.mark.parametrize("size_line", [b"7;a b", b"7;", b"7 ;a=b", b"7;a=\"b", b"7\n"])
async def test_a_chunk_size_line_aiohttp_would_refuse_is_a_400_at_once(api: Api, checker: ResponseChecker,
                                                                        size_line: bytes) -> None:
    """The wire let these through and aiohttp refused them mid-body: no answer and no close, ever."""
    data = CHUNKED_LOOKUP + size_line + (b"" if size_line.endswith(b"\n") else b"\r\n") + b'"ABCDE"\r\n0\r\n\r\n'
    raw = await asyncio.to_thread(raw_exchange, _port(api), data)
    [reply] = _replies(checker, raw, [("LOOKUP", POINTS, b"")])
    _assert_era_error(400, reply)


async def test_a_chunk_longer_than_its_size_is_a_400_at_once_after_the_answers_before_it(
        api: Api, checker: ResponseChecker) -> None:
    """The framing error came after the head was handed over: the request could never be whole, and its
    refusal waited behind it until the body timeout closed the connection without a word."""
    delayed = f"GET {POINTS}?limit=1 HTTP/1.1\r\nHost: x\r\n{AUTH}X-Mockhub-Delay: 300\r\n\r\n".encode()
    raw = await asyncio.to_thread(raw_exchange, _port(api), delayed + CHUNKED_LOOKUP + b'3\r\n"ABCDE"\r\n0\r\n\r\n')
    first, refused = _replies(checker, raw, [("GET", POINTS, b""), ("LOOKUP", POINTS, b"")])
    assert first[0] == 200
    _assert_era_error(400, refused)


async def test_a_request_that_closes_the_connection_still_has_its_body_read_with_flow_control(
        make_api: MakeApi) -> None:
    """Once a request said Connection: close, reading was never paused again: 381 MB of an endless body were
    taken in 0.3 s while the request before it waited on a delay."""
    api = await make_api()

    def send_endlessly() -> int:
        with _connect(_port(api)) as sock:
            sock.sendall(f"GET {POINTS}?limit=1 HTTP/1.1\r\nHost: x\r\n{AUTH}X-Mockhub-Delay: 3000\r\n\r\n"
                         f"POST {POINTS} HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: 100000000000\r\n\r\n".encode())
            sock.settimeout(2)
            sent, block = 0, b"x" * 65536
            try:
                while sent < 256 * 1024 * 1024:
                    sent += sock.send(block)
            except TimeoutError:
                pass
            return sent

    sent = await asyncio.to_thread(send_endlessly)
    assert sent < 64 * 1024 * 1024  # the server stopped reading: a few MiB sit in buffers, no more


def test_a_stop_answers_a_request_whose_body_is_still_arriving(servers: Servers, checker: ResponseChecker) -> None:
    """A stop threw away the rest of a body under way: the request was never answered."""
    server, port = servers.start(shutdown_grace=5.0)
    with _connect(port) as sock:
        sock.sendall(f"LOOKUP {POINTS} HTTP/1.1\r\nHost: x\r\n{AUTH}Content-Type: application/json\r\n"
                     "Content-Length: 7\r\n\r\n\"AB".encode())
        time.sleep(RECEIVED)
        stopping = servers.stop_in_a_thread(server)
        time.sleep(RECEIVED)
        sock.sendall(b'CDE"')
        answered = _until_closed(sock)
        stopping.join(timeout=30)
    [(status, headers, found)] = _replies(checker, answered, [("LOOKUP", POINTS, b"")])
    assert (status, found) == (200, [POINT_ABCDE])
    assert _connection_close(headers)
