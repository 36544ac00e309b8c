"""The balancer figures: HAProxy (``deploy/haproxy.cfg``) in front of one and of two processes, against one alone.

Every request names one of 16 sessions (``benchmarks/sessions.lua``) on every side, so that HAProxy
spreads them over its processes as it spreads many suites' sessions. A rate is requests per second
of the CPU time of every process of the side: HAProxy's and each mockhub's. One process alone, and
HAProxy with one process, run on the server core. With two, HAProxy and the first process run on
the server core and the second on the load core, beside wrk: one process a core, as N processes are
meant to run (two processes taking turns on one core would pay for switching between them, which a
core each does not; wrk beside the second costs it some CPU instead). The figure on paper adds the
HAProxy CPU time a request measured with two processes to one process's alone: what a request costs
with any number of processes, each on a core of its own.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.figures import Figure, Goal, median
from benchmarks.haproxy import HaproxyUnusable, address_of, config_for, ensure_haproxy, start_haproxy
from benchmarks.plan import Plan, Run
from benchmarks.servers import Server, mockhub_command, start
from benchmarks.throughput import CASES, ROOMY, rate_figure

SESSIONS_SCRIPT = Path(__file__).with_name("sessions.lua")
MEASURED = ("GET a hub", "POST a hub")
GOAL = Goal(0.8, at_most=False)
"""HAProxy and two processes: at least 0.8 times one process's requests per CPU-second."""
ALONE = "one process alone"


@dataclass
class Balanced:
    """HAProxy and its processes: HAProxy's URL, and the CPU time all of them spend."""

    haproxy: Server
    processes: Sequence[Server]
    haproxy_readings: list[float] = field(default_factory=list)
    """HAProxy's CPU seconds at each :meth:`cpu_seconds` call."""

    @property
    def url(self) -> str:
        return self.haproxy.url

    def cpu_seconds(self) -> float:
        own = self.haproxy.cpu_seconds()
        self.haproxy_readings.append(own)
        return own + sum(process.cpu_seconds() for process in self.processes)

    def haproxy_seconds(self) -> list[float]:
        """HAProxy's CPU seconds in each measured run since the readings were cleared
        (:meth:`Plan.compare` reads :meth:`cpu_seconds` right before and right after each)."""
        readings = self.haproxy_readings
        return [after - before for before, after in zip(readings[::2], readings[1::2], strict=True)]


@contextmanager
def balanced(processes: int, plan: Plan) -> Iterator[Balanced]:
    """``processes`` mockhub processes (the first on the server core, the second on the load core) behind HAProxy."""
    cores = (plan.server_cpu, plan.load_cpu)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        started = [stack.enter_context(start(f"mockhub-{n}", mockhub_command(*ROOMY), cores[n % len(cores)]))
                   for n in range(processes)]
        config = Path(tmp, "haproxy.cfg")
        config.write_text(config_for(processes), encoding="utf-8")
        haproxy = stack.enter_context(start_haproxy(config, [address_of(p.url) for p in started], plan.server_cpu))
        yield Balanced(haproxy, started)


def measure(plan: Plan) -> list[Figure]:
    """For GET and POST a hub: HAProxy with one process, with two, and on paper, against one process alone."""
    try:
        ensure_haproxy()
    except HaproxyUnusable as exc:
        print(f"benchmarks: no balancer figures: {exc}", file=sys.stderr)
        return []
    spread = replace(plan, wrk=replace(plan.wrk, script=SESSIONS_SCRIPT))
    figures: list[Figure] = []
    with start("mockhub", mockhub_command(*ROOMY), plan.server_cpu) as alone, \
            balanced(1, plan) as one, balanced(2, plan) as two:
        for case in (case for case in CASES if case.name in MEASURED):
            two.haproxy_readings.clear()
            alone_runs, one_runs, two_runs = spread.compare([(alone, case.load), (one, case.load), (two, case.load)])
            figures += [
                rate_figure(f"{case.name}: HAProxy + 1 process", None, one_runs, alone_runs, ALONE,
                            "CPU time of HAProxy and the process, both on the server core"),
                rate_figure(f"{case.name}: HAProxy + 2 processes", GOAL, two_runs, alone_runs, ALONE,
                            "CPU time of HAProxy and both processes, a process on each core"),
                on_paper(case.name, alone_runs, two_runs, two.haproxy_seconds()),
            ]
    return figures


def on_paper(name: str, alone: list[Run], balanced_runs: list[Run], haproxy_seconds: list[float]) -> Figure:
    """Requests per CPU-second of HAProxy and any number of processes, each on its own core: one process's
    CPU time a request (alone) plus HAProxy's (measured in ``balanced_runs``)."""
    haproxy_costs = [seconds / run.wrk.requests for seconds, run in zip(haproxy_seconds, balanced_runs, strict=True)]
    haproxy_cost = median(haproxy_costs)
    reference = median([run.cpu_rate for run in alone])
    process_cost = 1 / reference
    value = 1 / (process_cost + haproxy_cost)
    note = (f"HAProxy {haproxy_cost * 1e6:.1f} us of CPU a request (median of the 2-process runs), a process "
            f"{process_cost * 1e6:.1f} us; one HAProxy thread keeps up with {1 / haproxy_cost:,.0f} req/s, "
            f"the full load of about {process_cost / haproxy_cost:.0f} processes (more: nbthread)")
    return Figure(f"{name}: HAProxy + N processes, on paper", "req/CPU-s", value, None, reference, ALONE,
                  value / reference, {"haproxy_cpu_us": [cost * 1e6 for cost in haproxy_costs]}, note)
