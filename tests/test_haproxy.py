"""mockhub behind HAProxy: three ``mockhub serve`` processes and ``deploy/haproxy.cfg`` as shipped, on loopback.

Every request of a session, control calls included, reaches the one process that holds the
session, however the session is named; a stopped process's sessions are answered 503 in each
API's error format while the other sessions go on, and come back new when a process is back.
Needs HAProxy 2.6 or later: skipped without it, failed under CI (``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
import yaml

from benchmarks import haproxy
from benchmarks.servers import Server
from mockhub.contract.conformance import ResponseChecker
from tests.conftest import POINTS, Api

PROCESSES = 3
SESSION = "X-Mockhub-Session"
HUB_NAME_MARK = " hub "
"""In the name of every hub a workload creates: the built-in hubs have none."""
DEPLOY = haproxy.CONFIG.parent


@pytest.fixture(scope="module")
def haproxy_installed() -> None:
    reason = haproxy.problem()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: install HAProxy 2.6 or later (`{haproxy.INSTALL}` as root; .ci/run does)")
    pytest.skip(f"{reason} (`{haproxy.INSTALL}` installs it)")


class Cluster:
    """Three ``mockhub serve`` processes on free ports and HAProxy in front of them, all on loopback."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        self.haproxy: Server | None = None
        self._haproxy_log: IO[bytes] | None = None

    def start(self) -> None:
        spawned = [self._spawn(f"mockhub-{i}", 0) for i in range(PROCESSES)]
        for process in spawned:
            self.processes.append(process)
            self.urls.append(self._url_of(process))
        self._haproxy_log = open(self.logs / "haproxy.log", "wb")  # noqa: SIM115 (closed with the cluster)
        self.haproxy = haproxy.start_haproxy(haproxy.CONFIG, [haproxy.address_of(u) for u in self.urls],
                                             output=self._haproxy_log)

    @property
    def url(self) -> str:
        assert self.haproxy is not None
        return self.haproxy.url

    def _spawn(self, name: str, port: int) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (the child holds it)
        with log:
            return subprocess.Popen([sys.executable, "-m", "mockhub", "serve", "--port", str(port), "--quiet"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)

    @staticmethod
    def _url_of(process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        banner = process.stdout.readline().decode()
        assert " listening on http://127.0.0.1:" in banner, f"mockhub did not start: {banner!r}"
        return banner.rsplit(" ", 1)[1].strip()

    def stop(self, index: int) -> None:
        """Stop one process as an orchestrator does (SIGTERM), and wait for it to be gone."""
        process = self.processes[index]
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0

    def restart(self, index: int) -> None:
        """A new process in place of a stopped one: the same port, nothing of the old one's sessions."""
        port = int(self.urls[index].rsplit(":", 1)[1])
        self.processes[index] = self._spawn(f"mockhub-{index}", port)
        assert self._url_of(self.processes[index]) == self.urls[index]

    def close(self) -> None:
        if self.haproxy is not None:
            self.haproxy.stop()
        if self._haproxy_log is not None:
            self._haproxy_log.close()
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture
def cluster(haproxy_installed: None) -> Iterator[Cluster]:
    with tempfile.TemporaryDirectory() as logs:
        running = Cluster(Path(logs))
        try:
            running.start()
            yield running
        finally:
            running.close()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    # No cookie jar: each request carries exactly the cookie it is given.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@dataclass(frozen=True)
class Named:
    """How a client names its session: the header, the cookie, or (control calls) ``?session=``."""

    name: str
    way: str

    def api(self) -> dict[str, str]:
        """The headers of its API calls (``?session=`` is for the control API: those carry the header)."""
        return {"Cookie": f"mockhub_session={self.name}"} if self.way == "cookie" else {SESSION: self.name}

    def control(self) -> dict[str, Any]:
        """The arguments of its control calls."""
        if self.way == "query":
            return {"params": {"session": self.name}}
        return {"headers": self.api()}


async def session_names(api: Api) -> set[str]:
    listed = await api.get("/__mockhub/sessions")
    return {session["name"] for session in listed.json()} - {"default"}


async def holders(client: aiohttp.ClientSession, checker: ResponseChecker, cluster: Cluster) -> list[set[str]]:
    """The named sessions each process holds, asked of each process directly."""
    return [await session_names(Api(None, checker, url, client)) for url in cluster.urls]


async def workload(api: Api, named: Named) -> None:
    """A suite's run in its session: reset, a fault, an override, writes, reads, the journal."""
    headers, control = named.api(), named.control()
    assert (await api.post("/__mockhub/reset", None, **control)).status == 200
    fault = {"method": "GET", "path": "/api/v1/hubs", "status": 503, "times": 1}
    assert (await api.post("/__mockhub/faults", fault, **control)).status == 201
    merge = {"method": "GET", "path": "/api/v1/hubs/*", "response": {"merge": {"description": f"as {named.name}"}}}
    assert (await api.post("/__mockhub/overrides", merge, **control)).status == 201
    created = []
    for number in range(3):
        hub = {"name": f"{named.name}{HUB_NAME_MARK}{number}", "description": "A suite's hub"}
        reply = await api.post("/api/v1/hubs", hub, headers=headers)
        assert reply.status == 200
        created.append(reply.json()["hubId"])
    assert (await api.get("/api/v1/hubs", headers=headers)).status == 503  # its own fault, once
    listed = (await api.get("/api/v1/hubs?pageSize=100", headers=headers)).json()["results"]
    assert sorted(h["name"] for h in listed if HUB_NAME_MARK in h["name"]) == [
        f"{named.name}{HUB_NAME_MARK}{number}" for number in range(3)]
    read = await api.get(f"/api/v1/hubs/{created[0]}", headers=headers)
    assert read.json()["description"] == f"as {named.name}"  # its own override
    journal = (await api.get("/__mockhub/requests", **control)).json()
    assert [(e["session"], e["method"], e["path"], e["status"]) for e in journal] == [
        *[(named.name, "POST", "/api/v1/hubs", 200)] * 3, (named.name, "GET", "/api/v1/hubs", 503),
        (named.name, "GET", "/api/v1/hubs", 200), (named.name, "GET", f"/api/v1/hubs/{created[0]}", 200)]
    rules = (await api.get("/__mockhub/faults", **control)).json()
    assert [(rule["matched"], rule["fired"], rule["remaining"]) for rule in rules] == [(1, 1, 0)]


async def test_each_session_sees_only_its_own_state_and_requests_through_haproxy(
        cluster: Cluster, client: aiohttp.ClientSession, checker: ResponseChecker) -> None:
    api = Api(None, checker, cluster.url, client)
    suites = [Named(f"suite-{n}", ("header", "cookie", "query")[n % 3]) for n in range(12)]
    default_hub = {"name": "The default session's hub", "description": "No session named"}

    async def default_session() -> None:
        assert (await api.post("/api/v1/hubs", default_hub)).status == 200

    await asyncio.gather(default_session(), *(workload(api, named) for named in suites))

    held = await holders(client, checker, cluster)
    assert sorted(name for names in held for name in names) == sorted(named.name for named in suites)
    assert all(held), f"every process holds some of the sessions: {held}"
    # the default session is the first process's alone
    for index, url in enumerate(cluster.urls):
        hubs = (await Api(None, checker, url, client).get("/api/v1/hubs?pageSize=100")).json()["results"]
        assert (default_hub["name"] in {hub["name"] for hub in hubs}) == (index == 0)
    # dropping a session by name reaches the process that holds it, whatever session the call names
    dropped = suites[4].name
    assert (await api.delete(f"/__mockhub/sessions/{dropped}", headers={SESSION: "suite-0"})).status == 200
    assert dropped not in set().union(*await holders(client, checker, cluster))


async def test_a_stopped_process_answers_its_sessions_503_in_each_apis_format_and_the_others_go_on(
        cluster: Cluster, client: aiohttp.ClientSession, checker: ResponseChecker) -> None:
    api = Api(None, checker, cluster.url, client)
    teams = [f"team-{n}" for n in range(9)]
    hubs = {}
    for team in teams:
        reply = await api.post("/api/v1/hubs", {"name": f"{team}'s hub", "description": "d"}, headers={SESSION: team})
        hubs[team] = reply.json()["hubId"]
    held = await holders(client, checker, cluster)
    lost, kept = sorted(held[1]), sorted(held[0] | held[2])
    assert lost and kept

    cluster.stop(1)
    for team in lost:
        portal = await api.get("/api/v1/hubs", headers={SESSION: team, "Origin": "http://localhost:5173"})
        assert (portal.status, portal.error_codes(), portal.headers["Retry-After"]) == (503, [104], "5")
        assert "session is lost" in portal.json()["errors"][0]["description"]
        assert portal.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"  # readable by a browser app
        era = await api.get(POINTS, token=None, headers={"Cookie": f"mockhub_session={team}"})
        assert (era.status, era.json()["error_code"]) == (503, 1503)
        control = await api.get("/__mockhub/requests", params={"session": team})
        assert (control.status, control.json()["status"]) == (503, 503)
    for team in kept:
        read = await api.get(f"/api/v1/hubs/{hubs[team]}", headers={SESSION: team})
        assert (read.status, read.json()["name"]) == (200, f"{team}'s hub")
        journal = (await api.get("/__mockhub/requests", headers={SESSION: team})).json()
        assert [e["method"] for e in journal] == ["POST", "GET"]
    survivors = [await session_names(Api(None, checker, cluster.urls[i], client)) for i in (0, 2)]
    assert not set(lost) & (survivors[0] | survivors[1]), "a lost session never moves to another process"

    cluster.restart(1)
    team = lost[0]
    deadline = time.monotonic() + 30
    while (reply := await api.get(f"/api/v1/hubs/{hubs[team]}", headers={SESSION: team})).status == 503:
        assert time.monotonic() < deadline, "HAProxy never sent the session to the process back on its port"
        await asyncio.sleep(0.2)
    assert reply.status == 404  # the session is new: its hub went with the stopped process
    journal = (await api.get("/__mockhub/requests", headers={SESSION: team})).json()
    assert [(e["method"], e["status"]) for e in journal] == [("GET", 404)]


def test_haproxy_accepts_the_configuration_for_fewer_processes(haproxy_installed: None, tmp_path: Path) -> None:
    for count in (1, 2):
        text = haproxy.config_for(count)
        assert haproxy.processes_named(text) == [f"mockhub-{n}" for n in range(count)]
        path = tmp_path / f"haproxy-{count}.cfg"
        path.write_text(text, encoding="utf-8")
        env = {**os.environ, **haproxy.environment("127.0.0.1:1", ["127.0.0.1:2"] * count)}
        checked = subprocess.run([haproxy.binary() or "haproxy", "-c", "-f", str(path)], env=env,
                                 capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_and_kubernetes_run_the_processes_the_configuration_names() -> None:
    processes = haproxy.processes_named(haproxy.CONFIG.read_text(encoding="utf-8"))
    assert processes == ["mockhub-0", "mockhub-1", "mockhub-2"]
    compose = yaml.safe_load((DEPLOY / "docker-compose.haproxy.yml").read_text(encoding="utf-8"))["services"]
    assert sorted(name for name in compose if name != "mockhub") == processes
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in compose["mockhub"]["volumes"]
    manifests = [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
                 for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))]
    kinds = {(doc["kind"], doc["metadata"]["name"]): doc for doc in manifests}
    statefulset = kinds[("StatefulSet", "mockhub")]
    assert statefulset["spec"]["replicas"] == len(processes)  # pods mockhub-0, -1, -2
    headless = kinds[("Service", statefulset["spec"]["serviceName"])]
    assert headless["spec"]["clusterIP"] == "None"
    container = kinds[("Deployment", "mockhub-haproxy")]["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    suffix = f".{headless['metadata']['name']}.$(POD_NAMESPACE).svc.cluster.local:8080"
    assert {name: env[name] for name in env if name.startswith("MOCKHUB_PROCESS_")} == {
        f"MOCKHUB_PROCESS_{n}": f"{process}{suffix}" for n, process in enumerate(processes)}
