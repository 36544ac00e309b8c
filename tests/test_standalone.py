"""The standalone door for frontend developers: CORS, access log, env options, banner, shutdown, docs."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.conftest import TOKEN, Api, MakeApi
from tests.test_cli import get_json, serving

ORIGIN = "http://localhost:5173"
VERBS = ["GET", "POST", "PUT", "PATCH", "DELETE", "LOOKUP"]


async def preflight(api: Api, method: str, path: str, origin: str = ORIGIN,
                    headers: str = "authorization, content-type, x-mockhub-fault") -> Any:
    # A preflight is transport, not API: it is checked here header by header, not against the contract.
    assert api.client is not None
    async with api.client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers,
    }) as response:
        if response.status == 204:
            assert await response.read() == b""
        return response


@pytest.mark.parametrize("verb", VERBS)
async def test_a_browser_preflight_is_allowed_for_every_verb(api: Api, verb: str) -> None:
    response = await preflight(api, verb, "/rest/v1/service/integration_points")
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert verb in response.headers["Access-Control-Allow-Methods"].split(", ")
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type, x-mockhub-fault"
    assert "Origin" in response.headers.getall("Vary")


async def test_a_preflight_without_requested_headers_lists_mockhubs_own(api: Api) -> None:
    response = await preflight(api, "PATCH", "/api/v1/hubs", headers="")
    allowed = response.headers["Access-Control-Allow-Headers"]
    for header in ("Authorization", "X-Mockhub-Fault", "X-Mockhub-Delay", "X-Mockhub-Session",
                   "X-HTTP-Method-Override"):
        assert header in allowed


async def test_browser_requests_and_errors_carry_cors_headers(api: Api) -> None:
    ok = await api.get("/api/v1/hubs", headers={"Origin": ORIGIN})
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Retry-After" in ok.headers["Access-Control-Expose-Headers"]
    refused = await api.get("/api/v1/hubs", token=None, headers={"Origin": ORIGIN})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    faulted = await api.get("/api/v1/hubs", headers={"Origin": ORIGIN, "X-Mockhub-Fault": "429"})
    assert faulted.status == 429
    assert faulted.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_requests_without_an_origin_get_no_cors_headers(api: Api) -> None:
    reply = await api.get("/api/v1/hubs")
    assert "Access-Control-Allow-Origin" not in reply.headers


async def test_cors_origin_restricts_to_the_listed_origins(make_api: MakeApi) -> None:
    api = await make_api(cors_origins=("http://app.example:3000",))
    allowed = await preflight(api, "DELETE", "/api/v1/hubs", origin="http://app.example:3000")
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://app.example:3000"
    other = await api.get("/api/v1/hubs", headers={"Origin": "http://evil.example"})
    assert other.status == 200
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_a_preflight_from_an_origin_not_listed_says_which_option_allows_it(make_api: MakeApi) -> None:
    """It was 405 "Method OPTIONS is not allowed", naming nothing; now a 403 in the API's own format."""
    api = await make_api(cors_origins=("http://app.example:3000",))
    client = api.client
    assert client is not None

    async def refused(method: str, path: str) -> tuple[int, Any]:
        async with client.options(path, headers={
                "Origin": "http://localhost:5173", "Access-Control-Request-Method": method}) as response:
            return response.status, await response.json()

    status, portal = await refused("DELETE", "/api/v1/hubs")
    assert (status, portal["status"], portal["errors"][0]["code"]) == (403, 403, 101)
    assert "--cors-origin" in portal["errors"][0]["description"]
    assert "'http://localhost:5173'" in portal["errors"][0]["description"]
    status, era = await refused("LOOKUP", "/rest/v1/service/integration_points")
    assert (status, era["error_code"]) == (403, 1403) and "--cors-origin" in era["error_message"]
    assert (await preflight(api, "DELETE", "/api/v1/hubs", origin="http://app.example:3000")).status == 204


async def test_the_docs_page_renders_the_contract_and_tokens_with_no_outside_assets(api: Api) -> None:
    reply = await api.get("/__mockhub/docs", token=None)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.body.decode()
    for operation in api.checker.contracts[0].operations.values():
        assert f"<span class='m {operation.method}'>{operation.method}</span> {operation.path}" in page
    assert "mockhub-dev-token" in page
    assert "mockhub-other-token" in page
    assert "<th>HubCreate</th>" in page  # bodies are shown field by field
    assert "&quot;channelId&quot;: &quot;TwilioSMS&quot;" in page  # with the documentation's examples
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)


def test_the_banner_says_where_what_data_and_which_tokens() -> None:
    with serving("--clock", "2021-01-01T00:00:00Z", "--quiet") as (process, url):
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(6)]
    assert lines[0].startswith("data:   the built-in dataset:")
    assert "hubs" in lines[0]
    assert "clock pinned at 2021-01-01T00:00:00Z" in lines[0]
    assert lines[1].startswith("tokens: mockhub-dev-token (tenant 00000000-0000-0000-0000-000000000001, default)")
    assert "mockhub-other-token" in lines[1]
    assert lines[2].startswith("clients: hubster.portal.api.00000000000000000000000000000001 secret "
                               "mockhub-dev-portal-secret; hubster.engine.api.00000000000000000000000000000001 ")
    assert lines[2].endswith(f"(POST {url}/connect/token, grant_type=client_credentials)")
    assert lines[3] == f"docs:   {url}/__mockhub/docs"
    assert lines[4].startswith(f"dashboard: {url}/__mockhub/ui ")
    assert lines[5].startswith(f"admin:  {url}/__mockhub/")


