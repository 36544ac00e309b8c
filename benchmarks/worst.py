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
   ``--max-body-bytes`` and stopping one byte short (the pending-body budget's case).

It ends with the health route and one session's state dump answering, and fails when RSS
reaches 1 GiB. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from benchmarks.plan import cores
from benchmarks.servers import Client, Server, mockhub_command, start

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worst", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100, help="session slots to fill (default 100, the "
                        "default --max-sessions); fewer for a quick look")
    parser.add_argument("--connections", type=int, default=990, help="connections holding a body (default 990, "
                        "within the default --max-connections 1000)")
    parser.add_argument("--journal-total-bytes", type=int, default=JOURNAL_TOTAL,
                        help=f"the server's journal budget (default {JOURNAL_TOTAL}, its own default); less for a "
                        "quick look")
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
        held = hold_bodies(server.url, args.connections, 1024 * 1024)
        stages.append((f"+ {len(held)} connections each sending a 1 MiB body", server.rss_mb()))
        ok = report(server, client, stages, names[-1])
        for sock in held:
            sock.close()
    return 0 if ok else 1


def report(server: Server, client: Client, stages: list[tuple[str, float]], last: str) -> bool:
    """Print the stages and check the server still answers; whether it stayed under 1 GiB and answered."""
    health, _ = client.request("GET", "/__mockhub/health")
    dumped, _ = client.request("GET", "/__mockhub/state", headers=session(last))
    width = max(len(stage) for stage, _ in stages)
    print(f"{'stage':<{width}}  RSS MiB")
    for stage, rss in stages:
        print(f"{stage:<{width}}  {rss:7.1f}")
    peak = max(rss for _, rss in stages)
    ok = peak < GIB and health == 200 and dumped == 200
    print(f"peak {peak:.0f} MiB ({'under' if peak < GIB else 'OVER'} 1 GiB); health {health}; state dump {dumped}; "
          f"server {'running' if server.process.poll() is None else 'GONE'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
