"""``mockhub verify``: the contracts checked against any server, by one scripted scenario (decisions.md, Conformance).

The scenario is a list of named steps (:data:`STEPS`) over every documented endpoint of both
APIs: create, read, update, list with paging, each client error it can provoke, LOOKUP, delete.
Each step sends one request (a listing may page) and is one named check: the status it expects,
and the answer's status, headers and body against the contract (:class:`ResponseChecker`), plus
what the step itself knows (a created hub reads back as it was created). It talks plain HTTP, so
the server may be mockhub, the real service or anything between. Whatever it creates carries the
run's unique name and is deleted before it ends, including what a failed step left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import aiohttp

from mockhub import __version__
from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.engine import jsonio
from mockhub.engine.jsonio import small_integer
from mockhub.settings import APIS, DEFAULT_TOKEN

TIMEOUT_SECONDS = 30
HUBS = "/api/v1/hubs"
INTEGRATIONS = "/api/v1/integrations"
POINTS = "/rest/v1/service/integration_points"
SHOWN_BODY = 300
"""How much of an unexpected body the report quotes."""
MAX_PAGES = 50
"""How far a listing step pages before it gives up looking for what it created."""

THROTTLED = (429, 503)
"""Answers after which a request is sent again (they carry Retry-After: decisions.md, Faults)."""
RETRIES = 2
MAX_WAIT_SECONDS = 10
"""The longest Retry-After honoured; a longer one is cut short."""

_DEFAULT: Any = object()


def _seconds(retry_after: str | None) -> float:
    """How long to wait for a ``Retry-After`` of seconds (1 s when it is missing or not a number)."""
    seconds = small_integer(retry_after) if retry_after else None
    return min(float(seconds), MAX_WAIT_SECONDS) if seconds is not None else 1.0


class Blocked(Exception):
    """A step cannot run: it needs what an earlier step did not make, or an option not given."""


class Unreachable(Exception):
    """The server does not accept connections: nothing else can be checked."""


@dataclass(frozen=True)
class Check:
    """One named result: what was sent, what the contract expects, what came back, what is wrong."""

    group: str
    name: str
    request: str = ""
    expected: str = ""
    got: str = ""
    problems: tuple[str, ...] = ()
    skipped: str = ""
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        return "skipped" if self.skipped else "failed" if self.problems else "passed"


@dataclass
class Report:
    """Every check of a run, in order; its text, its JUnit XML and its exit status."""

    base_url: str
    run_id: str
    checks: list[Check] = field(default_factory=list)
    unreachable: str = ""
    left_behind: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.checks if c.outcome == outcome)

    @property
    def exit_status(self) -> int:
        """0 when every check passed (or was skipped), 1 on any mismatch, 2 when the server is unreachable."""
        return 2 if self.unreachable else 1 if self.count("failed") else 0

    def text(self) -> str:
        lines = [f"mockhub verify {self.base_url} (run {self.run_id})"]
        for c in self.checks:
            label = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[c.outcome]
            if c.skipped:
                lines.append(f"{label}  {c.group}: {c.name}: {c.skipped}")
                continue
            lines.append(f"{label}  {c.group}: {c.name}  ({c.request})")
            if c.problems:
                lines += [f"        expected: {c.expected}", f"        got:      {c.got}"]
                lines += [f"        - {p}" for p in c.problems]
        if self.unreachable:
            lines.append(f"stopped: cannot reach {self.base_url}: {self.unreachable}")
        lines += [f"left behind: {what}" for what in self.left_behind]
        count = len(self.checks)
        lines.append(f"{count} check{'s' * (count != 1)}{' before it stopped' * bool(self.unreachable)}: "
                     f"{self.count('passed')} passed, {self.count('failed')} failed, {self.count('skipped')} skipped")
        return "\n".join(lines)

    def junit(self) -> str:
        """JUnit XML for CI: a suite per group, a testcase per check."""
        root = ET.Element("testsuites", name="mockhub verify", tests=str(len(self.checks)),
                          failures=str(self.count("failed")), skipped=str(self.count("skipped")),
                          time=f"{sum(c.seconds for c in self.checks):.3f}")
        suites: dict[str, ET.Element] = {}
        for c in self.checks:
            suite = suites.get(c.group)
            if suite is None:
                suite = suites[c.group] = ET.SubElement(root, "testsuite", name=c.group)
                ET.SubElement(ET.SubElement(suite, "properties"), "property", name="base_url", value=self.base_url)
            case = ET.SubElement(suite, "testcase", classname=f"mockhub.verify.{c.group.replace(' ', '_')}",
                                 name=c.name, time=f"{c.seconds:.3f}")
            if c.skipped:
                ET.SubElement(case, "skipped", message=c.skipped)
            elif c.problems:
                failure = ET.SubElement(case, "failure", message=c.problems[0], type="ContractMismatch")
                failure.text = "\n".join([f"request:  {c.request}", f"expected: {c.expected}", f"got:      {c.got}",
                                          *c.problems])
        for suite in suites.values():
            cases = suite.findall("testcase")
            suite.set("tests", str(len(cases)))
            suite.set("failures", str(sum(1 for t in cases if t.find("failure") is not None)))
            suite.set("skipped", str(sum(1 for t in cases if t.find("skipped") is not None)))
            suite.set("time", f"{sum(float(t.get('time', '0')) for t in cases):.3f}")
        return ET.tostring(root, encoding="unicode", xml_declaration=True)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ``None`` when it is not (the contract check has said so already)."""
        try:
            return jsonio.loads(self.body)
        except jsonio.JsonError:
            return None


