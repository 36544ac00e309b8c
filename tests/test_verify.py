"""``mockhub verify``: it passes on the mock, in-process and through the real CLI, and each kind
of drift, put in by a proxy in front of the mock that alters its answers, fails the check it concerns
with a report line that says what was expected and what came back."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.verify import STEPS, Report, verify
from mockhub.web.app import create_app
from mockhub.web.server import BackgroundServer
from tests.conftest import OTHER_TOKEN, POINTS
from tests.pages import page

RUN = "5eed0001"
"""A fixed run id, so that the names verify makes are known here."""
ERA_CHECKS = sum(1 for s in STEPS if s.api == "era")
IDENTITY_CHECKS = sum(1 for s in STEPS if s.api == "identity")
ENGINE_CLIENT = "hubster.engine.api.00000000000000000000000000000001"


@dataclass(frozen=True)
class Exchange:
    """One request as the proxy forwarded it and the answer it will send back."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def with_json(self, value: Any, **changes: Any) -> Exchange:
        return replace(self, body=json.dumps(value).encode(), **changes)


Drift = Callable[[Exchange], Exchange]
Rewrite = Callable[[str, str, bytes], bytes]

UPSTREAM: web.AppKey[str] = web.AppKey("upstream", str)
CLIENT: web.AppKey[aiohttp.ClientSession] = web.AppKey("client", aiohttp.ClientSession)
KEPT_HEADERS = ("Content-Type", "Allow", "Retry-After", "WWW-Authenticate", "Cache-Control", "Pragma")


