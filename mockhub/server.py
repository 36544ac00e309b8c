"""Running a mockhub app on a real socket (``mockhub serve``; the pytest plugin's thread)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from aiohttp import web

from mockhub.http_parser import MockhubRunner

ACCESS_LOG = logging.getLogger("mockhub.access")


async def start(app: web.Application, host: str, port: int, *,
                access_log: bool = False) -> tuple[MockhubRunner, str]:
    """Start serving ``app``; returns the runner and the URL it listens on (``port=0`` picks one)."""
    runner = MockhubRunner(app, access_log=ACCESS_LOG if access_log else None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound_port = runner.addresses[0][1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return runner, f"http://{shown}:{bound_port}"


async def serve_forever(app: web.Application, host: str, port: int, on_ready: Callable[[str], None],
                        access_log: bool = False) -> None:
    """Serve until SIGINT or SIGTERM, then finish in-flight requests and stop."""
    runner, url = await start(app, host, port, access_log=access_log)
    on_ready(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
