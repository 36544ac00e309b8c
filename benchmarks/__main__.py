"""``python -m benchmarks``: run the whole set, print the table, save the raw results as JSON.

Linux only (taskset, /proc), two cores or more: the servers run on the first, wrk and
this harness on the second. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import aiohttp

from benchmarks import balancer, dashboard, fixture_overhead, proxy, scale, startup, throughput
from benchmarks.figures import Figure, table
from benchmarks.plan import RESULTS, Plan, cores
from benchmarks.servers import ROOT
from benchmarks.wrk import Wrk, WrkMissing, ensure_wrk

GROUPS: tuple[tuple[str, Callable[[Plan], list[Figure]]], ...] = (
    ("api", throughput.measure),
    ("proxy", proxy.measure),
    ("dashboard", dashboard.measure),
    ("haproxy", balancer.measure),
    ("startup", lambda plan: [startup.measure(plan)]),
    ("fixtures", lambda plan: [startup.measure_fixture_load()]),
    ("pytest", lambda plan: [fixture_overhead.measure(plan)]),
    ("reset", lambda plan: [scale.measure_reset(plan)]),
    ("size", scale.measure_size),
)
"""The groups of figures, in the order they run."""


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=Plan.seconds,
                        help=f"length of one measured run (default {Plan.seconds:g})")
    parser.add_argument("--warmup", type=float, default=Plan.warmup,
                        help=f"warm-up before each measured run (default {Plan.warmup:g})")
    parser.add_argument("--repeats", type=int, default=Plan.repeats,
                        help=f"measured runs per side, taking turns; the median is quoted (default {Plan.repeats})")
    parser.add_argument("--connections", type=int, default=Wrk.connections,
                        help=f"wrk's connections (default {Wrk.connections})")
    parser.add_argument("--only", choices=[name for name, _ in GROUPS], action="append",
                        help="run only this group of figures (repeatable)")
    parser.add_argument("--quick", action="store_true", help="one 2-second run per side: a smoke test of the harness")
    parser.add_argument("--json", type=Path, help="where to save the raw results (default benchmarks/results/)")
    return parser.parse_args(argv)


def event_loop() -> str:
    """The event loop the servers run on, with its version: uvloop's when installed (as ``mockhub serve``'s)."""
    try:
        return f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:
        return "asyncio"


def describe(plan: Plan) -> dict[str, object]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    return {
        "commit": commit or None,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "event_loop": event_loop(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "plan": {**asdict(plan), "wrk": asdict(plan.wrk)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    server_cpu, load_cpu = cores()
    try:
        binary = ensure_wrk()
    except WrkMissing as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    seconds, warmup, repeats = (2.0, 1.0, 1) if args.quick else (args.seconds, args.warmup, args.repeats)
    plan = Plan(Wrk(binary, load_cpu, args.connections), server_cpu, load_cpu, seconds, warmup, repeats)
    os.sched_setaffinity(0, {load_cpu})  # this harness (a client too, at times) stays off the server's core
    started = time.perf_counter()
    figures: list[Figure] = []
    for name, measure in GROUPS:
        if args.only and name not in args.only:
            continue
        print(f"measuring: {name}...", flush=True)
        figures.extend(measure(plan))
    took = time.perf_counter() - started
    print()
    print(table(figures))
    print(f"\n{len(figures)} figures in {took:.0f} s; server on core {server_cpu}, wrk on core {load_cpu}, "
          f"{plan.wrk.connections} connections, median of {repeats} x {seconds:g} s runs; Python "
          f"{platform.python_version()}, aiohttp {aiohttp.__version__}, {event_loop()} (the ratios depend on the "
          f"Python version: docs/performance.md)")
    out = args.json or RESULTS / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {**describe(plan), "seconds_taken": round(took, 1), "figures": [f.to_json() for f in figures]}
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"raw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
