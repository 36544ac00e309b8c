"""Helpers for testing against mockhub in-process, e.g. with pytest-aiohttp's ``aiohttp_client``.

``await aiohttp_client(MockhubTestServer(create_app()))`` serves the app exactly as
``mockhub serve`` does, custom verbs (LOOKUP) included.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from mockhub.protocol import MockhubRunner


class MockhubTestServer(TestServer):
    """pytest-aiohttp's TestServer with mockhub's runner, so raw LOOKUP requests are accepted."""

    async def _make_runner(self, **kwargs: Any) -> web.BaseRunner:
        return MockhubRunner(self.app, **kwargs)
