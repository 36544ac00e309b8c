"""Shared test plumbing: every test talks HTTP to a real app, and every response is checked
against the contract by one helper, so the mock and its contract cannot drift."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.resources import admin_contract_path
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from mockhub.web.keys import CONTROL

TOKEN = "mockhub-dev-token"
OTHER_TOKEN = "mockhub-other-token"
TENANT_A = "00000000-0000-0000-0000-000000000001"
TENANT_B = "abc1e69f-c888-875f-ee2c-45789fd66a00"
HUB_A = "3bc1e69f-c520-446f-ab2c-01751fd66a31"
HUB_B = "3bc1e69f-c520-446f-ab2c-01751fd66a32"
INTEGRATION_B = "00000000-0000-0000-0000-0000000000c1"
"""Tenant B's one integration (a WebChat in HUB_B)."""
BUILT_IN_INTEGRATIONS = 7
"""One of each documented channel in tenant A, and tenant B's WebChat."""
HUB_A3 = "00000000-0000-0000-0000-0000000000a3"
"""Tenant A's third hub, which holds the documentation's example commands."""
TRANSFER_A = "5a0623b0-d51a-4b3c-ace1-0175e34fae2f"
"""A built-in transfer command of tenant A (the documentation's example, in HUB_A3)."""
RESPONSE_A = "00000000-0000-0000-0000-000000000005"
"""A built-in response command of tenant A (the documentation's contact-eva.green, in HUB_A3)."""
BUILT_IN_COMMANDS = 3
"""Built-in commands of each kind, all in tenant A's hubs."""
CLOCK = "2021-01-01T00:00:00Z"
POINTS = "/rest/v1/service/integration_points"
POINT_ABCDE = "b4680fbe-016c-d86f-1d6b-50e54938780c"
"""The built-in dataset's integration points (Era docs, examples): code ABCDE, type public..."""
POINT_902 = "a188288e-016c-d86f-cd99-50e54938780c"
"""...and code 902, type telegram."""
ABCDE_TOKEN = "82ddc7c68623726346a78371173e2f8d"

_DEFAULT = object()


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def error_codes(self) -> list[int]:
        """The PRT numbers of a Portal error body."""
        return [e["code"] for e in self.json()["errors"]]


class Api:
    """An HTTP client bound to one mock; it checks every response against the contract."""

    def __init__(self, client: TestClient | None, checker: ResponseChecker, base_url: str = "",
                 session: ClientSession | None = None) -> None:
        self.client = client
        self.checker = checker
        self.base_url = base_url
        self.session = session

    async def request(self, method: str, path: str, *, token: Any = _DEFAULT, json_body: Any = _DEFAULT,
                      data: bytes | str | None = None, headers: dict[str, str] | None = None,
                      params: Any = None) -> Reply:
        sent = dict(headers or {})
        if token is _DEFAULT:
            token = TOKEN
        if token is not None:
            sent.setdefault("Authorization", f"Bearer {token}")
        if json_body is not _DEFAULT:
            data = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        if self.client is not None:
            response = await self.client.request(method, path, data=data, headers=sent, params=params)
        else:
            assert self.session is not None
            response = await self.session.request(method, self.base_url + path, data=data, headers=sent,
                                                  params=params)
        async with response:
            body = await response.read()
            reply = Reply(response.status, response.headers, body)
        problems = self.checker.check(method, response.url.path, reply.status, reply.headers, body)
        assert not problems, "response breaks the contract:\n" + "\n".join(problems)
        return reply

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, body: Any = _DEFAULT, **kw: Any) -> Reply:
        return await self.request("POST", path, json_body=body, **kw)

    async def put(self, path: str, body: Any = _DEFAULT, **kw: Any) -> Reply:
        return await self.request("PUT", path, json_body=body, **kw)

    async def patch(self, path: str, body: Any = _DEFAULT, **kw: Any) -> Reply:
        return await self.request("PATCH", path, json_body=body, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes to a local server and read until it closes the connection (for what no client sends)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract.load()


@pytest.fixture(scope="session")
def admin_contract() -> Contract:
    return Contract.load(admin_contract_path())


@pytest.fixture(scope="session")
def checker(contract: Contract, admin_contract: Contract) -> ResponseChecker:
    return ResponseChecker(contract, admin_contract)


MakeApi = Callable[..., Awaitable[Api]]


class ManualTime:
    """A monotonic clock for ``make_api(monotonic=...)`` that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def make_api(aiohttp_client: Any, checker: ResponseChecker, contract: Contract,
             admin_contract: Contract) -> Iterator[MakeApi]:
    """Start a mock with the given settings (pinned clock by default) and return its checked client.

    After the test, no mock it started may have met an unexpected error (what the pytest plugin raises).
    """
    apps: list[web.Application] = []

    async def make(monotonic: Callable[[], float] = time.monotonic, **settings: Any) -> Api:
        settings.setdefault("clock", CLOCK)
        app = create_app(Settings(**settings), contract=contract, admin_contract=admin_contract, monotonic=monotonic)
        apps.append(app)
        client = await aiohttp_client(MockhubTestServer(app))
        return Api(client, checker)

    yield make
    errors = [error for app in apps for error in app[CONTROL].server_errors()]
    assert not errors, "the mock met unexpected errors:\n" + "\n".join(errors)


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    """A mock on the built-in dataset with the clock pinned at 2021-01-01T00:00:00Z."""
    return await make_api()
