"""``mockhub verify-webhook``, run as a user runs it (the CLI, in its own process) against webhook receivers
served here: one that checks signatures as the documentation describes passes; one that skips the check, one
that answers 500 and one that checks something other than the raw body fail, naming the cases."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.test_verify import closed_port_url

PUBLIC_KEY = "3EF951F619CD4F5E820C73622C0F1A3C"
PRIVATE_KEY = "FA96D15568654A4482772E00BA941BCB"
"""The documentation's example pair."""
DOCUMENTED_HEADERS = ("x-source-system", "x-hub-id", "x-integration-id", "x-conversation-id", "x-hubster-public-key",
                      "x-hubster-signature")
SIGNED_WRONG = ("the body changed after it was signed is refused (403)",
                "a signature made with another private key is refused (403)",
                "no x-hubster-signature header is refused (403)",
                "an empty x-hubster-signature is refused (403)",
                "a signature that is not Base64 is refused (403)",
                "no x-hubster-public-key header is refused (403)",
                "an unknown x-hubster-public-key is refused (403)")
SIGNED_RIGHT = ("a System payload signed right is accepted (2xx)", "a Direct payload signed right is accepted (2xx)")


@dataclass
class Received:
    """What a receiver was sent: each delivery's headers and body, in order."""

    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


Handler = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


def signed_as_documented(request: web.Request, body: bytes) -> bool:
    """The documented check: the private key found by x-hubster-public-key, HMAC-SHA256 of the raw body keyed
    with its UTF-8 bytes, Base64, compared with x-hubster-signature."""
    private_key = {PUBLIC_KEY: PRIVATE_KEY}.get(request.headers.get("x-hubster-public-key", ""))
    claimed = request.headers.get("x-hubster-signature")
    if private_key is None or claimed is None:
        return False
    expected = base64.b64encode(hmac.new(private_key.encode("utf-8"), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), claimed.encode())


async def checking(request: web.Request, body: bytes) -> web.Response:
    """A receiver as the documentation asks for: 403 unless signed right, then the activities consumed."""
    if not signed_as_documented(request, body):
        return web.Response(status=403)
    payload = json.loads(body)
    activities = payload["activities"] if "activities" in payload else [payload["activity"]]
    return web.json_response({"consumed": [a["eventId"] for a in activities]})


async def trusting(request: web.Request, body: bytes) -> web.Response:
    """A receiver that never checks the signature."""
    return web.Response(status=200)


async def failing(request: web.Request, body: bytes) -> web.Response:
    return web.Response(status=500, text="Internal Server Error: " + "x" * 100_000)


async def reserialising(request: web.Request, body: bytes) -> web.Response:
    """Checks the signature of the JSON written again by Python (spaces, \\u escapes), not of the bytes sent."""
    again = json.dumps(json.loads(body)).encode()
    return web.Response(status=200 if signed_as_documented(request, again) else 403)


async def slow_to_refuse(request: web.Request, body: bytes) -> web.Response:
    """Accepts what is signed right at once; takes its time over anything else."""
    if not signed_as_documented(request, body):
        await asyncio.sleep(30)
    return web.Response(status=200)


Serve = Callable[[Handler], Awaitable[tuple[str, Received]]]


