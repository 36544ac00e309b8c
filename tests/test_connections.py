"""Connections no client can hoard, a stop that answers what it received, and the control API's guards.

Raw sockets, as a hostile or careless client would use them; every answer that comes back
is checked against the contract.
"""

from __future__ import annotations

import asyncio
import gc
import json
import select
import socket
import threading
import time
from typing import Any

import pytest

from mockhub.settings import Settings
from mockhub.web.app import create_app
from mockhub.web.server import BackgroundServer
from tests.conftest import CLOCK, POINTS, TOKEN, Api, MakeApi, raw_exchange
from tests.test_http_framing import encode, read_answers
from tests.test_http_parser import Answer, _port

HEALTH = ("GET", "/__mockhub/health", b"")


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _one_answer(api: Api, sock: socket.socket, request: tuple[str, str, bytes], close: bool) -> Answer:
    """Send one request on an open socket and read its answer (until the close, when ``close``)."""
    [raw] = encode([request], close_last=close)
    sock.sendall(raw)
    if close:
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        [answer] = read_answers(api, b"".join(chunks), [request])
        return answer
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
        data += sock.recv(65536)
    [answer] = read_answers(api, data, [request])
    return answer


def _length(data: bytes) -> int:
    head = data[:data.index(b"\r\n\r\n")].decode().lower()
    return next(int(line.split(":")[1]) for line in head.split("\r\n") if line.startswith("content-length:"))