def drifting_proxy(upstream: str, drift: Drift, rewrite: Rewrite | None = None) -> web.Application:
    """A server that forwards everything to ``upstream`` (the mock) and answers what ``drift`` makes of
    the mock's answer; ``rewrite`` may change a request body on its way."""

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        if rewrite is not None:
            body = rewrite(request.method, request.path, body)
        headers = {k: v for k, v in request.headers.items() if k in ("Authorization", "Content-Type")}
        async with request.app[CLIENT].request(request.method, request.app[UPSTREAM] + request.path_qs,
                                               data=body or None, headers=headers) as answer:
            exchange = Exchange(request.method, request.path, answer.status,
                                {k: answer.headers[k] for k in KEPT_HEADERS if k in answer.headers},
                                await answer.read())
        out = drift(exchange)
        return web.Response(status=out.status, headers=out.headers, body=out.body)

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[CLIENT] = session
            yield

    app = web.Application()
    app[UPSTREAM] = upstream
    app.cleanup_ctx.append(client)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve an app on a real socket (custom verbs such as LOOKUP included); returns its URL."""
    servers: list[MockhubTestServer] = []

    async def start(app: web.Application) -> str:
        server = MockhubTestServer(app)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def mock_url(serve: Serve) -> str:
    return await serve(create_app(Settings(access_log=False)))


async def state(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/__mockhub/state") as answer:
        return await answer.json()


def failed(report: Report) -> dict[str, tuple[str, ...]]:
    return {c.name: c.problems for c in report.checks if c.outcome == "failed"}


# -- against the mock ---------------------------------------------------------------------------

async def test_the_mock_passes_every_check_and_is_left_as_it_was(mock_url: str) -> None:
    before = await state(mock_url)
    report = await verify(mock_url, other_token=OTHER_TOKEN, run_id=RUN)
    assert failed(report) == {}
    assert report.count("passed") == len(STEPS) == len(report.checks)
    assert report.exit_status == 0
    assert report.left_behind == []
    assert await state(mock_url) == before  # everything it made was deleted again


async def test_every_documented_operation_is_exercised(mock_url: str, contract: Contract) -> None:
    checker = ResponseChecker(contract)
    report = await verify(mock_url, other_token=OTHER_TOKEN, run_id=RUN)
    requests = [c.request.split(" ")[:2] for c in report.checks]
    specs = [checker.operation_for(method, path.split("?")[0])[1] for method, path in requests]
    assert {spec["operationId"] for spec in specs if spec is not None} == set(contract.operations)


OTHER_TENANT_CHECKS = ("hub", "integration", "transfer command", "response command", "conversation", "client")
"""What the run reads with --other-token, each to be 403."""


async def test_without_another_tenants_token_the_403_checks_are_skipped_not_failed(mock_url: str) -> None:
    report = await verify(mock_url, run_id=RUN)
    skipped = {c.name: c.skipped for c in report.checks if c.outcome == "skipped"}
    assert skipped == {f"another tenant's {what} is 403": "give --other-token (a token of another tenant) to check 403"
                       for what in OTHER_TENANT_CHECKS}
    assert report.exit_status == 0


async def test_a_503_or_429_is_checked_then_retried_after_retry_after(serve: Serve) -> None:
    outages = ({"method": "POST", "path": "/api/v1/hubs", "sequence": [503, "pass"], "retry_after": 0},
               {"method": "POST", "path": POINTS, "sequence": [429, 429, "pass"], "retry_after": 0})
    url = await serve(create_app(Settings(access_log=False, faults=outages)))
    report = await verify(url, other_token=OTHER_TOKEN, run_id=RUN)
    assert failed(report) == {}
    requests = {c.name: c.request for c in report.checks}
    assert requests["create a hub"] == "POST /api/v1/hubs -> 200 (retried after 503)"
    assert requests["create a point"] == f"POST {POINTS} -> 200 (retried after 429, 429)"


async def test_identity_alone_is_checked_with_only_identity(mock_url: str) -> None:
    report = await verify(mock_url, apis=("identity",), run_id=RUN)
    assert {c.group for c in report.checks} == {"identity"}
    skipped = {c.name: c.skipped for c in report.checks if c.outcome == "skipped"}
    assert skipped == {  # the secret the Tenants API adds lives on the Portal's host
        "the new secret gets a token": "needs the secret that 'add a secret to the client' makes",
        "a deleted secret gets no token": "needs the deleted secret that 'delete the secret' makes"}
    assert report.count("passed") == IDENTITY_CHECKS - 2 == len(report.checks) - 2


async def test_an_engine_client_is_checked_to_be_refused_by_the_portal(mock_url: str) -> None:
    report = await verify(mock_url, client_id=ENGINE_CLIENT, client_secret="mockhub-dev-engine-secret",
                          apis=("identity", "portal"), run_id=RUN)
    assert failed(report) == {}
    check = next(c for c in report.checks if c.name == "an access token works for the API of its scope only")
    assert check.request == "GET /api/v1/hubs?pageSize=1 -> 401"


async def test_a_wrong_client_secret_fails_the_token_checks_and_skips_what_needs_the_token(mock_url: str) -> None:
    report = await verify(mock_url, client_secret="not-the-secret", apis=("identity", "portal"), run_id=RUN)
    assert set(failed(report)) == {
        "a token for the client's id and secret in the form", "a token with HTTP Basic client authentication",
        "no grant_type is 400 invalid_request", "a grant other than client_credentials is 400 unsupported_grant_type",
        "a scope the client does not have is 400 invalid_scope"}
    skipped = {c.name: c.skipped for c in report.checks if c.outcome == "skipped"}
    assert skipped["an access token works for the API of its scope only"] == (
        "needs the token that 'a token for the client's id and secret in the form' makes")


async def test_only_one_api_can_be_checked(mock_url: str) -> None:
    report = await verify(mock_url, apis=("era",), run_id=RUN)
    assert {c.group for c in report.checks} == {"integration points"}
    assert report.count("passed") == ERA_CHECKS


# -- against drifting servers -------------------------------------------------------------------

def on(method: str, path_start: str, status: int, change: Drift) -> Drift:
    """Apply ``change`` to answers of ``method`` on paths starting with ``path_start`` that have ``status``."""
    return lambda ex: change(ex) if (ex.method, ex.status) == (method, status) and ex.path.startswith(
        path_start) else ex


def drop(field: str) -> Drift:
    return lambda ex: ex.with_json({k: v for k, v in ex.json().items() if k != field})


def drop_from_one(field: str) -> Drift:
    """``drop``, in an answer that is one object (not a list of them)."""
    return lambda ex: drop(field)(ex) if isinstance(ex.json(), dict) else ex


DRIFTS: dict[str, tuple[Drift, dict[str, str]]] = {
    "a required field dropped": (
        on("GET", "/api/v1/hubs/", 200, drop("created")),
        {"read the hub": "at '(body)': 'created' is a required property"}),
    "a status changed": (
        on("POST", "/api/v1/hubs", 200, lambda ex: replace(ex, status=201)),
        {"create a hub": "status 201 is not documented for createHub (documented: 200, 400, 401, 408, 413, "
                         "415, 429, 500, 502, 503, 504)"}),
    "200 instead of 204": (
        on("DELETE", POINTS, 204, lambda ex: ex.with_json({"deleted": True}, status=200,
                                                          headers={"Content-Type": "application/json"})),
        {"delete the point (204, no body)": "status 200, expected 204"}),
    "a broken error body": (
        on("GET", "/api/v1/hubs/", 404, lambda ex: ex.with_json({"message": "Not Found"})),
        {"a hub that does not exist is 404": "at '(body)': 'status' is a required property",
         "a deleted hub is 404": "at '(body)': 'errors' is a required property"}),
    "an error code that is not 1000 + the status": (
        on("LOOKUP", POINTS, 404, lambda ex: ex.with_json({**ex.json(), "error_code": 1400})),
        {"LOOKUP of a key nothing has is 404 Lookup failed": "error_code is 1400, expected 1404"}),
    "a PRT code that is not the one in the description": (
        on("GET", "/api/v1/hubs", 401, lambda ex: ex.with_json(
            {"status": 401, "errors": [{"code": 101, "description": "Nope. (code: PRT000102)"}]})),
        {"no token is 401": "errors[0] has code 101 but its description names PRT000102",
         "an unknown token is 401": "error codes [101], expected 102"}),
    "a Content-Type that is not JSON": (
        on("GET", "/rest/v1/service/integration_points/", 200,
           lambda ex: replace(ex, headers={"Content-Type": "text/plain"})),
        {"read the point": "Content-Type is 'text/plain', expected application/json",
         "read the point through a mask": "Content-Type is 'text/plain', expected application/json",
         "read the point flat": "Content-Type is 'text/plain', expected application/json"}),
    "no Allow on a 405": (
        on("PATCH", "/api/v1/hubs", 405, lambda ex: replace(ex, headers={"Content-Type": "application/json"})),
        {"a method the path does not have is 405 with Allow": "no Allow header; expected GET, POST"}),
    "an Allow that names an undocumented method": (
        on("PUT", POINTS, 405, lambda ex: replace(ex, headers={**ex.headers, "Allow": "DELETE, GET, PATCH, PUT"})),
        {"a method the point does not have is 405 with Allow": "the contract does not document PUT"}),
    "a 503 without Retry-After": (
        on("GET", "/api/v1/integrations/hubs/", 200, lambda ex: ex.with_json(
            {"status": 503, "errors": [{"code": 104, "description": "Down. (code: PRT000104)"}]}, status=503)),
        {"the hub's integrations of a channel type": "no Retry-After header; the contract requires one"}),
    "auth ignored": (
        on("GET", "/api/v1/hubs", 401, lambda ex: ex.with_json(
            {"pageNumber": 0, "pageSize": 50, "total": 0, "results": []}, status=200)),
        {"no token is 401": "status 200, expected 401", "an unknown token is 401": "status 200, expected 401"}),
    "an invalid_client without its challenge": (
        on("POST", "/connect/token", 401, lambda ex: replace(ex, headers={"Content-Type": "application/json"})),
        {"no client authentication is 401 invalid_client": "no WWW-Authenticate header; the contract requires one",
         "an unknown client is 401 invalid_client": "no WWW-Authenticate header; the contract requires one",
         "a wrong secret is 401 invalid_client": "no WWW-Authenticate header; the contract requires one",
         "a deleted secret gets no token": "no WWW-Authenticate header; the contract requires one"}),
    "an OAuth error that is not the one RFC 6749 names": (
        on("POST", "/connect/token", 400, lambda ex: ex.with_json({"error": "invalid_request"})),
        {"a grant other than client_credentials is 400 unsupported_grant_type":
         'error is "invalid_request", expected "unsupported_grant_type"',
         "a scope the client does not have is 400 invalid_scope": 'error is "invalid_request", expected '
                                                                  '"invalid_scope"'}),
    "a token response without its scope": (
        on("POST", "/connect/token", 200, drop("scope")),
        {"a token for the client's id and secret in the form": "at '(body)': 'scope' is a required property",
         "a token with HTTP Basic client authentication": "at '(body)': 'scope' is a required property",
         "the new secret gets a token": "at '(body)': 'scope' is a required property"}),
    "a command answer missing a field": (
        on("GET", "/api/v1/commands/transfers/", 200, drop_from_one("mountDelay")),
        {"read the transfer command": "at '(body)': 'mountDelay' is a required property"}),
    "a command answered with a wrong status": (
        on("POST", "/api/v1/commands/responses/", 200, lambda ex: replace(ex, status=201)),
        {"create a response command": "status 201 is not documented for createResponseCommand (documented: 200, "
                                      "400, 401, 403, 404, 408, 413, 415, 429, 500, 502, 503, 504)",
         "create a response command with the defaults, for the hub to take along": "status 201, expected 200"}),
    "a LOOKUP miss with another message": (
        on("LOOKUP", POINTS, 404, lambda ex: ex.with_json({"error_code": 1404, "error_message": "Not found"})),
        {"LOOKUP of a key nothing has is 404 Lookup failed":
         'the LOOKUP miss: error_message is "Not found", expected "Lookup failed"'}),
    "a patch that loses opts": (
        on("PATCH", POINTS, 200, lambda ex: ex.with_json({**ex.json(), "opts": {"comment": "x"}})),
        {"patch the point": "the patched point's opts: title is null, expected \"mockhub verify\""}),
}


@pytest.mark.parametrize("kind", DRIFTS)
async def test_each_drift_fails_its_check_with_a_clear_report_line(serve: Serve, mock_url: str, kind: str) -> None:
    drift, expected = DRIFTS[kind]
    proxy = await serve(drifting_proxy(mock_url, drift))
    report = await verify(proxy, other_token=OTHER_TOKEN, run_id=RUN)
    problems = failed(report)
    assert set(problems) == set(expected), report.text()
    text = report.text().splitlines()
    for name, line in expected.items():
        check = next(c for c in report.checks if c.name == name)
        at = text.index(f"FAIL  {check.group}: {name}  ({check.request})")
        assert any(line in shown for shown in text[at + 3:at + 3 + len(check.problems)]), text[at:]
    assert report.exit_status == 1


async def test_a_failed_check_says_what_was_expected_and_what_came_back(serve: Serve, mock_url: str) -> None:
    proxy = await serve(drifting_proxy(mock_url, DRIFTS["200 instead of 204"][0]))
    report = await verify(proxy, other_token=OTHER_TOKEN, run_id=RUN)
    check = next(c for c in report.checks if c.outcome == "failed")
    assert check.request.startswith(f"DELETE {POINTS}/") and check.request.endswith(" -> 200")
    assert check.expected == "204 with no body"
    assert check.got == '200 application/json, 17 bytes: {"deleted": true}'
    assert check.problems == ("status 200, expected 204",
                              "status 200 is not documented for deleteIntegrationPoint "
                              "(documented: 204, 400, 404, 408, 429, 500, 502, 503, 504)")
    text = report.text().splitlines()
    at = text.index(f"FAIL  integration points: delete the point (204, no body)  ({check.request})")
    assert text[at + 1:at + 5] == ["        expected: 204 with no body", f"        got:      {check.got}",
                                   f"        - {check.problems[0]}", f"        - {check.problems[1]}"]
    # the two checks of the deleted point need a delete that went as documented
    assert text[-1] == f"{len(STEPS)} checks: {len(STEPS) - 3} passed, 1 failed, 2 skipped"


async def test_what_depends_on_a_failed_step_is_skipped_naming_it(serve: Serve, mock_url: str) -> None:
    broken = on("POST", "/api/v1/hubs", 200, drop("hubId"))
    report = await verify(await serve(drifting_proxy(mock_url, broken)), other_token=OTHER_TOKEN, run_id=RUN)
    assert "at '(body)': 'hubId' is a required property" in " ".join(failed(report)["create a hub"])
    skipped = {c.name: c.skipped for c in report.checks if c.outcome == "skipped"}
    assert skipped["read the hub"] == "needs the hub that 'create a hub' makes"
    assert skipped["create an integration"] == "needs the hub that 'create a hub' makes"
    assert skipped["read the integration"] == "needs the integration that 'create an integration' makes"
    assert "create a point" not in skipped  # the Era API does not need the hub


async def test_what_a_drifting_server_made_by_mistake_is_deleted_too(serve: Serve, mock_url: str) -> None:
    def rename(method: str, path: str, body: bytes) -> bytes:
        # "a taken name is 400" reaches the mock with a fresh name, so the mock makes a second hub
        if method == "POST" and path == "/api/v1/hubs" and f"MOCKHUB-VERIFY-{RUN.upper()}".encode() in body:
            return body.replace(b"MOCKHUB-VERIFY", b"ANOTHER")
        return body

    before = await state(mock_url)
    report = await verify(await serve(drifting_proxy(mock_url, lambda ex: ex, rename)), run_id=RUN)
    assert set(failed(report)) == {"a taken name, in another case, is 400"}
    assert report.left_behind == []
    assert await state(mock_url) == before


def closed_port_url() -> str:
    """The URL of a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_server_that_cannot_be_reached_stops_the_run() -> None:
    url = closed_port_url()
    report = await verify(url, run_id=RUN)
    assert report.exit_status == 2
    assert report.checks == []
    port = url.rsplit(":", 1)[1]
    assert report.text().splitlines()[-2:] == [
        f"stopped: cannot reach {url}: cannot connect to 127.0.0.1:{port}: Connection refused",
        "0 checks before it stopped: 0 passed, 0 failed, 0 skipped"]