@pytest.fixture
async def receiver() -> AsyncIterator[Serve]:
    """Serve a webhook receiver at ``/hooks/hubster`` on a real socket; its URL and what it is sent."""
    servers: list[TestServer] = []

    async def start(handler: Handler) -> tuple[str, Received]:
        received = Received()

        async def receive(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            received.deliveries.append((dict(request.headers), body))
            return await handler(request, body)

        app = web.Application()
        app.router.add_post("/hooks/hubster", receive)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/hooks/hubster")), received

    yield start
    for server in servers:
        await server.close()


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> str:
        """The report's last line: how many checks passed and failed."""
        return self.stdout.splitlines()[-1]

    def line(self, name: str) -> str:
        """The report's line of the check ``name``."""
        [line] = [line for line in self.stdout.splitlines() if f": {name}  (" in line]
        return line


async def verify_webhook(url: str, *args: str, keys: tuple[str, ...] = ("--public-key", PUBLIC_KEY, "--private-key",
                                                                      PRIVATE_KEY),
                         env: dict[str, str] | None = None) -> Run:
    """``mockhub verify-webhook URL KEYS ARGS`` in its own process (``env``: more environment variables)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mockhub", "verify-webhook", url, *keys, *args, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def test_a_receiver_that_checks_signatures_as_documented_passes(receiver: Serve, tmp_path: Path) -> None:
    url, received = await receiver(checking)
    junit = tmp_path / "webhook.xml"
    run = await verify_webhook(url, "--junit", str(junit))
    assert run.status == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == f"mockhub verify-webhook {url} (seed 0)"
    assert run.summary == "9 checks: 9 passed, 0 failed, 0 skipped"
    assert all(run.line(name).startswith("ok  ") for name in SIGNED_RIGHT + SIGNED_WRONG)
    assert "POST /hooks/hubster (System payload, " in run.line(SIGNED_RIGHT[0])
    root = ET.parse(junit).getroot()
    assert (root.get("name"), root.get("tests"), root.get("failures")) == ("mockhub verify-webhook", "9", "0")
    assert [suite.get("name") for suite in root] == ["signed right", "signed wrong"]
    assert len(received.deliveries) == 9


async def test_the_signed_deliveries_are_the_documented_ones(receiver: Serve) -> None:
    url, received = await receiver(checking)
    assert (await verify_webhook(url)).status == 0
    (system_headers, system_body), (direct_headers, direct_body) = received.deliveries[:2]
    system, direct = json.loads(system_body), json.loads(direct_body)
    conversation = ("hubId", "tenantId", "integrationId", "conversationId", "conversationProperties")
    assert list(system) == [*conversation, "activities"] and list(direct) == [*conversation, "activity"]
    for headers, payload in ((system_headers, system), (direct_headers, direct)):
        assert [name for name in headers if name.startswith("x-")] == list(DOCUMENTED_HEADERS)
        assert headers["x-source-system"] == "engine.hubster.io"
        assert headers["x-hubster-public-key"] == PUBLIC_KEY
        assert (headers["x-hub-id"], headers["x-integration-id"], headers["x-conversation-id"]) == (
            payload["hubId"], payload["integrationId"], payload["conversationId"])
    [activity] = system["activities"]
    assert (activity["type"], activity["eventTrigger"], activity["sender"]["integrationType"]) == (
        "message", "message:customer", "Customer")
    assert (direct["activity"]["eventTrigger"], direct["activity"]["sender"]["integrationType"]) == (
        "message:agent", "Agent")
    assert not system_body.isascii()  # sent as UTF-8, so only the raw bytes give the signature


async def test_the_same_seed_sends_the_same_bytes_and_another_seed_others(receiver: Serve) -> None:
    url, received = await receiver(checking)
    for seed in ("7", "7", "8"):
        assert (await verify_webhook(url, "--seed", seed)).status == 0
    first, again, other = (received.deliveries[run * 9:(run + 1) * 9] for run in range(3))
    assert first == again
    assert [body for _, body in first] != [body for _, body in other]


async def test_a_receiver_that_skips_the_signature_check_fails_naming_each_case(receiver: Serve,
                                                                                tmp_path: Path) -> None:
    junit = tmp_path / "webhook.xml"
    run = await verify_webhook((await receiver(trusting))[0], "--junit", str(junit))
    assert (run.status, run.summary) == (1, "9 checks: 2 passed, 7 failed, 0 skipped")
    failures = [(case.get("classname"), case.get("name"), failure.get("message"))
                for case in ET.parse(junit).getroot().iter("testcase") if (failure := case.find("failure")) is not None]
    assert [name for _, name, _ in failures] == list(SIGNED_WRONG)
    assert failures[0] == ("mockhub.verify_webhook.signed_wrong", SIGNED_WRONG[0],
                           "status 200, expected 403: the receiver accepted a body its signature does not match")
    assert all(run.line(name).startswith("ok  ") for name in SIGNED_RIGHT)
    for name in SIGNED_WRONG:
        assert run.line(name).startswith("FAIL  signed wrong: ")
    assert "- status 200, expected 403: the receiver accepted a body its signature does not match" in run.stdout
    assert "- status 200, expected 403: the receiver accepted a delivery without a signature" in run.stdout


async def test_a_receiver_that_answers_500_fails_and_its_answer_is_read_only_so_far(receiver: Serve) -> None:
    run = await verify_webhook((await receiver(failing))[0], "--max-answer-bytes", "1000")
    assert (run.status, run.summary) == (1, "9 checks: 0 passed, 9 failed, 0 skipped")
    assert "- status 500, expected 2xx: a delivery signed with the integration's private key was refused" in run.stdout
    assert "- status 500, expected 403 (Forbidden), which the documentation asks for a delivery whose signature " \
           "does not match" in run.stdout
    assert "got:      500 text/plain; charset=utf-8, 1000 or more bytes: Internal Server Error: xxx" in run.stdout


async def test_a_receiver_that_checks_json_written_again_instead_of_the_raw_body_fails(receiver: Serve) -> None:
    run = await verify_webhook((await receiver(reserialising))[0], "--only", "system")
    assert (run.status, run.summary) == (1, "8 checks: 7 passed, 1 failed, 0 skipped")
    assert run.line(SIGNED_RIGHT[0]).startswith("FAIL  signed right: ")
    assert "- status 403, expected 2xx" in run.stdout


async def test_only_direct_sends_direct_payloads_alone(receiver: Serve) -> None:
    url, received = await receiver(checking)
    run = await verify_webhook(url, "--only", "direct")
    assert run.status == 0, run.stdout
    assert "activity" in json.loads(received.deliveries[0][1]) and len(received.deliveries) == 8
    assert all("activities" not in json.loads(body) for _, body in received.deliveries)


async def test_a_receiver_slower_than_the_timeout_fails_with_no_answer(receiver: Serve) -> None:
    url, _ = await receiver(slow_to_refuse)
    run = await verify_webhook(url, "--only", "system", "--timeout", "0.5")
    assert run.status == 1
    assert run.line(SIGNED_RIGHT[0]).startswith("ok  ")
    assert run.line(SIGNED_WRONG[0]).endswith("-> no answer)")
    assert run.stdout.count("- no answer within 0.5 s") == len(SIGNED_WRONG)


async def test_a_receiver_that_cannot_be_reached_exits_2() -> None:
    url = closed_port_url() + "/hooks/hubster"
    run = await verify_webhook(url)
    assert run.status == 2
    assert "stopped: cannot reach" in run.stdout and "Connection refused" in run.stdout


async def test_the_keys_may_come_from_the_environment_and_are_required(receiver: Serve) -> None:
    url, _ = await receiver(checking)
    from_environment = await verify_webhook(url, keys=(), env={"MOCKHUB_PUBLIC_KEY": PUBLIC_KEY,
                                                               "MOCKHUB_PRIVATE_KEY": PRIVATE_KEY})
    assert from_environment.status == 0, from_environment.stdout + from_environment.stderr
    assert PRIVATE_KEY not in from_environment.stdout
    missing = await verify_webhook(url, keys=(), env={"MOCKHUB_PUBLIC_KEY": "", "MOCKHUB_PRIVATE_KEY": ""})
    assert missing.status == 2
    assert "the following arguments are required: --public-key, --private-key" in missing.stderr


async def test_the_url_must_be_http_and_the_public_key_fit_in_a_header() -> None:
    run = await verify_webhook("localhost:8080/hooks")
    assert run.status == 2 and "is not an http(s) URL with a host" in run.stderr
    run = await verify_webhook("http://127.0.0.1:9/hooks", keys=("--public-key", "AB\r\nx-injected: 1",
                                                                 "--private-key", PRIVATE_KEY))
    assert run.status == 2 and "cannot be sent as a header's value" in run.stderr