class Run:
    """One verify run: the HTTP session, what earlier steps made, what to clean up, the check being built."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, other_token: str | None,
                 checker: ResponseChecker, run_id: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.other_token = other_token
        self.checker = checker
        self.run_id = run_id
        self.missing_id = f"{run_id}-0000-4000-8000-{run_id}0000"
        """A well-formed GUID that names nothing: the run id makes it unique to this run."""
        self.made: dict[str, Any] = {}
        self._created: dict[str, bool] = {}  # paths to delete at the end, in creation order
        self._problems: list[str] = []
        self._request = self._expected = self._got = ""
        self._answer: Answer | None = None

    def unique(self, what: str) -> str:
        """A name no earlier run used: ``mockhub-verify-<run id>-<what>``."""
        return f"mockhub-verify-{self.run_id}-{what}"

    def need(self, key: str) -> Any:
        if key not in self.made:
            raise Blocked(f"needs the {key} that {MAKERS.get(key, 'an earlier step')} makes")
        return self.made[key]

    def keep(self, key: str, value: Any, schema: str) -> None:
        """Keep what a step made for later steps, if it is the contract's ``schema`` (else they are skipped)."""
        if self.checker.contracts[0].schema(schema).is_valid(value):
            self.made[key] = value

    def expect(self, condition: bool, problem: str) -> None:
        """Record ``problem`` unless ``condition`` holds (what a step knows beyond the contract)."""
        if not condition:
            self._problems.append(problem)

    def same(self, value: Any, expected: Mapping[str, Any], what: str) -> None:
        """Each field of ``expected`` is in ``value`` (a JSON object) with the same value."""
        if not isinstance(value, dict):
            return  # the contract check has reported the shape
        for key, wanted in expected.items():
            self.expect(value.get(key) == wanted, f"{what}: {key} is {json.dumps(value.get(key))}, "
                                                  f"expected {json.dumps(wanted)}")

    async def call(self, method: str, path: str, status: int, *, body: Any = _DEFAULT, raw: bytes | None = None,
                   content_type: str = "application/json", token: str | None = _DEFAULT,
                   params: Mapping[str, str] | None = None, codes: Sequence[int] = ()) -> Answer:
        """Send one request; check the status, the contract and the error ``codes`` (PRT numbers)."""
        headers = {"Accept": "application/json"}
        token = self.token if token is _DEFAULT else token
        if token is not None and not path.startswith(POINTS):
            headers["Authorization"] = f"Bearer {token}"
        data = raw if body is _DEFAULT else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = content_type
        throttled: list[str] = []
        for attempt in range(RETRIES + 1):
            answer = await self._send(method, path, data, headers, params)
            if answer.status not in THROTTLED or answer.status == status or attempt == RETRIES:
                break
            # A usage limit or an outage is no mismatch: the answer must keep the contract (Retry-After
            # included), then the request is sent again when the server says, as a client would.
            self._check_contract(method, path, answer)
            throttled.append(str(answer.status))
            await asyncio.sleep(_seconds(answer.headers.get("Retry-After")))
        self._answer = answer
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        retried = f" (retried after {', '.join(throttled)})" if throttled else ""
        self._request = f"{method} {path}{query} -> {answer.status}{retried}"
        self._expected = self.checker.describe(method, path, status) + (
            f" ({', '.join(f'PRT{c:06d}' for c in codes)})" if codes else "")
        media = answer.headers.get("Content-Type", "no Content-Type")
        self._got = f"{answer.status} {media}, {len(answer.body)} bytes"
        if answer.status != status:
            self._problems.append(f"status {answer.status}, expected {status}")
        self._check_contract(method, path, answer)
        if codes and answer.status == status and isinstance(answer.json(), dict):
            given = [e.get("code") for e in answer.json().get("errors", []) if isinstance(e, dict)]
            self.expect(all(c in given for c in codes),
                        f"error codes {given}, expected {', '.join(str(c) for c in codes)}")
        if 200 <= answer.status < 300 and method == "POST":
            self._note_created(answer.json())
        return answer

    def _check_contract(self, method: str, path: str, answer: Answer) -> None:
        where = f"{method} {path} -> {answer.status}: "  # the report names the request once, above its problems
        for problem in self.checker.check(method, path, answer.status, answer.headers, answer.body):
            if problem.removeprefix(where) not in self._problems:
                self._problems.append(problem.removeprefix(where))

    async def _send(self, method: str, path: str, data: bytes | None, headers: Mapping[str, str],
                    params: Mapping[str, str] | None) -> Answer:
        try:
            async with self.session.request(method, self.base_url + path, data=data, headers=headers, params=params,
                                            allow_redirects=False) as response:
                return Answer(response.status, response.headers, await response.read())
        except aiohttp.ClientConnectorError as exc:  # its own text names "ssl:default" even for http
            reason = os.strerror(exc.os_error.errno) if exc.os_error.errno else str(exc.os_error)
            raise Unreachable(f"cannot connect to {exc.host}:{exc.port}: {reason}") from None

    def _note_created(self, value: Any) -> None:
        """Remember what a POST made (even one that should have failed) so that clean-up deletes it."""
        if not isinstance(value, dict):
            return
        if "integrationId" in value:
            self._created.setdefault(f"{INTEGRATIONS}/{value['integrationId']}", True)
        elif "hubId" in value and "tenantId" in value:
            self._created.setdefault(f"{HUBS}/{value['hubId']}", True)
        elif "token_local" in value and "id" in value:
            self._created.setdefault(f"{POINTS}/{value['id']}", True)

    def deleted(self, path: str) -> None:
        self._created.pop(path, None)

    async def perform(self, step: Step) -> Check:
        """Run one step and make its check."""
        self._problems, self._request, self._expected, self._got, self._answer = [], "", "", "", None
        started = perf_counter()
        try:
            if step.other_tenant and self.other_token is None:
                raise Blocked("give --other-token (a token of another tenant) to check 403")
            await step.run(self)
        except Blocked as exc:
            return Check(step.group, step.name, skipped=str(exc))
        except (TimeoutError, aiohttp.ClientError) as exc:
            self._problems.append(f"no answer: {exc!r}")
        except Unreachable:
            raise
        except Exception as exc:  # a conformance tool must report, not crash on, whatever a server answers
            self._problems.append(f"the answer broke the step: {exc!r}")
        got = self._got
        if self._problems and self._answer is not None and self._answer.body:
            text = self._answer.body.decode("utf-8", "replace")
            got += ": " + (text if len(text) <= SHOWN_BODY else text[:SHOWN_BODY] + "...")
        return Check(step.group, step.name, self._request, self._expected, got, tuple(self._problems),
                     seconds=perf_counter() - started)

    async def clean_up(self) -> list[str]:
        """Delete what the run made and still exists, newest first; says what could not be deleted."""
        left = []
        for path in reversed(list(self._created)):
            headers = {} if path.startswith(POINTS) else {"Authorization": f"Bearer {self.token}"}
            try:
                async with self.session.delete(self.base_url + path, headers=headers) as response:
                    if response.status >= 300 and response.status != 404:
                        left.append(f"{path} (DELETE answered {response.status})")
            except (TimeoutError, aiohttp.ClientError) as exc:
                left.append(f"{path} ({exc!r})")
        return left