async def test_an_answer_with_no_end_fails_its_check_and_is_never_read_whole(serve: Serve) -> None:
    streamed: list[int] = []  # bytes written of each answer

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        streamed.append(0)
        for _ in range(1024):  # 64 MiB, unless the reader hangs up
            await response.write(b" " * 65536)
            streamed[-1] += 65536
        return response

    app = web.Application()
    app.router.add_post("/connect/token", endless)
    url = await serve(app)
    report = await verify(url, run_id=RUN, apis=("identity",), answer_bytes=100_000)
    first = report.checks[0]
    assert first.outcome == "failed"
    assert "the answer went on past 100000 bytes (--max-answer-bytes): only its beginning was read, and " \
           "nothing of it checked" in first.problems
    assert first.got.startswith("200 application/json, more than 100000 bytes")
    assert streamed and max(streamed) < 32 * 1024 * 1024  # the reader hung up long before any answer's end


# -- JUnit XML ----------------------------------------------------------------------------------

async def test_junit_has_one_testcase_per_check_with_failures_and_skips(serve: Serve, mock_url: str) -> None:
    proxy = await serve(drifting_proxy(mock_url, DRIFTS["a required field dropped"][0]))
    report = await verify(proxy, run_id=RUN)
    root = ET.fromstring(report.junit())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == (str(len(STEPS)), "1", "6")
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases if c.get("classname") == "mockhub.verify.hubs"][:2] == [
        "create a hub", "a taken name, in another case, is 400"]
    assert len(cases) == len(STEPS)
    assert {s.get("name") for s in root.findall("testsuite")} == {"identity", "portal", "hubs", "integrations",
                                                                  "transfer commands", "response commands", "engine",
                                                                  "tenants",
                                                                  "integration points"}
    failure = next(c for c in cases if c.get("name") == "read the hub").find("failure")
    assert failure is not None
    assert "'created' is a required property" in (failure.get("message") or "")
    assert "expected: 200 application/json Hub" in (failure.text or "")
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert skipped == [f"another tenant's {what} is 403"
                       for what in OTHER_TENANT_CHECKS]
    for suite in root.findall("testsuite"):
        assert suite.get("tests") == str(len(suite.findall("testcase")))


