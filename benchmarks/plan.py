"""How a run measures: cores, durations, repeats; and the interleaved, warmed-up load runs."""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmarks.wrk import Load, Wrk, WrkResult

RESULTS = Path(__file__).resolve().parent / "results"
"""Where raw results go (ignored by git)."""
RUN_MARK = "{run}"
"""Replaced in a load's body by a number unique to each wrk run (with wrk's own ``{n}``: a unique name)."""


def cores() -> tuple[int, int]:
    """The server's core and the load's: the first two this process may use."""
    if sys.platform != "linux" or not shutil.which("taskset"):
        raise SystemExit("the benchmarks need Linux with taskset (util-linux)")
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        raise SystemExit("the benchmarks need two cores: one for the server, one for the load")
    return usable[0], usable[1]


class Measured(Protocol):
    """What takes load: a URL, and the CPU time it has spent (one server, or a proxy and its target)."""

    @property
    def url(self) -> str: ...

    def cpu_seconds(self) -> float: ...


@dataclass(frozen=True)
class Run:
    """One measured wrk run, and the CPU time the server spent during it."""

    wrk: WrkResult
    server_cpu_s: float

    @property
    def rate(self) -> float:
        """Requests per second of wall-clock time."""
        return self.wrk.rate

    @property
    def cpu_rate(self) -> float:
        """Requests per second of the server's own CPU time.

        On a shared machine another process may take the server's core for a while: that
        lowers the wall-clock rate, not this one. The server is the bottleneck (wrk, on its
        own core, sends far more than it answers), so on a quiet machine the two agree.
        """
        return self.wrk.requests / self.server_cpu_s

    @property
    def busy(self) -> float:
        """The share of the run the server spent on its core: about 1 on a quiet machine."""
        return self.server_cpu_s / (self.wrk.duration_us / 1_000_000)


@dataclass(frozen=True)
class Plan:
    """What every measurement of one run shares."""

    wrk: Wrk
    server_cpu: int
    load_cpu: int
    seconds: float = 4.0
    """Length of one measured wrk run."""
    warmup: float = 1.0
    """Load sent, and not measured, right before each measured run."""
    repeats: int = 4
    """Measured runs per side; figures quote the median."""

    def compare(self, sides: Sequence[tuple[Measured, Load]]) -> list[list[Run]]:
        """Each ``(server, load)`` side measured ``repeats`` times, the sides taking turns.

        Taking turns spreads a drift of the machine's speed (other work on a shared host)
        over every side instead of charging it to one.
        """
        numbers = itertools.count(1)
        results: list[list[Run]] = [[] for _ in sides]
        for _ in range(self.repeats):
            for (server, load), measured in zip(sides, results, strict=True):
                self.wrk.run(server.url, _numbered(load, next(numbers)), self.warmup)
                cpu_before = server.cpu_seconds()
                result = self.wrk.run(server.url, _numbered(load, next(numbers)), self.seconds)
                measured.append(Run(result, server.cpu_seconds() - cpu_before))
        return results


def _numbered(load: Load, run: int) -> Load:
    return load.with_body(load.body.replace(RUN_MARK, str(run))) if RUN_MARK in load.body else load