StepFunction = Callable[[Run], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """A named check of the scenario: ``run`` sends its request and says what else it expects."""

    group: str
    name: str
    run: StepFunction
    makes: str = ""
    """What the step keeps in ``Run.made`` for later steps (they are skipped when it fails)."""
    other_tenant: bool = False
    """Needs ``--other-token``."""

    @property
    def api(self) -> str:
        return "era" if self.group == "integration points" else "portal"


async def verify(base_url: str, *, token: str = DEFAULT_TOKEN, other_token: str | None = None,
                 apis: Sequence[str] = APIS, run_id: str | None = None, contract: Contract | None = None) -> Report:
    """Run the scenario against ``base_url`` and report every check (``apis`` picks portal and/or era)."""
    run_id = run_id or secrets.token_hex(4)  # unique per run against a shared server, so not the seeded source
    report = Report(base_url, run_id)
    checker = ResponseChecker(contract or Contract.load())
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": f"mockhub-verify/{__version__}"},
                                     auto_decompress=True) as session:
        run = Run(session, base_url, token, other_token, checker, run_id)
        for step in (s for s in STEPS if s.api in apis):
            try:
                report.checks.append(await run.perform(step))
            except Unreachable as exc:  # no check: the server, not its answer, is the problem
                report.unreachable = str(exc)
                return report
        report.left_behind = await run.clean_up()
    return report


