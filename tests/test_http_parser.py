"""Custom verbs reach the app from real clients: the C parser's fallback (issue 4's parser trap)."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket

from tests.conftest import TOKEN, Api


def _port(api: Api) -> int:
    assert api.client is not None
    return int(api.client.server.port)  # type: ignore[arg-type]


def _exchange(port: int, requests: list[tuple[str, str]]) -> list[tuple[int, dict[str, object]]]:
    """Send requests one after another on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    answers = []
    try:
        for method, path in requests:
            conn.request(method, path, body=b'"x"', headers={"Authorization": f"Bearer {TOKEN}",
                                                             "Content-Type": "application/json"})
            response = conn.getresponse()
            answers.append((response.status, json.loads(response.read())))
    finally:
        conn.close()
    return answers


async def test_a_raw_custom_verb_reaches_the_app(api: Api) -> None:
    [(status, body)] = await asyncio.to_thread(_exchange, _port(api), [("LOOKUP", "/api/v1/hubs")])
    assert status == 405  # answered by the app (the route has no LOOKUP), not "400 Invalid method"
    assert body["status"] == 405


async def test_custom_verbs_between_ordinary_requests_on_one_connection(api: Api) -> None:
    answers = await asyncio.to_thread(_exchange, _port(api), [
        ("GET", "/api/v1/hubs"), ("LOOKUP", "/api/v1/hubs"), ("GET", "/api/v1/hubs"), ("LOOKUP", "/api/v1/hubs"),
    ])
    assert [status for status, _ in answers] == [200, 405, 200, 405]


def _pipelined(port: int) -> bytes:
    get = f"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    lookup = b'LOOKUP /api/v1/hubs HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"x"'
    last = f"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(get + lookup + last.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def test_a_custom_verb_pipelined_in_one_chunk_loses_nothing(api: Api) -> None:
    raw = await asyncio.to_thread(_pipelined, _port(api))
    # bodies do not end in CRLF, so a status line may follow a body directly
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"200", b"405", b"200"]
