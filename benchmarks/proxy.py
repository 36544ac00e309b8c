"""The proxy figures: throughput through ``mockhub proxy`` against straight to the same mock.

The mock and the proxy in front of it run on the server core. Through the proxy, each request
costs the proxy's work (forwarding, journal, the checks of both sides) on top of the mock's, so
the rate is requests per second of the CPU time of both processes; straight to the mock, of
the mock's alone. The ratio is how much of the mock's throughput is left through the proxy.
GET a hub gets the same answer every time, so after the first its check is a remembered verdict;
every POST a hub answer is new, so that figure includes checking each answer against its schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.figures import Figure
from benchmarks.plan import Plan
from benchmarks.servers import Server, mockhub_command, proxy_command, start
from benchmarks.throughput import CASES, ROOMY, rate_figure

MEASURED = ("GET a hub", "LOOKUP an integration point", "POST a hub")
"""The API cases measured through the proxy: a read, a custom verb, a write with a body."""


@dataclass(frozen=True)
class Chain:
    """The proxy in front of the mock: the proxy's URL, and the CPU time both spend."""

    proxy: Server
    mock: Server

    @property
    def url(self) -> str:
        return self.proxy.url

    def cpu_seconds(self) -> float:
        return self.proxy.cpu_seconds() + self.mock.cpu_seconds()


def measure(plan: Plan) -> list[Figure]:
    """For each measured case, the rate through the proxy over the rate straight to the mock."""
    cases = [case for case in CASES if case.name in MEASURED]
    with start("mockhub", mockhub_command(*ROOMY), plan.server_cpu) as mock, \
            start("proxy", proxy_command(mock.url), plan.server_cpu) as proxy:
        chain = Chain(proxy, mock)
        measured = [plan.compare([(chain, case.load), (mock, case.load)]) for case in cases]
    return [rate_figure(f"{case.name}, through the proxy", None, through, direct, "straight to the mock",
                        "CPU time of proxy and mock together, against the mock's alone")
            for case, (through, direct) in zip(cases, measured, strict=True)]