# -- the scenario ------------------------------------------------------------------------------
# Each step is one check; they run in the order of STEPS. A step that makes something for later
# steps keeps it with ``run.keep`` and names it in STEPS (``makes``); one that needs it says so
# with ``run.need``. A check that is one request and its status is written in place, with ``ask``.

def ask(method: str, path: str, status: int, **request: Any) -> StepFunction:
    """A step that is one request and the answer the contract gives it: ``{missing}`` in ``path`` is a GUID
    that names nothing, ``{unique}`` a name of this run."""

    async def step(run: Run) -> None:
        await run.call(method, path.format(missing=run.missing_id, unique=run.unique("nothing")), status, **request)

    return step


def hub_body(run: Run, **changes: Any) -> dict[str, Any]:
    return {"name": run.unique("hub"), "description": "Made by mockhub verify; deleted when the run ends.",
            "closeDormantConversation": 7, "statusId": 2000, **changes}


def delete(what: str, collection: str, key: str, status: int) -> StepFunction:
    """A step that deletes the ``what`` an earlier step made, answered ``status`` as documented; later steps
    may then need the "deleted <what>"."""

    async def step(run: Run) -> None:
        made = run.need(what)
        path = f"{collection}/{made[key]}"
        if (await run.call("DELETE", path, status)).status == status:
            run.deleted(path)
            run.made[f"deleted {what}"] = made

    return step


async def create_hub(run: Run) -> None:
    sent = hub_body(run)
    hub = (await run.call("POST", HUBS, 200, body=sent)).json()
    run.same(hub, sent, "the created hub")
    run.keep("hub", hub, "Hub")


def hub_with(**changes: Any) -> StepFunction:
    """A step that creates a hub with ``changes`` to the valid body and expects 400 with the PRT code ``code``."""
    code = changes.pop("code")

    async def step(run: Run) -> None:
        await run.call("POST", HUBS, 400, body=hub_body(run, **changes), codes=[code])

    return step


async def hub_name_taken(run: Run) -> None:
    run.need("hub")
    await run.call("POST", HUBS, 400, body=hub_body(run, name=run.unique("hub").upper()), codes=[600])


async def read_hub(run: Run) -> None:
    hub = run.need("hub")
    run.same((await run.call("GET", f"{HUBS}/{hub['hubId']}", 200)).json(), hub, "the hub read back")


async def read_hub_as_other_tenant(run: Run) -> None:
    hub = run.need("hub")
    await run.call("GET", f"{HUBS}/{hub['hubId']}", 403, token=run.other_token, codes=[101])


async def update_hub(run: Run) -> None:
    hub = run.need("hub")
    change = {"statusId": 2002, "description": "Changed by mockhub verify."}
    updated = (await run.call("PUT", f"{HUBS}/{hub['hubId']}", 200, body=change)).json()
    run.same(updated, {**change, "name": hub["name"], "hubId": hub["hubId"]}, "the updated hub")


