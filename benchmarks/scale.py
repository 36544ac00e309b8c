"""State size: reset after many writes, paging through 100,000 hubs, memory with 100,000 hubs and points."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks import bulk
from benchmarks.figures import Figure, Goal, median
from benchmarks.plan import Plan
from benchmarks.servers import Client, mockhub_command, start
from benchmarks.throughput import TOKEN, rate_figure
from benchmarks.wrk import Load

WRITES = 10_000
RESETS = 5
BIG = 100_000
SMALL = 100
PAGE_SIZE = 50
RESET_GOAL = Goal(5, at_most=True, on_ratio=False)
PAGING_GOAL = Goal(1.5, at_most=True)
RSS_GOAL = Goal(300, at_most=True, on_ratio=False)


def timed_reset(client: Client) -> float:
    """Milliseconds one ``POST /__mockhub/reset`` took, seen from the client."""
    started = time.perf_counter()
    status, body = client.request("POST", "/__mockhub/reset")
    took = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"reset answered {status}: {body[:300]!r}")
    return took


def measure_reset(plan: Plan, writes: int = WRITES, resets: int = RESETS) -> Figure:
    """``resets`` times: ``writes`` hub creations through the API, then a timed reset."""
    after_writes: list[float] = []
    idle: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    # 10,000 hubs are more than one session may hold by default (--max-session-bytes): room for them all
    room = ("--max-session-records", str(writes), "--max-session-bytes", str(writes * 4096))
    with start("mockhub", mockhub_command(*room), plan.server_cpu) as server, Client(server.url) as client:
        for _ in range(resets):
            idle.append(timed_reset(client))
            for number in range(writes):
                status, body = client.request("POST", "/api/v1/hubs",
                                              {"name": f"Written {number}", "description": "A write"}, headers)
                if status != 200:
                    raise RuntimeError(f"a write failed: {status} {body[:300]!r}")
            after_writes.append(timed_reset(client))
    return Figure(f"POST /__mockhub/reset after {writes:,} writes", "ms", median(after_writes), RESET_GOAL,
                  median(idle), "reset with no writes", None, {"after_writes": after_writes, "no_writes": idle},
                  "one request's round trip, seen from the client")


def measure_size(plan: Plan) -> list[Figure]:
    """A page of hubs with 100,000 hubs against one with 100; memory with 100,000 hubs and 100,000 points.

    Both pages are full pages of 50 (the 100 hubs' last one, the 100,000's middle one), so
    the figure shows what the size of the collection costs, nothing else.
    """
    auth = (f"Authorization: Bearer {bulk.TOKEN}",)
    big_page = Load("GET", f"/api/v1/hubs?pageSize={PAGE_SIZE}&pageNumber={BIG // PAGE_SIZE // 2}", headers=auth)
    small_page = Load("GET", f"/api/v1/hubs?pageSize={PAGE_SIZE}&pageNumber={SMALL // PAGE_SIZE - 1}", headers=auth)
    with tempfile.TemporaryDirectory() as tmp:
        big_file = bulk.write(Path(tmp, "big.json"), BIG, BIG)
        small_file = bulk.write(Path(tmp, "small.json"), SMALL, SMALL)
        with start("mockhub (big)", mockhub_command("--fixtures", str(big_file)), plan.server_cpu) as big, \
                start("mockhub (small)", mockhub_command("--fixtures", str(small_file)), plan.server_cpu) as small:
            big_runs, small_runs = plan.compare([(big, big_page), (small, small_page)])
            big_rss, small_rss = big.rss_mb(), small.rss_mb()
            load_s = big.ready_s
    paging = rate_figure(f"GET hubs page: {BIG:,} hubs vs {SMALL}", PAGING_GOAL, big_runs, small_runs,
                         f"{SMALL} hubs", "ratio: how much slower a page is with the large collection", slowdown=True)
    memory = Figure(f"RSS with {BIG:,} hubs and {BIG:,} points", "MiB", big_rss, RSS_GOAL, small_rss,
                    f"{SMALL} of each", None, {"big": [big_rss], "small": [small_rss]},
                    f"after the paging runs; loading the fixture file took {load_s:.1f} s "
                    "(--fake hubs=N,points=N, issue 6, can make such data instead of a file)")
    return [paging, memory]
