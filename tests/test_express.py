"""The express lane: the same answers as the usual way, in order when one has to wait, and a clean stop.

An idle keep-alive connection's API request is answered as soon as it is parsed
(``mockhub.web.express``); everything else goes through aiohttp's request machinery. Each
test here checks that a client cannot tell the two apart, byte for byte but the ``Date``.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from typing import Any

import pytest
from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from mockhub.web.express import EXPRESS, Express
from mockhub.web.server import BackgroundServer
from tests.conftest import CLOCK, HUB_A, POINT_ABCDE, POINTS, TOKEN, Api, MakeApi
from tests.test_http_framing import encode
from tests.test_http_parser import _port, read_answers

AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
Sent = tuple[str, str, dict[str, str], bytes]

# Every kind of answer the APIs give: found, created, listed, empty (204), each error format,
# faults asked for by header (with Retry-After and Allow), CORS, sessions, the method override.
REQUESTS: list[Sent] = [
    ("GET", f"/api/v1/hubs/{HUB_A}", AUTH, b""),
    ("GET", "/api/v1/hubs?pageSize=2&pageNumber=1", AUTH, b""),
    ("GET", "/api/v1/hubs?pageSize=many", AUTH, b""),
    ("GET", "/api/v1/hubs/3bc1e69f-c520-446f-ab2c-000000000000", AUTH, b""),
    ("GET", f"/api/v1/hubs/{HUB_A}", {}, b""),
    ("POST", "/api/v1/hubs", JSON, b'{"name": "express", "description": "d", "closeDormantConversation": 30}'),
    ("POST", "/api/v1/hubs", JSON, b'{"name": '),
    ("LOOKUP", POINTS, JSON, b'"ABCDE"'),
    ("LOOKUP", POINTS, JSON, b'"nope"'),
    ("POST", POINTS, {**JSON, "X-HTTP-Method-Override": "LOOKUP"}, b'"ABCDE"'),
    ("GET", f"{POINTS}?mask=code&limit=1", AUTH, b""),
    ("DELETE", f"{POINTS}/{POINT_ABCDE}", AUTH, b""),
    ("DELETE", f"{POINTS}/{POINT_ABCDE}", AUTH, b""),
    ("GET", "/api/v1/hubs", {**AUTH, "X-Mockhub-Fault": "503"}, b""),
    ("GET", "/api/v1/hubs", {**AUTH, "X-Mockhub-Fault": "405"}, b""),
    ("GET", POINTS, {**AUTH, "X-Mockhub-Fault": "429"}, b""),
    ("GET", "/api/v1/hubs", {**AUTH, "X-Mockhub-Fault": "explode"}, b""),
    ("GET", "/api/v1/hubs?pageSize=1", {**AUTH, "Origin": "http://localhost:5173"}, b""),
    ("GET", "/api/v1/hubs?pageSize=1", {**AUTH, "X-Mockhub-Session": "express"}, b""),
    ("GET", "/api/v1/hubs?pageSize=1", {**AUTH, "X-Mockhub-Session": "bad name!"}, b""),
]


SETTLE = 0.2
"""Seconds for the server to finish with a request answered the usual way: the express lane takes a
request only on an idle connection (one it answered itself is idle at once)."""


def idle_socket(port: int) -> socket.socket:
    """A connection that has been answered once (health, the usual way) and has settled."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"GET /__mockhub/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
    time.sleep(SETTLE)
    return sock


def converse(port: int, requests: list[Sent]) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """Each request in turn, whole in one write, on one idle keep-alive connection; each answer as read.

    (A request whose body comes after its head, in a write of its own, takes the usual way.)
    """
    with idle_socket(port) as sock:
        answers = []
        for method, path, headers, body in requests:
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                         .encode() + body)
            response = http.client.HTTPResponse(sock, method=method)
            response.begin()
            answers.append((response.status, [(name, value) for name, value in response.getheaders()
                                              if name.lower() != "date"], response.read()))
        return answers