def _closed_by_server(sock: socket.socket) -> bytes:
    """What the server sends before closing the connection (``b""`` for a silent close)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_past_the_connection_limit_health_and_open_connections_still_answer(make_api: MakeApi) -> None:
    api = await make_api(max_connections=4)
    port = _port(api)

    def scenario() -> dict[str, Any]:
        held = [_connect(port) for _ in range(4)]
        try:
            # Each held connection is answered once, so each is surely counted; then they idle.
            first = [_one_answer(api, sock, HEALTH, close=False) for sock in held]
            silent = [_connect(port) for _ in range(3)]  # past the limit, sending nothing
            with _connect(port) as health:
                health_answer = _one_answer(api, health, HEALTH, close=True)
            with _connect(port) as refused:
                refused.sendall(encode([("GET", f"{POINTS}?mask=code", b"")])[0])
                refusal = _closed_by_server(refused)
            still = _one_answer(api, held[0], ("GET", f"{POINTS}?mask=code", b""), close=False)
            for sock in silent:
                sock.close()
        finally:
            for sock in held:
                sock.close()
        return {"first": first, "health": health_answer, "refusal": refusal, "still": still}

    seen = await asyncio.to_thread(scenario)
    assert [status for status, _ in seen["first"]] == [200] * 4
    assert seen["health"][0] == 200
    [(status, body)] = read_answers(api, seen["refusal"], [("GET", POINTS, b"")])
    assert (status, body["error_code"]) == (503, 1503)
    assert b"Retry-After: 1" in seen["refusal"]
    assert seen["still"][0] == 200
    # Once the held connections are gone, new clients are served again.
    assert (await api.get(f"{POINTS}?mask=code")).status == 200


async def test_a_flood_of_silent_connections_cannot_keep_health_or_anyone_out(make_api: MakeApi) -> None:
    api = await make_api(max_connections=4)
    port = _port(api)

    def scenario() -> tuple[list[Answer], Answer, Answer, int]:
        held = [_connect(port) for _ in range(2)]
        silent: list[socket.socket] = []
        try:
            first = [_one_answer(api, sock, HEALTH, close=False) for sock in held]
            silent = [_connect(port) for _ in range(40)]  # far past the limit and the spare reads past it
            with _connect(port) as health:
                health_answer = _one_answer(api, health, HEALTH, close=True)
            still = _one_answer(api, held[0], ("GET", f"{POINTS}?mask=code", b""), close=False)
            time.sleep(0.2)
            readable, _, _ = select.select(silent, [], [], 0)
            closed = sum(1 for sock in readable if sock.recv(1) == b"")
        finally:
            for sock in held + silent:
                sock.close()
        return first, health_answer, still, closed

    first, health, still, closed = await asyncio.to_thread(scenario)
    assert [status for status, _ in first] == [200, 200]
    assert health[0] == 200 and still[0] == 200
    # Each connection past the limit closed the oldest that had sent nothing, so the silent ones
    # never held more than the limit's free places.
    assert closed >= 40 - 2


async def test_a_request_head_that_never_ends_is_cut_off(make_api: MakeApi) -> None:
    api = await make_api(head_timeout=0.2)

    def trickle() -> tuple[bytes, bytes]:
        with _connect(_port(api)) as slow, _connect(_port(api)) as mute:
            slow.sendall(b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            return _closed_by_server(slow), _closed_by_server(mute)

    assert await asyncio.to_thread(trickle) == (b"", b"")
    assert (await api.get("/api/v1/hubs")).status == 200


async def test_an_idle_keep_alive_connection_is_closed(make_api: MakeApi) -> None:
    api = await make_api(keep_alive=0.2)

    def idle() -> tuple[Answer, bytes]:
        with _connect(_port(api)) as sock:
            return _one_answer(api, sock, HEALTH, close=False), _closed_by_server(sock)

    answer, after = await asyncio.to_thread(idle)
    assert answer[0] == 200
    assert after == b""


def test_stopping_answers_every_received_request_and_does_not_wait_for_a_slow_body() -> None:
    server = BackgroundServer(create_app(Settings(clock=CLOCK, shutdown_grace=2.5)))
    port = int(server.start().rsplit(":", 1)[1])
    slow = [("GET", f"{POINTS}?mask=code", b"")] * 20
    raw = b"".join(encode(slow, close_last=False)).replace(
        b"\r\n\r\n", f"\r\nX-Mockhub-Delay: 20\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
    with _connect(port) as busy, _connect(port) as stuck:
        busy.sendall(raw)
        stuck.sendall(f"POST {POINTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100\r\n\r\n{\"code\":".encode())
        _ = busy.recv(1, socket.MSG_PEEK)  # the first answer is under way: everything has been received
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        answered = _closed_by_server(busy)
        stopping.join(timeout=30)
        assert not stopping.is_alive(), "the stop waited for a body that never came"
    assert answered.count(b"HTTP/1.1 200 OK") == 20
    assert answered.rsplit(b"HTTP/1.1 200 OK", 1)[1].lower().count(b"connection: close") == 1


def test_a_request_still_in_hand_when_the_grace_runs_out_is_cancelled_not_left_pending(
        caplog: pytest.LogCaptureFixture) -> None:
    server = BackgroundServer(create_app(Settings(clock=CLOCK, shutdown_grace=0.5)))
    port = int(server.start().rsplit(":", 1)[1])
    with _connect(port) as waiting:
        waiting.sendall(f"GET {POINTS} HTTP/1.1\r\nHost: x\r\nX-Mockhub-Delay: 30000\r\n\r\n".encode())
        time.sleep(0.2)  # received, and waiting out its delay
        server.stop()
        assert _closed_by_server(waiting) == b""  # hung up once the grace ran out: nothing half-sent
    gc.collect()  # a task destroyed while pending is reported when it is collected
    assert not [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()]


async def test_the_control_api_refuses_a_host_name_that_could_be_rebound(make_api: MakeApi) -> None:
    api = await make_api()
    evil = await api.get("/__mockhub/state", headers={"Host": "evil.example"})
    assert (evil.status, evil.json()["status"]) == (403, 403)
    assert "--allowed-host" in evil.json()["error"]
    for host in ("localhost:8080", "127.0.0.1", "[::1]:8080", "app.localhost", "10.1.2.3:80"):
        assert (await api.get("/__mockhub/state", headers={"Host": host})).status == 200, host
    # Health answers any name (probes), and the API routes are the mock itself.
    assert (await api.get("/__mockhub/health", headers={"Host": "evil.example"})).status == 200
    assert (await api.get("/api/v1/hubs", headers={"Host": "evil.example"})).status == 200


async def test_an_allowed_host_name_reaches_the_control_api(make_api: MakeApi) -> None:
    api = await make_api(allowed_hosts=("mockhub",))
    assert (await api.get("/__mockhub/state", headers={"Host": "mockhub:8080"})).status == 200
    assert (await api.get("/__mockhub/state", headers={"Host": "evil.example"})).status == 403


async def test_another_site_cannot_read_the_control_api_but_may_call_the_apis(make_api: MakeApi) -> None:
    api = await make_api()
    evil = {"Origin": "http://evil.example"}
    state = await api.get("/__mockhub/state", headers=evil)
    assert state.status == 403
    assert "--cors-origin" in state.json()["error"]  # readable by the page: it says why, and holds no state
    assert set(state.json()) == {"status", "error"}
    local = await api.get("/__mockhub/state", headers={"Origin": "http://localhost:5173"})
    assert local.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    hubs = await api.get("/api/v1/hubs", headers=evil)
    assert hubs.headers["Access-Control-Allow-Origin"] == "http://evil.example"


async def test_a_page_on_another_site_cannot_change_the_mock_through_the_control_api(make_api: MakeApi) -> None:
    """A body-less POST goes without a preflight: any page open in the browser could reset the mock."""
    api = await make_api()
    assert (await api.post("/api/v1/hubs", {"name": "Mine", "description": ""})).status == 200
    refused = await api.request("POST", "/__mockhub/reset", token=None, headers={"Origin": "http://evil.example"})
    assert refused.status == 403 and "--cors-origin" in refused.json()["error"]
    assert "Mine" in [hub["name"] for hub in (await api.get("/api/v1/hubs")).json()["results"]]
    local = await api.request("POST", "/__mockhub/reset", token=None, headers={"Origin": "http://localhost:5173"})
    assert local.status == 200
    assert (await api.get("/__mockhub/health", token=None, headers={"Origin": "http://evil.example"})).status == 200


HUGE = "1" * 5000


async def test_an_integer_beyond_the_digit_limit_is_a_400_in_each_api_format(api: Api) -> None:
    era = await api.request("POST", POINTS, data=f'{{"code": "X", "type": "im", "n": {HUGE}}}',
                            headers={"Content-Type": "application/json"})
    assert (era.status, era.json()["error_code"]) == (400, 1400)
    assert "4300 digits" in era.json()["error_message"]
    portal = await api.request("POST", "/api/v1/hubs", data=f'{{"name": {HUGE}}}',
                               headers={"Content-Type": "application/json"})
    assert (portal.status, portal.json()["status"]) == (400, 400)
    for path, method in (("/__mockhub/state", "PUT"), ("/__mockhub/faults", "POST")):
        admin = await api.request(method, path, data=f'{{"x": {HUGE}}}', headers={"Content-Type": "application/json"})
        assert (admin.status, admin.json()["status"]) == (400, 400), path
    assert json.loads((await api.get("/__mockhub/health")).body)["status"]


HUBS = "/api/v1/hubs"
JSON = {"Content-Type": "application/json"}
PROBE = json.dumps({"name": "", "description": "p" * 300})
"""A body the budget counts: 400 (an empty name) when it is let in, 503 when it is not."""


async def _refused_while(api: Api) -> Any:
    """The probe's answer once the server counts another body: 503, or the last answer after 2 s."""
    for _ in range(100):
        reply = await api.request("POST", HUBS, data=PROBE, headers=JSON)
        if reply.status != 400:
            return reply
        await asyncio.sleep(0.02)
    return reply