async def list_hubs_page(run: Run) -> None:
    page = (await run.call("GET", HUBS, 200, params={"pageNumber": "0", "pageSize": "1"})).json()
    run.same(page, {"pageNumber": 0, "pageSize": 1}, "the page")
    if isinstance(page, dict):
        run.expect(len(page.get("results", [])) == 1, "a page of size 1 of a tenant with a hub holds one hub")
    run.keep("first page", page, "HubPage")


async def list_hubs_next_page(run: Run) -> None:
    first = run.need("first page")
    page = (await run.call("GET", HUBS, 200, params={"pageNumber": "1", "pageSize": "1"})).json()
    run.same(page, {"pageNumber": 1, "pageSize": 1, "total": first["total"]}, "the second page")
    if isinstance(page, dict) and page.get("results") and first["results"]:
        run.expect(page["results"][0].get("hubId") != first["results"][0]["hubId"],
                   "the second page repeats the first page's hub")


async def list_hubs_finds_the_hub(run: Run) -> None:
    hub = run.need("hub")
    for number in range(MAX_PAGES):  # 100 a page, each page checked, until the hub shows up
        page = (await run.call("GET", HUBS, 200, params={"pageNumber": str(number), "pageSize": "100"})).json()
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list) or any(isinstance(r, dict) and r.get("hubId") == hub["hubId"]
                                                for r in results):
            return
        if len(results) < 100:
            break
    run.expect(False, f"the hub {hub['hubId']} is on no page of {HUBS}")


def webchat(run: Run, origin: str, name: str = "webchat") -> dict[str, Any]:
    return {"channelId": "WebChat", "name": run.unique(name), "configuration": {"allowedOrigins": [origin]}}


async def create_integration(run: Run) -> None:
    hub = run.need("hub")
    sent = webchat(run, "verify.mockhub.invalid")
    made = (await run.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 200, body=sent)).json()
    run.same(made, {"hubId": hub["hubId"], "channelId": "WebChat", "integrationTypeId": "Customer",
                    "name": sent["name"], "statusId": 3000}, "the created integration")
    if isinstance(made, dict):
        run.same(made.get("configuration"), sent["configuration"], "the created integration's configuration")
    run.keep("integration", made, "Integration")


async def integration_name_taken(run: Run) -> None:
    hub, _ = run.need("hub"), run.need("integration")
    await run.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 400, body=webchat(run, "x.invalid"), codes=[700])


async def integration_unknown_channel(run: Run) -> None:
    hub = run.need("hub")
    body = {**webchat(run, "x.invalid", "pigeon"), "channelId": "Pigeon"}
    await run.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 400, body=body, codes=[206])


async def integration_in_missing_hub(run: Run) -> None:
    await run.call("POST", f"{INTEGRATIONS}/hubs/{run.missing_id}", 404, body=webchat(run, "x.invalid"), codes=[699])


async def read_integration(run: Run) -> None:
    made = run.need("integration")
    answer = await run.call("GET", f"{INTEGRATIONS}/{made['integrationId']}", 200)
    run.same(answer.json(), made, "the integration read back")


async def read_integration_as_other_tenant(run: Run) -> None:
    made = run.need("integration")
    await run.call("GET", f"{INTEGRATIONS}/{made['integrationId']}", 403, token=run.other_token, codes=[101])


async def integrations_by_channel(run: Run) -> None:
    made = run.need("integration")
    found = (await run.call("GET", f"{INTEGRATIONS}/hubs/{made['hubId']}/WebChat", 200)).json()
    if isinstance(found, list):
        run.expect(any(isinstance(i, dict) and i.get("integrationId") == made["integrationId"] for i in found),
                   "the hub's WebChat integrations do not include the created one")


async def integrations_by_unknown_channel(run: Run) -> None:
    hub = run.need("hub")
    await run.call("GET", f"{INTEGRATIONS}/hubs/{hub['hubId']}/Pigeon", 400, codes=[206])


async def list_integrations_of_hub(run: Run) -> None:
    made = run.need("integration")
    page = (await run.call("GET", INTEGRATIONS, 200, params={"hubId": made["hubId"], "pageSize": "1"})).json()
    run.same(page, {"pageNumber": 0, "pageSize": 1, "total": 1}, "the hub's integrations")
    if isinstance(page, dict) and page.get("results"):
        run.expect(page["results"][0].get("integrationId") == made["integrationId"],
                   "the hub's only integration is not the created one")


