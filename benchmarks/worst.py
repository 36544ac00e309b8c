"""``python -m benchmarks.worst``: the server's memory with every client-grown structure at its bound.

Starts ``mockhub serve`` with its default limits (journal and access log on), then fills, in
order, what clients can make grow, and prints the server's RSS after each stage:

1. every session slot (``--max-sessions``, the default one included), each with its own
   integration points of the largest size the contract allows until the session's data
   limit answers 429;
2. in each session, fault rules and overrides with large bodies until each is refused 400;
3. requests with the most headers and the largest bodies the journal keeps, until every
   journal is at the journals' byte budget;
4. at the same time, as many connections as the server takes, each sending a body of
   ``--max-body-bytes`` and stopping one byte short (the pending-body budget's case);
5. then clients that ask for the journal and never read the answer, from a journal whose
   bodies are all byte 0x01 (six bytes each as JSON, ``\u0001``: the dearest to render).

It ends with the health route and one session's state dump answering. Then it starts
``mockhub proxy`` in front of the server and sends it bodies with many unknown properties
(each a violation of as many problems), and prints the proxy's RSS and the size of its
``GET /__mockhub/violations``. It fails when either process reaches 1 GiB. Traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from benchmarks.plan import cores
from benchmarks.servers import Client, Server, mockhub_command, proxy_command, start

GIB = 1024
JOURNAL_TOTAL = 64 * 1024 * 1024
"""The default --journal-total-bytes."""
"""The bound, in MiB, that the defaults promise."""
TOKEN = {"Authorization": "Bearer mockhub-dev-token"}
POINTS = "/rest/v1/service/integration_points"
TEXT = 4096
"""The longest text field of an integration point the contract allows."""
TEXT_FIELDS = ("type", "url", "token_remote", "token_remote2", "recv_svcscriptcode", "recv_svcscriptcode_ws",
               "send_svcscriptcode", "send_svcscriptcode_ws")


def session(name: str) -> dict[str, str]:
    return {"X-Mockhub-Session": name} if name else {}


def fill_until(client: Client, refused: int, send: Callable[[int], tuple[int, bytes]], most: int = 100_000) -> int:
    """Call ``send(i)`` until it answers ``refused``; the number accepted. Any other status stops the run."""
    for i in range(most):
        status, body = send(i)
        if status == refused:
            return i
        if status >= 300:
            raise RuntimeError(f"unexpected {status}: {body[:200]!r}")
    raise RuntimeError(f"no {refused} after {most} requests: the bound did not hold")


def fill_session(client: Client, name: str) -> tuple[int, int, int]:
    """A session filled to its data, fault-rule and override bounds; how many of each it took."""
    headers = {**TOKEN, **session(name)}
    points = fill_until(client, 429, lambda i: client.request("POST", POINTS, {
        "code": f"worst-{i}", **{field: "x" * TEXT for field in TEXT_FIELDS}}, headers))
    faults = fill_until(client, 400, lambda i: client.request("POST", "/__mockhub/faults", {
        "method": "POST", "path": f"/api/v1/hubs/worst-{i}", "body": {"junk": "j" * 8000}, "status": 503},
        session(name)))
    overrides = fill_until(client, 400, lambda i: client.request("POST", "/__mockhub/overrides", {
        "method": "GET", "path": f"/api/v1/hubs/worst-{i}", "off_contract": True,
        "response": {"status": 200, "body": {"junk": "o" * 8000}}}, session(name)))
    return points, faults, overrides


def fill_journals(client: Client, names: Sequence[str], journal_total: int) -> int:
    """Requests whose journal entries are each as large as an entry may be, twice the budget's worth."""
    headers = {f"X-Junk-{i}": "h" * 1024 for i in range(64)}
    body = json.dumps({"junk": "b" * 65536}).encode()
    sent = 0
    while sent * (64 * 1024 + len(body)) < 2 * journal_total:
        client.request("POST", "/api/v1/hubs", body, {**headers, **TOKEN, **session(names[sent % len(names)])})
        sent += 1
    return sent


