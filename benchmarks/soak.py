"""``python -m benchmarks.soak``: a long mixed load, with the server's memory over time.

Drives ``mockhub serve`` (journal and access log on) with soak.lua's mix of both APIs,
errors, injected faults and evicted sessions, in slices, until a number of requests or a
duration is reached, and prints the server's RSS after each slice. Memory must flatten:
the journal, the sessions and any caches are bounded. ``--mix hostile`` sends
soak_hostile.lua's worst inputs instead (huge headers and bodies, deep JSON, fault rules
past the limit, floods of session names), against the default limits. Traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.plan import RESULTS, cores
from benchmarks.servers import Client, mockhub_command, start
from benchmarks.wrk import Load, Wrk, ensure_wrk

SCRIPTS = {mix: Path(__file__).with_name(name) for mix, name in (("standard", "soak.lua"),
                                                                  ("hostile", "soak_hostile.lua"))}
SESSIONS = 20
"""The server keeps this many sessions; soak.lua uses 30, so they are evicted all the time."""
OPTIONS = {
    "standard": ("--max-sessions", str(SESSIONS), "--session-busy", "0"),
    "hostile": ("--max-sessions", str(SESSIONS)),
}
"""The standard mix evicts sessions in use (no --session-busy); the hostile one meets the default limits."""
FLAT = 1.05
"""The largest RSS of the last third may be at most this much above that of the middle third."""


@dataclass(frozen=True)
class Slice:
    elapsed_s: float
    requests: int
    rate: float
    rss_mb: float
    socket_errors: int


def flat(slices: Sequence[Slice]) -> bool:
    """Whether memory flattened: the last third's peak within FLAT of the middle third's."""
    third = max(len(slices) // 3, 1)
    middle = max(s.rss_mb for s in slices[third:2 * third] or slices)
    last = max(s.rss_mb for s in slices[2 * third:] or slices)
    return last <= middle * FLAT


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="stop after this many (default 1,000,000)")
    parser.add_argument("--seconds", type=int, default=600, help="or after this long (default 600)")
    parser.add_argument("--slice", type=int, default=10, help="seconds between two memory readings (default 10)")
    parser.add_argument("--mix", choices=sorted(SCRIPTS), default="standard",
                        help="standard traffic, or the worst inputs each limit is for (default standard)")
    args = parser.parse_args(argv)
    server_cpu, load_cpu = cores()
    wrk = Wrk(ensure_wrk(), load_cpu)
    # soak.lua makes its own requests: the Load only fills wrk's command line.
    mix = Load("GET", "/api/v1/hubs")
    slices: list[Slice] = []
    with start("mockhub", mockhub_command(*OPTIONS[args.mix]), server_cpu) as server:
        began = time.monotonic()
        total = 0
        print(f"{args.mix} soak of {server.url}: up to {args.requests:,} requests or {args.seconds} s; "
              f"RSS at start {server.rss_mb():.1f} MiB", flush=True)
        print(f"{'elapsed':>8} {'requests':>10} {'req/s':>8} {'RSS MiB':>8}", flush=True)
        while total < args.requests and time.monotonic() - began < args.seconds:
            result = wrk.execute(wrk.command(server.url, mix, args.slice, SCRIPTS[args.mix]), args.slice)
            total += result.requests
            slices.append(Slice(round(time.monotonic() - began, 1), total, round(result.rate),
                                round(server.rss_mb(), 1), result.socket_errors))
            last = slices[-1]
            print(f"{last.elapsed_s:>7.0f}s {last.requests:>10,} {last.rate:>8,} {last.rss_mb:>8.1f}", flush=True)
            if result.socket_errors or server.process.poll() is not None:
                print(f"FAILED: {result.socket_errors} socket errors; server exit code {server.process.poll()}")
                return 1
        with Client(server.url) as client:
            health, _ = client.request("GET", "/__mockhub/health")
            listed, body = client.request("GET", "/__mockhub/sessions")
        sessions = len(json.loads(body)) if listed == 200 else -1
    steady = flat(slices)
    print(f"{total:,} requests in {slices[-1].elapsed_s:.0f} s; RSS {slices[0].rss_mb:.1f} -> {slices[-1].rss_mb:.1f} "
          f"MiB (peak {max(s.rss_mb for s in slices):.1f}); health {health}; {sessions} sessions kept "
          f"(at most {SESSIONS}); memory {'flat' if steady else 'STILL GROWING'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "soak.json" if args.mix == "standard" else f"soak-{args.mix}.json"
    (RESULTS / name).write_text(json.dumps([asdict(s) for s in slices], indent=1))
    return 0 if steady and health == 200 and 0 < sessions <= SESSIONS else 1


if __name__ == "__main__":
    raise SystemExit(main())
