"""mockhub's framed parser against aiohttp's pure-Python parser: same bytes, same answers.

Hypothesis writes sequences of requests (GET, POST and PATCH with bodies sent with a
Content-Length or chunked, DELETE, LOOKUP), cuts the bytes into writes at the positions it
picks, and sends them pipelined or one request at a time to two servers of the same app:
mockhub as it serves, and a reference (another process, plain aiohttp with
``AIOHTTP_NO_EXTENSIONS=1``) whose every connection runs aiohttp's pure-Python parser,
which accepts any method and has no framing of mockhub's to get wrong. Every answer's status
and body must be the same. Each example runs in its own session, so examples never share
state. The search is derandomized and bounded, so the suite stays fast and repeatable.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count, pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockhub.settings import Settings
from mockhub.web.app import create_app
from mockhub.web.server import BackgroundServer
from tests.conftest import CLOCK, POINT_ABCDE, POINTS, TOKEN

REFERENCE = f"""
import asyncio, sys
from aiohttp import web
from mockhub.settings import Settings
from mockhub.web.app import create_app

async def main():
    runner = web.AppRunner(create_app(Settings(clock={CLOCK!r}, max_sessions=1000)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""
"""The same app served by plain aiohttp, whose pure-Python parser (AIOHTTP_NO_EXTENSIONS, a documented
switch) reads any method: no wire in front, no C parser."""


@pytest.fixture(scope="module")
def ports() -> Iterator[tuple[int, int]]:
    ours = BackgroundServer(create_app(Settings(clock=CLOCK, max_sessions=1000)))
    url = ours.start()
    reference = subprocess.Popen([sys.executable, "-c", REFERENCE], stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "AIOHTTP_NO_EXTENSIONS": "1"})
    try:
        assert reference.stdout is not None
        yield int(url.rsplit(":", 1)[1]), int(reference.stdout.readline())
    finally:
        ours.stop()
        reference.terminate()
        reference.wait(timeout=30)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    chunks: tuple[int, ...] = ()
    """Sizes of the chunks the body is sent in (chunked transfer coding); empty: Content-Length."""

    def encode(self, session: str, close: bool) -> bytes:
        head = (f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"X-Mockhub-Session: {session}\r\n")
        if close:
            head += "Connection: close\r\n"
        if self.body is None:
            return (head + "\r\n").encode()
        head += "Content-Type: application/json\r\n"
        if not self.chunks:
            return (head + f"Content-Length: {len(self.body)}\r\n\r\n").encode() + self.body
        out, rest = [(head + "Transfer-Encoding: chunked\r\n\r\n").encode()], self.body
        for size in self.chunks:
            piece, rest = rest[:size], rest[size:]
            if piece:
                out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        if rest:
            out.append(b"%x\r\n%s\r\n" % (len(rest), rest))
        out.append(b"0\r\n\r\n")
        return b"".join(out)


CODES = ("ABCDE", "902", "NEW1", "NEW2", "nope")
_json = st.builds(lambda value: json.dumps(value).encode(), st.sampled_from(CODES))
_chunks = st.one_of(st.just(()), st.lists(st.integers(1, 12), min_size=1, max_size=4).map(tuple))
requests = st.one_of(
    st.builds(Request, st.just("GET"), st.sampled_from([f"{POINTS}?mask=code", "/api/v1/hubs?pageSize=1",
                                                        f"{POINTS}/{POINT_ABCDE}"]), st.none()),
    st.builds(Request, st.just("LOOKUP"), st.just(POINTS), _json, _chunks),
    st.builds(Request, st.just("POST"), st.just(POINTS),
              st.sampled_from(CODES).map(lambda code: json.dumps({"code": code, "type": "im"}).encode()), _chunks),
    st.builds(Request, st.just("PATCH"), st.just(f"{POINTS}/{POINT_ABCDE}"),
              st.sampled_from(["u1", "u2"]).map(lambda url: json.dumps({"url": url}).encode()), _chunks),
    st.builds(Request, st.just("DELETE"), st.just(f"{POINTS}/{POINT_ABCDE}"), st.none()),
)
_sessions = count()


class _KeptOpen(io.BufferedReader):
    """A socket's reader that ``http.client`` cannot close after each response."""

    def close(self) -> None:
        pass


def _talk(port: int, requests: list[Request], session: str, cuts: list[int], pipelined: bool) -> list[Any]:
    """Send the requests (cut into writes at ``cuts``); the status and JSON body of each answer."""
    raw = [request.encode(session, close=i == len(requests) - 1) for i, request in enumerate(requests)]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        replies = _KeptOpen(socket.SocketIO(sock, "rb"))

        def send(data: bytes) -> None:
            edges = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
            for start, end in pairwise(edges):
                sock.sendall(data[start:end])
                time.sleep(0.001)

        def answer(method: str) -> tuple[int, Any]:
            response = http.client.HTTPResponse(sock, method=method)
            response.fp = replies  # type: ignore[assignment]  # one buffered reader for the whole connection
            response.begin()
            body = response.read()
            return response.status, json.loads(body) if body else None

        if pipelined:
            send(b"".join(raw))
            answers = [answer(r.method) for r in requests]
        else:
            answers = []
            for request, data in zip(requests, raw, strict=True):
                send(data)
                answers.append(answer(request.method))
        assert replies.read() == b"", "answered more than was asked"
    return answers


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(requests, min_size=1, max_size=6), cuts=st.lists(st.integers(1, 600), max_size=4),
       pipelined=st.booleans())
def test_mockhub_answers_as_the_python_parser_does(ports: tuple[int, int], sequence: list[Request],
                                                    cuts: list[int], pipelined: bool) -> None:
    session = f"diff-{next(_sessions)}"
    ours = _talk(ports[0], sequence, session, cuts, pipelined)
    reference = _talk(ports[1], sequence, session, cuts, pipelined)
    assert ours == reference
    assert len(ours) == len(sequence)