# -- through the command line -------------------------------------------------------------------

@pytest.fixture
def background_mock() -> Iterator[str]:
    server = BackgroundServer(create_app(Settings(access_log=False)))
    yield server.start()
    server.stop()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockhub", "verify", *args], capture_output=True, text=True,
                          timeout=120)


def test_the_cli_passes_on_the_mock_and_writes_junit(background_mock: str, tmp_path: Path) -> None:
    junit = tmp_path / "verify.xml"
    result = run_cli("--base-url", background_mock, "--other-token", OTHER_TOKEN, "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"{len(STEPS)} checks: {len(STEPS)} passed, 0 failed, 0 skipped"
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == (str(len(STEPS)), "0", "0")


def test_the_cli_checks_one_api_with_only(background_mock: str) -> None:
    result = run_cli("--base-url", background_mock, "--only", "era")
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == f"{ERA_CHECKS} checks: {ERA_CHECKS} passed, 0 failed, 0 skipped"


def test_the_cli_exits_1_on_a_mismatch_and_2_when_unreachable(background_mock: str) -> None:
    wrong_token = run_cli("--base-url", background_mock, "--token", "not-a-token", "--only", "portal")
    assert wrong_token.returncode == 1
    assert "FAIL  hubs: create a hub  (POST /api/v1/hubs -> 401)" in wrong_token.stdout
    url = closed_port_url()
    unreachable = run_cli("--base-url", url)
    assert unreachable.returncode == 2
    assert f"stopped: cannot reach {url}" in unreachable.stdout


def test_the_cli_refuses_a_base_url_that_is_not_http() -> None:
    result = run_cli("--base-url", "localhost:8080")
    assert result.returncode == 2
    assert "is not an http(s) URL" in result.stderr


def test_the_docs_count_the_checks_there_are() -> None:
    assert f"one named result each ({len(STEPS)} in all)" in page("conformance.md")
