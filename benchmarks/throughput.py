"""The API figures: mockhub (``mockhub serve``, default dataset) against the bare aiohttp baseline.

Both servers run at once, pinned to the server core, and take turns under wrk's load.
The baseline answers each route with the bytes mockhub answered it with, so both send
the same response; each figure is mockhub's median rate over the baseline's, in requests
per second of the server's own CPU time (see :class:`benchmarks.plan.Run`).

Two paces are measured. Under the full load (the plan's connections, 16 by default) each server
answers as fast as it can, and the kernel time a request costs falls as the server gets faster,
for the same system calls: measured here, the baseline slowed by 19 us of its own code a request
paid 5 us more kernel time a request, about as much as mockhub pays above the baseline. With one
connection (:data:`ONE_AT_A_TIME`), a request at a time as a test sends them, the two servers pay
about the same kernel time a request, and the ratio is closer to that of the two apps' own costs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.figures import Figure, Goal, median
from benchmarks.plan import RUN_MARK, Plan, Run
from benchmarks.servers import Client, baseline_command, mockhub_command, start
from benchmarks.wrk import Load

TOKEN = "mockhub-dev-token"
"""Tenant A's token in the built-in dataset (docs/portal.md, A session with curl)."""
HUB = "3bc1e69f-c520-446f-ab2c-01751fd66a31"
"""Tenant A's first hub in the built-in dataset."""
POINTS = "/rest/v1/service/integration_points"
AUTH = f"Authorization: Bearer {TOKEN}"
JSON = "Content-Type: application/json"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Case:
    """One API figure: the load on mockhub, the route the baseline serves, and the goal."""

    name: str
    load: Load
    route: str
    """The route template, as the contract has it: the baseline registers the same one."""
    goal: Goal | None
    baseline_method: str = ""
    """The method the baseline is sent, when it cannot be the load's own."""
    note: str = ""

    @property
    def baseline_load(self) -> Load:
        return Load(self.baseline_method or self.load.method, self.load.path, self.load.body, self.load.headers)


CASES = (
    Case("GET a hub", Load("GET", f"/api/v1/hubs/{HUB}", headers=(AUTH,)), "/api/v1/hubs/{hubId}",
         Goal(0.6, at_most=False)),
    Case(f"GET hubs page (pageSize {PAGE_SIZE})", Load("GET", f"/api/v1/hubs?pageSize={PAGE_SIZE}", headers=(AUTH,)),
         "/api/v1/hubs", Goal(0.5, at_most=False)),
    Case("LOOKUP an integration point", Load("LOOKUP", POINTS, '"ABCDE"', (JSON,)), POINTS,
         Goal(0.5, at_most=False), baseline_method="POST",
         note="the baseline is sent POST with the same body: bare aiohttp's C parser rejects LOOKUP"),
    Case("  same, as POST + X-HTTP-Method-Override", Load(
        "POST", POINTS, '"ABCDE"', (JSON, "X-HTTP-Method-Override: LOOKUP")), POINTS, None,
         note="shows LOOKUP's handling apart from the cost of a custom verb on the wire"),
    Case("POST a hub", Load("POST", "/api/v1/hubs", '{"name": "bench ' + RUN_MARK + '-{n}", '
                            '"description": "Created by the benchmark", "closeDormantConversation": 30}',
                            (AUTH, JSON)),
         "/api/v1/hubs", Goal(0.4, at_most=False)),
)
ROOMY = ("--max-session-records", "100000000", "--max-session-bytes", "100000000000")
"""Session bounds no run reaches: POST a hub creates tens of thousands of hubs in the default session,
past the default bounds, and the figure is the rate of created hubs, not of refusals."""
P99_GOAL = Goal(3, at_most=True)
BUSY = 0.95
"""Below this share of a run on its core, a server was kept waiting: the machine had other work."""
ONE_AT_A_TIME = ("GET a hub", "LOOKUP an integration point", "POST a hub")
"""The figures measured again with one connection: a test's pace, one request at a time."""
ONE_AT_A_TIME_NOTE = "one connection, a request at a time as a test sends them"


def measure(plan: Plan) -> list[Figure]:
    """Every API figure, and the p99 latency of GET a hub."""
    with start("mockhub", mockhub_command(*ROOMY), plan.server_cpu) as mockhub, tempfile.TemporaryDirectory() as tmp:
        fill_first_page(mockhub.url)
        routes = Path(tmp, "routes.json")
        routes.write_text(json.dumps(baseline_routes(mockhub.url, CASES)), encoding="utf-8")
        with start("baseline", baseline_command(routes), plan.server_cpu) as baseline:
            measured = [plan.compare([(mockhub, case.load), (baseline, case.baseline_load)]) for case in CASES]
            paced = replace(plan, wrk=replace(plan.wrk, connections=1))
            one_cases = [case for case in CASES if case.name in ONE_AT_A_TIME]
            one_at_a_time = [paced.compare([(mockhub, _paced(case.load)), (baseline, case.baseline_load)])
                             for case in one_cases]
    figures = [rate_figure(case.name, case.goal, ours, theirs, "baseline", case.note)
               for case, (ours, theirs) in zip(CASES, measured, strict=True)]
    figures += [rate_figure(f"{case.name}, one connection", None, ours, theirs, "baseline", ONE_AT_A_TIME_NOTE,
                            waits_on_client=True)
                for case, (ours, theirs) in zip(one_cases, one_at_a_time, strict=True)]
    return [*figures, _p99_figure(*measured[0])]