async def test_bodies_received_together_are_bounded_and_a_refused_one_is_never_held(make_api: MakeApi) -> None:
    api = await make_api(max_pending_body_bytes=1000)
    hub = json.dumps({"name": "slow hub", "description": "d" * 700}).encode()
    [raw] = encode([("POST", HUBS, hub)], close_last=True)
    slow = await asyncio.to_thread(_connect, _port(api))
    try:
        await asyncio.to_thread(slow.sendall, raw[:-len(hub) + 10])  # the head, and the body's first bytes
        refused = await _refused_while(api)
        assert (refused.status, refused.json()["status"]) == (503, 503)
        assert refused.headers["Retry-After"] == "1"
        assert "--max-pending-body-bytes (1000)" in refused.json()["errors"][0]["description"]
        await asyncio.to_thread(slow.sendall, raw[-len(hub) + 10:])
        [(status, created)] = read_answers(api, await asyncio.to_thread(_closed_by_server, slow), [("POST", HUBS, hub)])
    finally:
        slow.close()
    assert (status, created["name"]) == (200, "slow hub")
    # The finished body no longer counts, and the refused one never did.
    assert (await api.request("POST", HUBS, data=PROBE, headers=JSON)).status == 400
    era = await api.request("POST", POINTS, data=json.dumps({"code": "c" * 1100, "type": "im"}), headers=JSON)
    assert (era.status, era.json()["error_code"]) == (503, 1503)


