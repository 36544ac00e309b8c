"""Custom verbs never desynchronise a connection, however TCP cuts the bytes (a body that reads as a request,
pipelining, a LOOKUP behind a large body, every cut).

Each test speaks raw HTTP from a socket, cutting the requests into writes where a proxy or
a slow network might; every answer is read back with ``http.client`` and checked against
the contract. Each write is sent apart from the next (TCP_NODELAY and a short pause), so the
server sees it as a read of its own; were two to merge, the test would only be easier.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time

from tests.conftest import POINT_ABCDE, POINTS, TOKEN, Api
from tests.test_http_parser import Answer, _port, read_answers

Request = tuple[str, str, bytes]


def encode(requests: list[Request], close_last: bool = True) -> list[bytes]:
    """Each request's bytes; the last one asks to close the connection, so its answer ends the exchange."""
    raw = []
    for i, (method, path, body) in enumerate(requests):
        close = "Connection: close\r\n" if close_last and i == len(requests) - 1 else ""
        raw.append(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{close}\r\n".encode() + body)
    return raw


def send_writes(port: int, writes: list[bytes]) -> bytes:
    """Send each write on its own, then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, write in enumerate(writes):
            if i:
                time.sleep(0.005)
            sock.sendall(write)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def exchange(api: Api, requests: list[Request], writes: list[bytes]) -> list[Answer]:
    assert b"".join(writes) == b"".join(encode(requests))
    raw = await asyncio.to_thread(send_writes, _port(api), writes)
    return read_answers(api, raw, requests)


LOOKUP_ABCDE: Request = ("LOOKUP", POINTS, b'"ABCDE"')
FOUND = (200, [POINT_ABCDE])


async def test_a_body_that_reads_as_a_request_is_never_run(api: Api) -> None:
    body = f"DELETE {POINTS}/{POINT_ABCDE} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    requests = [("POST", POINTS, body), LOOKUP_ABCDE]
    post, lookup = encode(requests)
    head_end = post.index(b"\r\n\r\n") + 4
    answers = await exchange(api, requests, [post[:head_end], post[head_end:] + lookup])
    assert [status for status, _ in answers] == [400, 200]
    assert answers[1] == FOUND
    assert (await api.get(f"{POINTS}/{POINT_ABCDE}")).status == 200


async def test_requests_each_in_one_write_with_its_whole_body_are_answered_in_turn(api: Api) -> None:
    """The usual request with a body, its head and its whole body in one write (handed to aiohttp in one
    piece), one after another on a connection; then one whose body comes after its head, with the next
    request behind that body in the same write."""
    hub = ("POST", "/api/v1/hubs", b'{"name": "One write", "description": "head and body together"}')
    requests = [LOOKUP_ABCDE, hub, LOOKUP_ABCDE, LOOKUP_ABCDE]
    lookup, post, split, last = encode(requests)
    head_end = split.index(b"\r\n\r\n") + 4
    answers = await exchange(api, requests, [lookup, post, split[:head_end], split[head_end:] + last])
    assert [answers[0], answers[2], answers[3]] == [FOUND] * 3
    status, created = answers[1]
    assert (status, created["name"]) == (200, "One write")
    assert (await api.get(f"/api/v1/hubs/{created['hubId']}")).json() == created


async def test_a_lookup_after_a_full_queue_of_pipelined_requests_is_answered(api: Api) -> None:
    for count in (32, 64):
        requests = [("GET", f"{POINTS}?mask=code", b"")] * count + [LOOKUP_ABCDE, ("GET", "/api/v1/hubs", b"")]
        answers = await exchange(api, requests, [b"".join(encode(requests))])
        assert [status for status, _ in answers] == [200] * (count + 2)
        assert answers[count] == FOUND


async def test_a_lookup_after_a_large_body_is_answered(api: Api) -> None:
    big = json.dumps({"code": "BIG", "type": "im", "name": "x" * 200_000}).encode()
    requests = [("POST", POINTS, big), LOOKUP_ABCDE]
    answers = await exchange(api, requests, [b"".join(encode(requests))])
    assert len(answers) == 2
    assert answers[1] == FOUND


async def test_every_cut_of_a_get_and_a_lookup_gives_the_same_two_answers(api: Api) -> None:
    requests = [("GET", f"{POINTS}?mask=code", b""), LOOKUP_ABCDE]
    whole = b"".join(encode(requests))
    expected = await exchange(api, requests, [whole])
    assert expected == [(200, [{"code": "ABCDE"}, {"code": "902"}]), FOUND]
    for cut in range(1, len(whole)):
        assert await exchange(api, requests, [whole[:cut], whole[cut:]]) == expected, f"cut at byte {cut}"


async def test_a_lookup_whose_first_byte_arrives_alone_is_a_lookup(api: Api) -> None:
    [lookup] = encode([LOOKUP_ABCDE])
    assert await exchange(api, [LOOKUP_ABCDE], [lookup[:1], lookup[1:]]) == [FOUND]
    assert await exchange(api, [LOOKUP_ABCDE], [bytes([b]) for b in lookup]) == [FOUND]


async def test_a_chunked_body_between_lookups(api: Api) -> None:
    [lookup] = encode([LOOKUP_ABCDE], close_last=False)
    for i, cut in enumerate((-3, 0, 1)):  # in the chunked body's last bytes, at its end, after it
        code = f"CHUNK{i}"
        body = json.dumps({"code": code, "type": "im"}).encode()
        chunked = (f"POST {POINTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   f"5\r\n{body[:5].decode()}\r\n{len(body) - 5:x}\r\n{body[5:].decode()}\r\n0\r\n\r\n").encode()
        requests: list[Request] = [LOOKUP_ABCDE, ("POST", POINTS, body), ("LOOKUP", POINTS, json.dumps(code).encode())]
        raw = lookup + chunked + encode(requests)[-1]
        at = len(lookup) + len(chunked) + cut
        answers = read_answers(api, await asyncio.to_thread(send_writes, _port(api), [raw[:at], raw[at:]]), requests)
        assert answers[0] == FOUND
        assert answers[1][0] == 200
        assert answers[2] == (200, [answers[1][1]["id"]])


async def test_a_custom_verb_with_an_empty_body_is_answered_by_the_app(api: Api) -> None:
    requests = [("TRACE", "/api/v1/hubs", b""), ("LOOKUP", "/api/v1/hubs", b""), LOOKUP_ABCDE]
    answers = await exchange(api, requests, encode(requests))
    assert [status for status, _ in answers] == [405, 405, 200]


async def test_a_head_past_the_limit_is_refused_whether_it_comes_in_one_read_or_many(api: Api) -> None:
    fields = "".join(f"X-Filler-{n}: {'f' * 7000}\r\n" for n in range(12))  # 84 KiB in lines under the line limit
    head = f"GET /api/v1/hubs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n{fields}\r\n".encode()
    answers = []
    for writes in ([head], [head[:30_000], head[30_000:60_000], head[60_000:]]):
        raw = await asyncio.to_thread(send_writes, _port(api), writes)
        status_line, _, rest = raw.partition(b"\r\n")
        answers.append((status_line, json.loads(rest.partition(b"\r\n\r\n")[2])))
    assert answers[0] == answers[1]
    assert answers[0][0] == b"HTTP/1.1 400 Bad Request"
    assert "The request line or a header field is too long." in answers[0][1]["errors"][0]["description"]