def _paced(load: Load) -> Load:
    """``load`` for the one-connection runs: a body made unique per run (a hub's name) stays unlike those of the
    full-load runs, which numbered their runs from 1 as well."""
    return load.with_body(load.body.replace(RUN_MARK, f"paced-{RUN_MARK}")) if RUN_MARK in load.body else load


def fill_first_page(url: str) -> None:
    """Create hubs through the API until tenant A has a full page of them."""
    with Client(url) as client:
        status, body = client.request("GET", "/api/v1/hubs?pageSize=1", headers={"Authorization": f"Bearer {TOKEN}"})
        if status != 200:
            raise RuntimeError(f"mockhub did not list hubs: {status} {body[:300]!r}")
        for number in range(json.loads(body)["total"], PAGE_SIZE):
            hub = {"name": f"Page hub {number}", "description": "A hub of the full first page"}
            status, body = client.request("POST", "/api/v1/hubs", hub, {"Authorization": f"Bearer {TOKEN}"})
            if status != 200:
                raise RuntimeError(f"mockhub did not create a hub: {status} {body[:300]!r}")


def baseline_routes(url: str, cases: Sequence[Case]) -> list[dict[str, str]]:
    """The baseline's routes, each answering what mockhub answers to the case's request."""
    routes: dict[tuple[str, str], dict[str, str]] = {}
    with Client(url) as client:
        for case in cases:
            load = case.load
            headers = dict(line.split(": ", 1) for line in load.headers)
            body = load.body.replace(RUN_MARK, "capture").replace("{n}", "0").encode("utf-8") if load.body else None
            status, answer = client.request(load.method, load.path, body, headers)
            if not 200 <= status < 300:
                raise RuntimeError(f"mockhub answered {case.name} with {status}: {answer[:300]!r}")
            method = case.baseline_load.method
            routes.setdefault((method, case.route), {"method": method, "path": case.route, "body": answer.decode()})
    return list(routes.values())


def rate_figure(name: str, goal: Goal | None, ours: list[Run], theirs: list[Run], reference_name: str,
                note: str = "", slowdown: bool = False, waits_on_client: bool = False) -> Figure:
    """A throughput figure: medians of requests per second of server CPU time; the wall-clock ones in the note.

    The ratio is ours over theirs, or theirs over ours for a ``slowdown``. A server whose client sends a request
    only once the last is answered (``waits_on_client``: one connection) is idle between them, which is not
    a sign of other load on the machine.
    """
    value, reference = median([r.cpu_rate for r in ours]), median([r.cpu_rate for r in theirs])
    wall, wall_reference = median([r.rate for r in ours]), median([r.rate for r in theirs])
    ratio, wall_ratio = (reference / value, wall_reference / wall) if slowdown else (
        value / reference, wall / wall_reference)
    samples = {"mockhub_cpu": [r.cpu_rate for r in ours], "reference_cpu": [r.cpu_rate for r in theirs],
               "mockhub_wall": [r.rate for r in ours], "reference_wall": [r.rate for r in theirs]}
    busy = median([r.busy for r in ours]), median([r.busy for r in theirs])
    wall_note = f"wall clock {wall:,.0f} vs {wall_reference:,.0f} req/s ({wall_ratio:.2f}x)"
    if min(busy) < BUSY and not waits_on_client:
        wall_note += f", servers busy only {busy[0]:.0%} and {busy[1]:.0%} of the time: other load on the machine"
    return Figure(name, "req/CPU-s", value, goal, reference, reference_name, ratio, samples,
                  f"{note}; {wall_note}" if note else wall_note)


def _p99_figure(ours: list[Run], theirs: list[Run]) -> Figure:
    value = median([r.wrk.latency_p99_us / 1000 for r in ours])
    reference = median([r.wrk.latency_p99_us / 1000 for r in theirs])
    return Figure("p99 latency, GET a hub", "ms", value, P99_GOAL, reference, "baseline", value / reference,
                  {"mockhub": [r.wrk.latency_p99_us / 1000 for r in ours],
                   "baseline": [r.wrk.latency_p99_us / 1000 for r in theirs]})