async def test_a_chunked_body_counts_as_its_chunks_arrive(make_api: MakeApi) -> None:
    api = await make_api(max_pending_body_bytes=1000)

    def chunked(size: int) -> bytes:
        chunks = [b'{"name": "chunked", "description": "', b"d" * size, b"d" * size, b'"}']
        return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"

    head = (f"POST {HUBS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    [(status, refused)] = read_answers(api, await asyncio.to_thread(raw_exchange, _port(api), head + chunked(600)),
                                       [("POST", HUBS, b"")])
    assert (status, refused["status"]) == (503, 503)
    [(status, created)] = read_answers(api, await asyncio.to_thread(raw_exchange, _port(api), head + chunked(300)),
                                       [("POST", HUBS, b"")])
    assert (status, created["name"]) == (200, "chunked")


async def test_a_body_too_large_is_413_even_when_a_fault_rule_reads_it_first(make_api: MakeApi) -> None:
    api = await make_api(max_body_bytes=1024)
    rule = {"method": "POST", "path": HUBS, "body": {"name": "x"}, "status": 503}
    assert (await api.post("/__mockhub/faults", rule, token=None)).status == 201
    data = json.dumps({"name": "y", "description": "d" * 2000})
    reply = await api.request("POST", HUBS, data=data, headers=JSON)
    assert (reply.status, reply.json()["status"]) == (413, 413)
    [entry] = (await api.get("/__mockhub/requests", token=None)).json()[-1:]
    assert (entry["status"], entry["body"]) == (413, "")


def _post_hub(name: str, headers: str = "", body_sent: int | None = None) -> bytes:
    """A hub's POST as raw bytes with ``headers`` added, or with only ``body_sent`` bytes of its body."""
    body = json.dumps({"name": name, "description": "gone"}).encode()
    head = (f"POST /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n").encode()
    return head + body[:body_sent]


@pytest.mark.parametrize("usual_way", ["Connection: close\r\n", "Cookie: a=b\r\n"])
async def test_a_client_that_gives_up_during_a_delay_still_has_its_post_applied(api: Api, usual_way: str) -> None:
    def give_up() -> None:
        with socket.create_connection(("127.0.0.1", _port(api)), timeout=5) as sock:
            sock.sendall(_post_hub("Left early", f"X-Mockhub-Delay: 200\r\n{usual_way}"))
            time.sleep(0.05)

    await asyncio.to_thread(give_up)
    created: list[tuple[str, int]] = []
    for _ in range(100):  # the answer is due 0.2 s after the request; a busy machine may take longer
        journal = (await api.get("/__mockhub/requests")).json()
        created = [(e["method"], e["status"]) for e in journal if e["path"] == "/api/v1/hubs"]
        if created:
            break
        await asyncio.sleep(0.05)
    assert created == [("POST", 200)]
    hubs = (await api.get("/api/v1/hubs", params={"pageSize": 100})).json()["results"]
    assert [hub["name"] for hub in hubs].count("Left early") == 1


async def test_a_client_that_leaves_before_its_body_came_changes_nothing_and_breaks_nothing(api: Api) -> None:
    def leave() -> None:
        with socket.create_connection(("127.0.0.1", _port(api)), timeout=5) as sock:
            sock.sendall(_post_hub("Half sent", body_sent=10))
            time.sleep(0.1)

    before = (await api.get("/api/v1/hubs")).json()["total"]
    await asyncio.to_thread(leave)
    await asyncio.sleep(0.2)
    assert (await api.get("/api/v1/hubs")).json()["total"] == before
    assert [e["path"] for e in (await api.get("/__mockhub/requests")).json()] == ["/api/v1/hubs"] * 2
