"""Start-up: from spawning ``mockhub serve`` to its first 200, against the bare aiohttp app's."""

from __future__ import annotations

from benchmarks.figures import Figure, Goal, median
from benchmarks.plan import Plan
from benchmarks.servers import baseline_command, mockhub_command, start

GOAL = Goal(1.5, at_most=True)
STARTS = 5


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