@pytest.fixture
def lanes_taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each request the express lane was offered took it."""
    taken: list[bool] = []
    offer = Express.request

    def recorded(self: Express, *args: Any) -> Any:
        found = offer(self, *args)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(Express, "request", recorded)
    return taken


async def test_the_express_lane_answers_byte_for_byte_as_the_usual_way(
        aiohttp_client: Any, contract: Contract, admin_contract: Contract, lanes_taken: list[bool]) -> None:
    ports = []
    for express in (True, False):
        app = create_app(Settings(clock=CLOCK), contract=contract, admin_contract=admin_contract)
        if not express:
            del app[EXPRESS]
        ports.append((await aiohttp_client(MockhubTestServer(app))).port)
    fast = await asyncio.to_thread(converse, ports[0], REQUESTS)
    assert lanes_taken[-len(REQUESTS):] == [True] * len(REQUESTS)
    assert lanes_taken[:-len(REQUESTS)] in ([], [False])  # health, when offered, takes the usual way
    offered = len(lanes_taken)
    usual = await asyncio.to_thread(converse, ports[1], REQUESTS)
    assert len(lanes_taken) == offered  # the second server has no express lane
    for sent, one, other in zip(REQUESTS, fast, usual, strict=True):
        assert one == other, sent[:2]
    assert [status for status, _, _ in fast] == [200, 200, 400, 404, 401, 200, 400, 200, 404, 200, 200, 204, 404,
                                                 503, 405, 429, 400, 200, 200, 400]


async def test_an_answer_that_waits_holds_back_the_next_request_on_its_connection(
        api: Api, lanes_taken: list[bool]) -> None:
    requests = [("GET", f"/api/v1/hubs/{HUB_A}", b""), ("DELETE", f"{POINTS}/{POINT_ABCDE}", b""),
                ("LOOKUP", POINTS, b'"ABCDE"')]
    first, *rest = encode(requests)
    first = first.replace(b"\r\n\r\n", b"\r\nX-Mockhub-Delay: 300\r\n\r\n", 1)

    def send() -> bytes:
        with idle_socket(_port(api)) as sock:
            sock.sendall(first)
            time.sleep(0.1)  # the first answer is waiting; the next requests arrive meanwhile
            for write in rest:
                sock.sendall(write)
                time.sleep(0.02)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    answers = read_answers(api, await asyncio.to_thread(send), requests)
    assert [status for status, _ in answers] == [200, 204, 404]
    assert answers[0][1]["hubId"] == HUB_A
    assert lanes_taken[-1] is True  # the first (after health): the others came while it waited
    journal = (await api.get("/__mockhub/requests")).json()
    assert [(e["method"], e["status"]) for e in journal[-3:]] == [
        ("GET", 200), ("DELETE", 204), ("LOOKUP", 404)]


async def test_a_fault_that_resets_the_connection_leaves_the_server_answering(api: Api) -> None:
    def reset_then_ask() -> tuple[bytes, int]:
        with idle_socket(_port(api)) as sock:
            sock.sendall(f"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                         "X-Mockhub-Fault: reset\r\n\r\n".encode())
            try:
                got = sock.recv(65536)
            except ConnectionResetError:
                got = b"reset"
        return got, len(converse(_port(api), REQUESTS[:1]))

    got, answered = await asyncio.to_thread(reset_then_ask)
    assert got in (b"reset", b"")
    assert answered == 1


ASK_HUB = f"GET /api/v1/hubs/{HUB_A} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"


def stop_while_waiting(writes: list[bytes]) -> bytes:
    """Send each write 0.1 s apart on an idle connection, the first asking for a 400 ms delay; stop the
    server; everything it sent until it closed the connection."""
    server = BackgroundServer(create_app(Settings(clock=CLOCK, shutdown_grace=2.5)))
    port = int(server.start().rsplit(":", 1)[1])
    with idle_socket(port) as sock:
        for write in [f"{ASK_HUB}X-Mockhub-Delay: 400\r\n\r\n".encode(), *writes]:
            sock.sendall(write)
            time.sleep(0.1)
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        stopping.join(timeout=30)
    return b"".join(chunks)


def test_a_stop_answers_a_waiting_express_request_and_says_the_connection_closes() -> None:
    head, _, body = stop_while_waiting([]).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"\r\nconnection: close" in head.lower()
    assert json.loads(body)["hubId"] == HUB_A


async def test_a_request_with_a_cookie_or_connection_close_takes_the_usual_way_and_answers_the_same(
        make_api: MakeApi, lanes_taken: list[bool]) -> None:
    api = await make_api()
    sent = [("GET", f"/api/v1/hubs/{HUB_A}", {**AUTH, "Cookie": "mockhub_session=cookie"}, b"")]
    with_cookie = await asyncio.to_thread(converse, _port(api), sent)
    assert True not in lanes_taken
    assert with_cookie[0][0] == 200
    sessions = (await api.get("/__mockhub/sessions")).json()
    assert "cookie" in json.dumps(sessions)


def test_a_stop_answers_the_requests_queued_behind_a_waiting_express_answer() -> None:
    answered = stop_while_waiting([f"{ASK_HUB}\r\n".encode()])  # the second is queued behind the first
    assert answered.count(b"HTTP/1.1 200 OK") == 2
    first, second = answered.split(b"HTTP/1.1 200 OK")[1:]
    assert b"connection: close" not in first.lower()
    assert b"connection: close" in second.lower()


async def test_a_client_that_gives_up_on_a_waiting_answer_still_has_its_request_applied_and_journaled(
        api: Api) -> None:
    def give_up() -> None:
        with idle_socket(_port(api)) as sock:
            sock.sendall(f"DELETE{ASK_HUB[3:]}X-Mockhub-Delay: 200\r\n\r\n".encode())
            time.sleep(0.05)

    await asyncio.to_thread(give_up)
    deleted: list[tuple[str, int]] = []
    for _ in range(100):  # the answer is due 0.2 s after the request; a busy machine may take longer
        journal = (await api.get("/__mockhub/requests")).json()
        deleted = [(e["method"], e["status"]) for e in journal if e["path"] == f"/api/v1/hubs/{HUB_A}"]
        if deleted:
            break
        await asyncio.sleep(0.05)
    assert deleted == [("DELETE", 200)]
    assert (await api.get(f"/api/v1/hubs/{HUB_A}")).status == 404


async def test_a_middleware_added_after_create_app_runs_for_every_api_request(
        aiohttp_client: Any, contract: Contract, admin_contract: Contract) -> None:
    app = create_app(Settings(clock=CLOCK), contract=contract, admin_contract=admin_contract)

    @web.middleware
    async def stamp(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        response.headers["X-Stamped"] = "yes"
        return response

    app.middlewares.append(stamp)
    port = (await aiohttp_client(MockhubTestServer(app))).port
    [(status, headers, _)] = await asyncio.to_thread(converse, port, REQUESTS[:1])
    assert (status, dict(headers).get("X-Stamped")) == (200, "yes")


async def test_an_expectation_is_answered_as_aiohttp_answers_it(api: Api, lanes_taken: list[bool]) -> None:
    def expect() -> bytes:
        with idle_socket(_port(api)) as sock:
            sock.sendall(f"LOOKUP {POINTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Expect: 100-continue\r\nContent-Length: 7\r\n\r\n\"ABCDE\"".encode())
            time.sleep(0.2)
            return sock.recv(65536)

    answer = await asyncio.to_thread(expect)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
    assert True not in lanes_taken