def hold_bodies(url: str, count: int, size: int) -> list[socket.socket]:
    """``count`` connections, each sending a body of ``size`` bytes but its last byte."""
    parts = urlsplit(url)
    head = (f"POST /api/v1/hubs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer mockhub-dev-token\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    body = b"x" * (size - 1)
    held, sent = [], []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
        sock.sendall(head)
        sock.setblocking(False)
        held.append(sock)
        sent.append(0)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(n < len(body) for n in sent):
        for i, sock in enumerate(held):
            if sent[i] < len(body):
                try:
                    sent[i] += sock.send(body[sent[i]:sent[i] + 262144])
                except BlockingIOError:  # the server reads no more for now
                    pass
                except OSError:  # answered 503 and closed: nothing more to send
                    sent[i] = len(body)
        time.sleep(0.001)
    time.sleep(min(2.0, 0.1 + count / 500))  # the server reads what is in its sockets
    return held


def fill_with_control_bytes(client: Client, count: int) -> None:
    """``count`` requests to the default session, each with a body of 64 KiB of byte 0x01 (a 400: not JSON)."""
    for _ in range(count):
        status, body = client.request("POST", "/api/v1/hubs", b"\x01" * 65536, TOKEN)
        if status != 400:
            raise RuntimeError(f"unexpected {status}: {body[:200]!r}")


def read_without_reading(url: str, count: int) -> list[socket.socket]:
    """``count`` connections that each ask for the journal and never read the answer (a receive buffer of a
    few KiB, so the answer stays in the server)."""
    parts = urlsplit(url)
    readers = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
        sock.sendall(b"GET /__mockhub/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        readers.append(sock)
    time.sleep(1.0)  # the server renders and writes what the sockets take
    for sock in readers:  # each was answered (the answer's first bytes wait unread)
        started = sock.recv(12, socket.MSG_PEEK)
        if started != b"HTTP/1.1 200":
            raise RuntimeError(f"a journal reader was answered {started!r}")
    return readers


def unknown_properties(count: int) -> bytes:
    """A hub to create with ``count`` properties the contract does not have: a violation of ``count`` problems."""
    return json.dumps({"name": "worst", "description": "", **{f"u{i}": 0 for i in range(count)}}).encode()


def fill_violations(target: str, cpu: int, bodies: int, properties: int) -> tuple[list[tuple[str, float]], int]:
    """``mockhub proxy`` in front of ``target``, sent ``bodies`` hubs with ``properties`` unknown properties each
    and one of 16 MiB (forwarded, not checked); its RSS after each stage, and the size of its violations list."""
    with start("proxy", proxy_command(target), cpu) as proxy, Client(proxy.url) as client:
        stages = [("proxy idle", proxy.rss_mb())]
        body = unknown_properties(properties)
        for _ in range(bodies):
            client.request("POST", "/api/v1/hubs", body, TOKEN)
        stages.append((f"proxy + {bodies} bodies of {len(body) / 2**20:.1f} MiB, {properties:,} unknown properties "
                       "each", proxy.rss_mb()))
        client.request("POST", "/api/v1/hubs", unknown_properties(1_150_000), TOKEN)
        stages.append(("proxy + a body of 16 MiB", proxy.rss_mb()))
        status, listed = client.request("GET", "/__mockhub/violations")
        if status != 200:
            raise RuntimeError(f"GET /__mockhub/violations answered {status}")
        stages.append((f"proxy after GET /__mockhub/violations ({len(listed):,} bytes)", proxy.rss_mb()))
        return stages, len(listed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worst", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100, help="session slots to fill (default 100, the "
                        "default --max-sessions); fewer for a quick look")
    parser.add_argument("--connections", type=int, default=990, help="connections holding a body (default 990, "
                        "within the default --max-connections 1000)")
    parser.add_argument("--journal-total-bytes", type=int, default=JOURNAL_TOTAL,
                        help=f"the server's journal budget (default {JOURNAL_TOTAL}, its own default); less for a "
                        "quick look")
    parser.add_argument("--readers", type=int, default=3, help="clients that ask for the journal and never read "
                        "the answer (default 3)")
    parser.add_argument("--proxy-bodies", type=int, default=8, help="bodies with many unknown properties sent "
                        "through the proxy (default 8)")
    parser.add_argument("--proxy-properties", type=int, default=300_000, help="unknown properties in each "
                        "(default 300000: under the 4 MiB the proxy checks)")
    args = parser.parse_args(argv)
    server_cpu, _ = cores()
    options = ("--journal-total-bytes", str(args.journal_total_bytes))
    with start("mockhub", mockhub_command(*options), server_cpu) as server, Client(server.url) as client:
        stages = [("idle", server.rss_mb())]
        names = [""] + [f"worst-{i}" for i in range(1, args.sessions)]
        filled = [fill_session(client, name) for name in names]
        points, faults, overrides = (sum(column) for column in zip(*filled, strict=True))
        stages.append((f"{len(names)} sessions: {points:,} points, {faults:,} fault rules, {overrides:,} overrides",
                       server.rss_mb()))
        sent = fill_journals(client, names, args.journal_total_bytes)
        stages.append((f"+ journals full ({sent:,} requests of 64 headers of 1 KiB and a 64 KiB body)",
                       server.rss_mb()))
        fill_with_control_bytes(client, 20)  # the journal the readers ask for (a body now would be past the budget)
        held = hold_bodies(server.url, args.connections, 1024 * 1024)
        stages.append((f"+ {len(held)} connections each sending a 1 MiB body", server.rss_mb()))
        readers = read_without_reading(server.url, args.readers)
        stages.append((f"+ {args.readers} clients reading a journal of 0x01 bodies without reading the answers",
                       server.rss_mb()))
        ok = report(server, client, stages, names[-1])
        for sock in [*held, *readers]:
            sock.close()
        proxy_stages, _ = fill_violations(server.url, server_cpu, args.proxy_bodies, args.proxy_properties)
        ok = print_stages(proxy_stages, "proxy") and ok
    return 0 if ok else 1


def report(server: Server, client: Client, stages: list[tuple[str, float]], last: str) -> bool:
    """Print the stages and check the server still answers; whether it stayed under 1 GiB and answered."""
    health, _ = client.request("GET", "/__mockhub/health")
    dumped, _ = client.request("GET", "/__mockhub/state", headers=session(last))
    under = print_stages(stages, "server")
    print(f"health {health}; state dump {dumped}; server {'running' if server.process.poll() is None else 'GONE'}")
    return under and health == 200 and dumped == 200


def print_stages(stages: list[tuple[str, float]], what: str) -> bool:
    """Print each stage's RSS and the peak; whether the peak stayed under 1 GiB."""
    width = max(len(stage) for stage, _ in stages)
    print(f"{'stage':<{width}}  RSS MiB")
    for stage, rss in stages:
        print(f"{stage:<{width}}  {rss:7.1f}")
    peak = max(rss for _, rss in stages)
    print(f"{what} peak {peak:.0f} MiB ({'under' if peak < GIB else 'OVER'} 1 GiB)")
    return peak < GIB


if __name__ == "__main__":
    raise SystemExit(main())
