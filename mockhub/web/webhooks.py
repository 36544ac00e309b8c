"""The HTTP side of webhook deliveries: one aiohttp client per server, which sends each attempt the sessions'
outboxes make (:mod:`mockhub.services.deliveries`), and the server's stop, which cancels every delivery under way
before the client closes, so that no delivery outlives its server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web

from mockhub import __version__
from mockhub.kernel.streams import first_bytes
from mockhub.services.deliveries import ANSWER_BYTES, DeliveryAnswer, NoAnswer, Post
from mockhub.web.keys import SESSIONS

USER_AGENT = f"mockhub/{__version__} (webhooks)"


def poster(client: aiohttp.ClientSession) -> Post:
    """The sender of one attempt through ``client``: no redirect followed (it could lead to a host not allowed),
    no proxy from the environment, the answer's first :data:`ANSWER_BYTES` kept."""

    async def post(url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> DeliveryAnswer:
        try:
            async with client.post(url, data=body, headers={"User-Agent": USER_AGENT, **headers},
                                   allow_redirects=False, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                return DeliveryAnswer(response.status, await first_bytes(response.content.read, ANSWER_BYTES))
        except TimeoutError:
            raise NoAnswer(f"no answer within {timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise NoAnswer(f"{type(exc).__name__}: {exc}") from None

    return post


async def delivering(app: web.Application) -> AsyncIterator[None]:
    """Give the sessions a sender while the server runs; at its stop, cancel every delivery, then close."""
    sessions = app[SESSIONS]
    async with aiohttp.ClientSession(trust_env=False, auto_decompress=False) as client:
        sessions.courier.post = poster(client)
        yield
        sessions.courier.post = None
        tasks = sessions.stop_deliveries()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