async def update_integration(run: Run) -> None:
    made = run.need("integration")
    configuration = {"allowedOrigins": ["changed.mockhub.invalid"]}
    change = {"statusId": 3002, "configuration": configuration}
    updated = (await run.call("POST", f"{INTEGRATIONS}/hubs/{made['integrationId']}", 200, body=change)).json()
    run.same(updated, {"integrationId": made["integrationId"], "name": made["name"], "statusId": 3002},
             "the updated integration")
    if isinstance(updated, dict):
        run.same(updated.get("configuration"), configuration, "the updated integration's configuration")


async def read_deleted_integration(run: Run) -> None:
    made = run.need("deleted integration")
    await run.call("GET", f"{INTEGRATIONS}/{made['integrationId']}", 404, codes=[799])


async def create_integration_to_cascade(run: Run) -> None:
    hub = run.need("hub")
    body = webchat(run, "cascade.mockhub.invalid", "cascade")
    run.keep("second integration", (await run.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 200,
                                                   body=body)).json(), "Integration")


async def read_deleted_hub(run: Run) -> None:
    hub = run.need("deleted hub")
    await run.call("GET", f"{HUBS}/{hub['hubId']}", 404, codes=[699])


async def deleted_hub_took_its_integrations(run: Run) -> None:
    run.need("deleted hub")
    made = run.need("second integration")
    path = f"{INTEGRATIONS}/{made['integrationId']}"
    if (await run.call("GET", path, 404, codes=[799])).status == 404:
        run.deleted(path)


def point_body(run: Run) -> dict[str, Any]:
    return {"code": run.unique("point"), "type": "im", "opts": {"title": "mockhub verify"}}


async def create_point(run: Run) -> None:
    sent = point_body(run)
    point = (await run.call("POST", POINTS, 200, body=sent)).json()
    run.same(point, {"code": sent["code"], "type": "im"}, "the created point")
    if isinstance(point, dict) and isinstance(point.get("opts"), dict):
        run.expect(point["opts"].get("title") == "mockhub verify", "the created point lost opts.title")
    run.keep("point", point, "IntegrationPoint")


async def point_code_taken(run: Run) -> None:
    run.need("point")
    await run.call("POST", POINTS, 409, body=point_body(run))


async def read_point(run: Run) -> None:
    point = run.need("point")
    run.same((await run.call("GET", f"{POINTS}/{point['id']}", 200)).json(), point, "the point read back")


def read_point_as(params: Mapping[str, str], shown: Callable[[Any], Any]) -> StepFunction:
    """A step that reads the point with ``params`` (mask, flat) and expects exactly ``shown(point)``."""

    async def step(run: Run) -> None:
        point = run.need("point")
        wanted = shown(point)
        answer = await run.call("GET", f"{POINTS}/{point['id']}", 200, params=params)
        run.expect(answer.json() == wanted, f"{'&'.join(f'{k}={v}' for k, v in params.items())} should give "
                                            f"exactly {json.dumps(wanted)}")

    return step


async def list_points_page(run: Run) -> None:
    run.need("point")
    first = (await run.call("GET", POINTS, 200, params={"offset": "0", "limit": "1"})).json()
    if isinstance(first, list):
        run.expect(len(first) == 1, f"limit=1 gave {len(first)} points")
        if all(isinstance(p, dict) for p in first):
            run.made["first points"] = first


async def list_points_next_page(run: Run) -> None:
    first = run.need("first points")
    second = (await run.call("GET", POINTS, 200, params={"offset": "1", "limit": "1"})).json()
    if isinstance(second, list):
        run.expect(len(second) <= 1, f"limit=1 gave {len(second)} points")
        run.expect(not second or not first or second[0] != first[0], "offset=1 repeats the point at offset 0")


async def list_points_filtered(run: Run) -> None:
    point = run.need("point")
    found = (await run.call("GET", POINTS, 200, params={"filter": json.dumps({"code": point["code"]})})).json()
    if isinstance(found, list):
        run.expect([p.get("id") for p in found if isinstance(p, dict)] == [point["id"]],
                   f"filter by code should list exactly the point {point['id']}")


