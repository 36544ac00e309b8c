"""The one place mockhub uses a name of aiohttp that is not public API; each is listed with why.

:data:`PRIVATE_NAMES` lists them; ``tests/test_aiohttp_api.py`` fails, naming the one missing,
on an aiohttp without any of them. Everything else in mockhub uses aiohttp's documented API.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from mockhub.web.protocol import MockhubRunner
from mockhub.web.server import limits_of

PRIVATE_NAMES: dict[tuple[object, str], str] = {
    (BaseTestServer, "_make_runner"):
        "pytest-aiohttp's TestServer builds its runner here and nowhere else: overriding it is how a test "
        "server serves an app with mockhub's runner (custom verbs, connection limits). aiohttp's own "
        "TestServer and RawTestServer are built the same way.",
}
"""Each private attribute used, as (the object that has it, its name), with the reason."""


class MockhubTestServer(TestServer):
    """pytest-aiohttp's TestServer with mockhub's runner, so raw LOOKUP requests are accepted, and with
    ``mockhub serve``'s handling of a client that leaves: its request is still applied and journaled
    (TestServer would cancel it). ``await aiohttp_client(MockhubTestServer(create_app()))``."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        return MockhubRunner(self.app, limits_of(self.app), **{**kwargs, "handler_cancellation": False})