def test_a_client_written_from_the_documentation_works_with_the_credentials_the_banner_shows() -> None:
    """Identity docs, Authentication: a form post of grant_type, client_id and client_secret to /connect/token;
    the access_token then goes as a bearer token to the Portal API."""
    with serving("--quiet") as (process, url):
        assert process.stdout is not None
        clients = next(line for line in (process.stdout.readline() for _ in range(5))
                       if line.strip().startswith("clients:"))
        found = re.search(r"(hubster\.portal\.api\.\w+) secret (\S+);", clients)
        assert found is not None, clients
        client_id, secret = found.groups()
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                       "client_secret": secret}).encode()
        token_request = urllib.request.Request(f"{url}/connect/token", data=form, method="POST",
                                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(token_request, timeout=5) as response:
            token = json.load(response)
        assert (token["token_type"], token["expires_in"], token["scope"]) == ("Bearer", 2592000, "hubster-portal-api")
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        hubs = urllib.request.Request(f"{url}/api/v1/hubs", headers=bearer)
        with urllib.request.urlopen(hubs, timeout=5) as response:
            assert json.load(response)["total"] == 3


def request(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_access_log_has_a_line_per_request_with_the_fault() -> None:
    with serving() as (process, url):
        request(f"{url}/api/v1/hubs?pageSize=2", {"Authorization": f"Bearer {TOKEN}"})
        request(f"{url}/api/v1/hubs", {"Authorization": f"Bearer {TOKEN}", "X-Mockhub-Fault": "503"})
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process.stderr is not None
        log = process.stderr.read()
    assert re.search(r'^127\.0\.0\.1 "GET /api/v1/hubs\?pageSize=2" 200 \d+\.\d\dms$', log, re.M), log
    assert re.search(r'^127\.0\.0\.1 "GET /api/v1/hubs" 503 \d+\.\d\dms fault=503$', log, re.M), log
    assert TOKEN not in log


def test_the_access_log_line_is_written_while_the_server_runs_on() -> None:
    with serving() as (process, url):
        request(f"{url}/api/v1/hubs", {"Authorization": f"Bearer {TOKEN}"})
        assert process.stderr is not None
        ready, _, _ = select.select([process.stderr], [], [], 10)  # (a tenth of a second here: never a stop)
        assert ready, "no access log line while the server runs"
        assert re.fullmatch(r'127\.0\.0\.1 "GET /api/v1/hubs" 200 \d+\.\d\dms\n', process.stderr.readline())


def test_quiet_silences_the_access_log() -> None:
    with serving("--quiet") as (process, url):
        request(f"{url}/api/v1/hubs", {"Authorization": f"Bearer {TOKEN}"})
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert process.stderr.read() == ""


def test_every_option_can_come_from_the_environment(tmp_path: Any) -> None:
    data = tmp_path / "env.json"
    data.write_text(json.dumps({"tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222",
                                             "tokens": ["env-token"]}]}))
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"path": "/api/v1/hubs", "status": 408, "times": 1}]))
    env = {"MOCKHUB_PORT": "0", "MOCKHUB_FIXTURES": str(data), "MOCKHUB_FAULTS": str(faults),
           "MOCKHUB_CORS_ORIGIN": "http://a.example,http://b.example", "MOCKHUB_QUIET": "true",
           "MOCKHUB_CLOCK": "2022-02-02T00:00:00Z", "MOCKHUB_JOURNAL_SIZE": "1"}
    with serving(env=env) as (_, url):
        assert request(f"{url}/api/v1/hubs", {"Authorization": "Bearer env-token"}) == 408
        assert request(f"{url}/api/v1/hubs", {"Authorization": "Bearer env-token"}) == 200
        assert len(get_json(f"{url}/__mockhub/requests")) == 1  # type: ignore[arg-type]
        cors = urllib.request.urlopen(urllib.request.Request(
            f"{url}/__mockhub/health", headers={"Origin": "http://b.example"}), timeout=10)
        assert cors.headers["Access-Control-Allow-Origin"] == "http://b.example"


def test_a_flag_wins_over_the_environment() -> None:
    with serving("--seed", "5", "--quiet", env={"MOCKHUB_PORT": "0", "MOCKHUB_SEED": "not a number"}) as (_, url):
        assert get_json(f"{url}/__mockhub/health") == {"status": "ok", "version": "0.1.0"}


def test_the_help_names_each_environment_variable() -> None:
    result = subprocess.run([sys.executable, "-m", "mockhub", "serve", "--help"], capture_output=True, text=True,
                            timeout=30)
    for variable in ("MOCKHUB_HOST", "MOCKHUB_PORT", "MOCKHUB_SEED", "MOCKHUB_FIXTURES", "MOCKHUB_CLOCK",
                     "MOCKHUB_FAULTS", "MOCKHUB_CORS_ORIGIN", "MOCKHUB_QUIET"):
        assert variable in result.stdout


def test_sigterm_finishes_the_request_in_flight() -> None:
    with serving("--quiet") as (process, url):
        answers: list[int] = []
        slow = threading.Thread(target=lambda: answers.append(request(
            f"{url}/api/v1/hubs", {"Authorization": f"Bearer {TOKEN}", "X-Mockhub-Delay": "800"})))
        slow.start()
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        slow.join(10)
        assert answers == [200]
        assert process.wait(10) == 0


def test_sigint_stops_cleanly_too() -> None:
    with serving("--quiet") as (process, _):
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


def test_it_binds_127_0_0_1_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MOCKHUB_"):
            monkeypatch.delenv(name)
    with serving("--quiet") as (_, url):
        assert url.startswith("http://127.0.0.1:")