async def patch_point(run: Run) -> None:
    point = run.need("point")
    change = {"url": "https://verify.mockhub.invalid/hook", "opts": {"comment": "changed by mockhub verify"}}
    patched = (await run.call("PATCH", f"{POINTS}/{point['id']}", 200, body=change)).json()
    run.same(patched, {"id": point["id"], "code": point["code"], "url": change["url"]}, "the patched point")
    if isinstance(patched, dict):
        run.same(patched.get("opts"), {"title": point["opts"]["title"], "comment": "changed by mockhub verify"},
                 "the patched point's opts")
        run.same(patched.get("ext"), {"ct": point["ext"]["ct"]}, "the patched point's ext")


async def patch_point_token(run: Run) -> None:
    point = run.need("point")
    await run.call("PATCH", f"{POINTS}/{point['id']}", 400, body={"token_local": "0" * 32})


def lookup(field: str) -> StepFunction:
    """A step that LOOKUPs the point by ``field`` (its code or token_local) and expects its id among the ids."""

    async def step(run: Run) -> None:
        point = run.need("point")
        ids = (await run.call("LOOKUP", POINTS, 200, body=point[field])).json()
        run.expect(isinstance(ids, list) and point["id"] in ids, f"LOOKUP by {field} does not give {point['id']}")

    return step


async def lookup_miss(run: Run) -> None:
    error = (await run.call("LOOKUP", POINTS, 404, body=run.unique("nothing"))).json()
    run.same(error, {"error_code": 1404, "error_message": "Lookup failed"}, "the LOOKUP miss")


async def point_wrong_method(run: Run) -> None:
    point = run.need("point")
    await run.call("PUT", f"{POINTS}/{point['id']}", 405, body={})


def on_deleted_point(method: str) -> StepFunction:
    """A step that sends ``method`` to the deleted point and expects 404."""

    async def step(run: Run) -> None:
        point = run.need("deleted point")
        await run.call(method, f"{POINTS}/{point['id']}", 404)

    return step


FORM = {"raw": b"name=x", "content_type": "application/x-www-form-urlencoded"}
"""A body that is not JSON."""

