"""Custom verbs reach the app from real clients: the C parser's fallback (issue 4's parser trap).

These tests speak raw HTTP (``http.client`` and plain sockets), as clients outside aiohttp
do; every answer is still checked against the contract.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
from typing import Any

from tests.conftest import ABCDE_TOKEN, POINT_ABCDE, POINTS, TOKEN, Api, raw_exchange

Answer = tuple[int, Any]


def _port(api: Api) -> int:
    assert api.client is not None
    return int(api.client.server.port)  # type: ignore[arg-type]


def _checked(api: Api, method: str, path: str, response: http.client.HTTPResponse) -> Answer:
    """The status and JSON body of a raw response, after checking both against the contract."""
    body = response.read()
    problems = api.checker.check(method, path.split("?", 1)[0], response.status,
                                 response.headers, body)  # type: ignore[arg-type]  # HTTPMessage is a mapping
    assert not problems, "response breaks the contract:\n" + "\n".join(problems)
    return response.status, json.loads(body) if body else None


def _exchange(api: Api, requests: list[tuple[str, str, bytes]]) -> list[Answer]:
    """Send requests one after another on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", _port(api), timeout=5)
    answers = []
    try:
        for method, path, body in requests:
            conn.request(method, path, body=body, headers={"Authorization": f"Bearer {TOKEN}",
                                                           "Content-Type": "application/json"})
            answers.append(_checked(api, method, path, conn.getresponse()))
    finally:
        conn.close()
    return answers


async def exchange(api: Api, *requests: tuple[str, str, bytes]) -> list[Answer]:
    return await asyncio.to_thread(_exchange, api, list(requests))


async def test_a_raw_custom_verb_reaches_the_app(api: Api) -> None:
    [(status, body)] = await exchange(api, ("LOOKUP", "/api/v1/hubs", b'"x"'))
    assert status == 405  # answered by the app (the route has no LOOKUP), not "400 Invalid method"
    assert body["status"] == 405


async def test_custom_verbs_between_ordinary_requests_on_one_connection(api: Api) -> None:
    hubs = ("GET", "/api/v1/hubs", b"")
    lookup = ("LOOKUP", "/api/v1/hubs", b'"x"')
    answers = await exchange(api, hubs, lookup, hubs, lookup)
    assert [status for status, _ in answers] == [200, 405, 200, 405]


async def test_a_raw_lookup_finds_a_point(api: Api) -> None:
    for key in ("ABCDE", ABCDE_TOKEN, POINT_ABCDE.upper()):
        assert await exchange(api, ("LOOKUP", POINTS, json.dumps(key).encode())) == [(200, [POINT_ABCDE])]


async def test_a_raw_lookup_miss_is_404_lookup_failed(api: Api) -> None:
    assert await exchange(api, ("LOOKUP", POINTS, b'"nope"')) == [
        (404, {"error_code": 1404, "error_message": "Lookup failed"})]


async def test_a_raw_lookup_with_a_bad_body_is_400(api: Api) -> None:
    [(status, body)] = await exchange(api, ("LOOKUP", POINTS, b'{"code": "ABCDE"}'))
    assert (status, body["error_code"]) == (400, 1400)


async def test_lookup_between_other_requests_on_one_keep_alive_connection(api: Api) -> None:
    created_body = json.dumps({"code": "KEEP", "type": "im"}).encode()
    answers = await exchange(
        api,
        ("GET", f"{POINTS}?limit=1&mask=code", b""),
        ("LOOKUP", POINTS, b'"ABCDE"'),
        ("POST", POINTS, created_body),
        ("LOOKUP", POINTS, b'"KEEP"'),
        ("GET", "/api/v1/hubs?pageSize=1", b""),
        ("LOOKUP", POINTS, b'"nope"'),
        ("DELETE", f"{POINTS}/{POINT_ABCDE}", b""),
        ("LOOKUP", POINTS, b'"ABCDE"'),
    )
    assert [status for status, _ in answers] == [200, 200, 200, 200, 200, 404, 204, 404]
    assert answers[0][1] == [{"code": "ABCDE"}]
    assert answers[1][1] == [POINT_ABCDE]
    assert answers[3][1] == [answers[2][1]["id"]]


class _Replay(io.BytesIO):
    """The bytes a server sent, read back as one response after another by ``http.client``
    (which takes it for a socket, and closes each response's file when done with it)."""

    def makefile(self, mode: str) -> io.BytesIO:
        return self

    def close(self) -> None:
        pass


async def pipeline(api: Api, requests: list[tuple[str, str, bytes]]) -> list[Answer]:
    """Send every request in one chunk (the last closes the connection); read each answer in turn."""
    chunk = b""
    for i, (method, path, body) in enumerate(requests):
        close = "Connection: close\r\n" if i == len(requests) - 1 else ""
        chunk += (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{close}\r\n").encode() + body
    return read_answers(api, await asyncio.to_thread(raw_exchange, _port(api), chunk), requests)


def read_answers(api: Api, raw: bytes, requests: list[tuple[str, str, bytes]]) -> list[Answer]:
    """Exactly one answer per request in the bytes a server sent, in order, each checked against the contract."""
    replay = _Replay(raw)
    answers = []
    for method, path, _ in requests:
        response = http.client.HTTPResponse(replay, method=method)  # type: ignore[arg-type]
        response.begin()
        answers.append(_checked(api, method, path, response))
    assert replay.read() == b"", "the server answered more than was asked"
    return answers


async def test_a_custom_verb_pipelined_in_one_chunk_loses_nothing(api: Api) -> None:
    hubs = ("GET", "/api/v1/hubs", b"")
    answers = await pipeline(api, [hubs, ("LOOKUP", "/api/v1/hubs", b'"x"'), hubs])
    assert [status for status, _ in answers] == [200, 405, 200]


async def test_lookups_pipelined_in_one_chunk_are_each_answered(api: Api) -> None:
    answers = await pipeline(api, [
        ("GET", f"{POINTS}?mask=code", b""),
        ("LOOKUP", POINTS, b'"ABCDE"'),
        ("LOOKUP", POINTS, b'"nope"'),
        ("POST", POINTS, b'{"code": "PIPE", "type": "im"}'),
        ("LOOKUP", POINTS, b'"PIPE"'),
        ("GET", f"{POINTS}?mask=code", b""),
    ])
    assert answers[0] == (200, [{"code": "ABCDE"}, {"code": "902"}])
    assert answers[1] == (200, [POINT_ABCDE])
    assert answers[2] == (404, {"error_code": 1404, "error_message": "Lookup failed"})
    assert answers[3][0] == 200
    assert answers[4] == (200, [answers[3][1]["id"]])
    assert answers[5] == (200, [{"code": "ABCDE"}, {"code": "902"}, {"code": "PIPE"}])
