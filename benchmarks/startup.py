"""Start-up: from spawning ``mockhub serve`` to its first 200, against the bare aiohttp app's; and
loading a large fixture file, against ``json.loads`` of the same file."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks import bulk
from benchmarks.figures import Figure, Goal, median
from benchmarks.plan import Plan
from benchmarks.servers import baseline_command, mockhub_command, start
from mockhub.contract.contracts import Contract
from mockhub.dataset.fixtures import FixtureLoader
from mockhub.settings import Settings
from mockhub.web.app import startup_store

GOAL = Goal(1.5, at_most=True)
STARTS = 5
FIXTURE_GOAL = Goal(4, at_most=True)
FIXTURE_RECORDS = 100_000
"""Hubs in the fixture file, and as many integration points: 200,000 records."""
LOADS = 3


def measure(plan: Plan, starts: int = STARTS) -> Figure:
    """Each server started ``starts`` times, taking turns; time to the first 200 on /__mockhub/health."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(starts):
        for command, times in ((mockhub_command(), ours), (baseline_command(), theirs)):
            with start("server", command, plan.server_cpu) as server:
                times.append(server.ready_s * 1000)
    value, reference = median(ours), median(theirs)
    return Figure("mockhub serve: start to first 200", "ms", value, GOAL, reference, "bare aiohttp app",
                  value / reference, {"mockhub": ours, "baseline": theirs},
                  "spawn to the first 200 on /__mockhub/health, Python's own start-up included")


def load_times(path: Path, loads: int = LOADS) -> tuple[list[float], list[float]]:
    """CPU seconds to load ``path`` as ``mockhub serve --fixtures`` does (read, parse, check, store) and CPU
    seconds ``json.loads`` takes on its bytes, ``loads`` times each, taking turns (CPU time: other work on
    the machine does not count)."""
    loader = FixtureLoader(Contract.load())
    settings = Settings(fixtures=(path,))
    raw = path.read_bytes()
    loaded: list[float] = []
    parsed: list[float] = []
    for _ in range(loads):
        started = time.process_time()
        json.loads(raw)
        parsed.append(time.process_time() - started)
        started = time.process_time()
        startup_store(settings, loader)
        loaded.append(time.process_time() - started)
    return loaded, parsed


def measure_fixture_load(records: int = FIXTURE_RECORDS, loads: int = LOADS) -> Figure:
    """A fixture file of ``records`` hubs and ``records`` points, loaded in this process (the harness's core)."""
    with tempfile.TemporaryDirectory() as tmp:
        loaded, parsed = load_times(bulk.write(Path(tmp, "bulk.json"), records, records), loads)
    value, reference = median(loaded), median(parsed)
    return Figure(f"load a fixture file of {2 * records:,} records", "CPU s", value, FIXTURE_GOAL, reference,
                  "json.loads of the file", value / reference, {"load": loaded, "json.loads": parsed},
                  "read, parse, check against the format and store, as mockhub serve --fixtures does")