STEPS: tuple[Step, ...] = (
    Step("portal", "no token is 401", ask("GET", HUBS, 401, token=None, codes=[102])),
    Step("portal", "an unknown token is 401", ask("GET", HUBS, 401, token="not-a-mockhub-token", codes=[102])),
    Step("portal", "an unknown route is 404", ask("GET", "/api/v1/{unique}", 404, codes=[105])),
    Step("portal", "a method the path does not have is 405 with Allow", ask("PATCH", HUBS, 405, body={})),
    Step("hubs", "create a hub", create_hub, makes="hub"),
    Step("hubs", "a taken name, in another case, is 400", hub_name_taken),
    Step("hubs", "a missing property is 400", ask("POST", HUBS, 400, body={"description": "no name"}, codes=[301])),
    Step("hubs", "a property of the wrong type is 400", hub_with(name=5, code=302)),
    Step("hubs", "an unsupported property is 400", hub_with(color="red", code=303)),
    Step("hubs", "a value outside its rule is 400", hub_with(statusId=1, code=206)),
    Step("hubs", "an empty body is 400", ask("POST", HUBS, 400, raw=b"", codes=[300])),
    Step("hubs", "malformed JSON is 400", ask("POST", HUBS, 400, raw=b'{"name": ', codes=[302])),
    Step("hubs", "a body that is not JSON is 415", ask("POST", HUBS, 415, **FORM)),
    Step("hubs", "read the hub", read_hub),
    Step("hubs", "a hub that does not exist is 404", ask("GET", HUBS + "/{missing}", 404, codes=[699])),
    Step("hubs", "a malformed hub id is 400", ask("GET", f"{HUBS}/not-a-guid", 400, codes=[203])),
    Step("hubs", "another tenant's hub is 403", read_hub_as_other_tenant, other_tenant=True),
    Step("hubs", "update the hub", update_hub),
    Step("hubs", "updating a hub that does not exist is 404",
         ask("PUT", HUBS + "/{missing}", 404, body={"statusId": 2002}, codes=[699])),
    Step("hubs", "list hubs a page at a time", list_hubs_page, makes="first page"),
    Step("hubs", "the next page is another hub", list_hubs_next_page),
    Step("hubs", "the created hub is listed", list_hubs_finds_the_hub),
    Step("hubs", "a negative pageNumber is 400", ask("GET", HUBS, 400, params={"pageNumber": "-1"}, codes=[209])),
    Step("hubs", "pageSize 0 is 400", ask("GET", HUBS, 400, params={"pageSize": "0"}, codes=[206])),
    Step("hubs", "a pageSize that is not a number is 400",
         ask("GET", HUBS, 400, params={"pageSize": "ten"}, codes=[210])),
    Step("integrations", "create an integration", create_integration, makes="integration"),
    Step("integrations", "a taken name is 400", integration_name_taken),
    Step("integrations", "an unknown channel is 400", integration_unknown_channel),
    Step("integrations", "a hub that does not exist is 404", integration_in_missing_hub),
    Step("integrations", "read the integration", read_integration),
    Step("integrations", "an integration that does not exist is 404",
         ask("GET", INTEGRATIONS + "/{missing}", 404, codes=[799])),
    Step("integrations", "another tenant's integration is 403", read_integration_as_other_tenant, other_tenant=True),
    Step("integrations", "the hub's integrations of a channel type", integrations_by_channel),
    Step("integrations", "an unknown channel type is 400", integrations_by_unknown_channel),
    Step("integrations", "list the hub's integrations", list_integrations_of_hub),
    Step("integrations", "update the integration", update_integration),
    Step("integrations", "delete the integration", delete("integration", INTEGRATIONS, "integrationId", 200),
         makes="deleted integration"),
    Step("integrations", "a deleted integration is 404", read_deleted_integration),
    Step("integrations", "create an integration for the hub to take along", create_integration_to_cascade,
         makes="second integration"),
    Step("hubs", "delete the hub", delete("hub", HUBS, "hubId", 200), makes="deleted hub"),
    Step("hubs", "a deleted hub is 404", read_deleted_hub),
    Step("hubs", "deleting a hub deletes its integrations", deleted_hub_took_its_integrations),
    Step("integration points", "create a point", create_point, makes="point"),
    Step("integration points", "a taken code is 409", point_code_taken),
    Step("integration points", "a missing code is 400", ask("POST", POINTS, 400, body={"type": "im"})),
    Step("integration points", "a body that is not JSON is 415", ask("POST", POINTS, 415, **FORM)),
    Step("integration points", "read the point", read_point),
    Step("integration points", "read the point through a mask", read_point_as(
        {"mask": "id,opts.title"}, lambda p: {"id": p["id"], "opts": {"title": p["opts"]["title"]}})),
    Step("integration points", "read the point flat", read_point_as(
        {"mask": "code,opts.title", "flat": "true"}, lambda p: {"code": p["code"], "opts.title": p["opts"]["title"]})),
    Step("integration points", "a point that does not exist is 404", ask("GET", POINTS + "/{missing}", 404)),
    Step("integration points", "a malformed point id is 400", ask("GET", f"{POINTS}/not-a-guid", 400)),
    Step("integration points", "list points a page at a time", list_points_page, makes="first points"),
    Step("integration points", "the next page is another point", list_points_next_page),
    Step("integration points", "list points filtered by code", list_points_filtered),
    Step("integration points", "limit 0 is 400", ask("GET", POINTS, 400, params={"limit": "0"})),
    Step("integration points", "patch the point", patch_point),
    Step("integration points", "patching token_local is 400", patch_point_token),
    Step("integration points", "LOOKUP by code", lookup("code")),
    Step("integration points", "LOOKUP by token_local", lookup("token_local")),
    Step("integration points", "LOOKUP of a key nothing has is 404 Lookup failed", lookup_miss),
    Step("integration points", "LOOKUP of a body that is not a JSON string is 400",
         ask("LOOKUP", POINTS, 400, body=5)),
    Step("integration points", "a method the point does not have is 405 with Allow", point_wrong_method),
    Step("integration points", "delete the point (204, no body)", delete("point", POINTS, "id", 204),
         makes="deleted point"),
    Step("integration points", "a deleted point is 404", on_deleted_point("GET")),
    Step("integration points", "deleting it again is 404", on_deleted_point("DELETE")),
)
"""The scenario, in the order it runs."""

MAKERS = {step.makes: f"'{step.name}'" for step in STEPS if step.makes}
"""Which step makes what a later step needs, to say why that one was skipped."""
