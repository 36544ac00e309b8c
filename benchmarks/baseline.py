"""The baseline: a bare aiohttp app, the ceiling every mockhub figure is compared with.

It answers mockhub's routes (the same route templates, so the router does the same work)
with fixed bytes, reading the request body first, on the event loop ``mockhub serve`` runs on
(uvloop's when it is installed, else asyncio's: :func:`mockhub.web.server.new_event_loop`), so the
comparison is of the two apps, never of two event loops. Run as ``python -m benchmarks.baseline [--routes FILE]``; the
first line it prints is ``baseline listening on URL``, like mockhub's banner.

The routes file is a JSON list of ``{"method", "path", "body"}``; ``body`` is the text
to answer with (the harness puts mockhub's own answer there, so both send the same bytes).
``GET /__mockhub/health`` is always served, for the start-up figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from mockhub.web.server import new_event_loop

JSON_TYPE = "application/json; charset=utf-8"
HEALTH = {"method": "GET", "path": "/__mockhub/health", "body": '{"status":"ok"}'}


def fixed(body: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that reads the request body and answers ``body``."""

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, headers={"Content-Type": JSON_TYPE})

    return handle


def create_app(routes: Sequence[dict[str, str]]) -> web.Application:
    app = web.Application()
    for route in [HEALTH, *routes]:
        app.router.add_route(route["method"], route["path"], fixed(route["body"].encode("utf-8")))
    return app


async def serve(app: web.Application) -> None:
    """Serve on a free port of 127.0.0.1 until SIGTERM or SIGINT, as mockhub's ``serve_forever`` does."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, reuse_address=True)
    await site.start()
    port = runner.addresses[0][1]
    loop = asyncio.get_running_loop()
    print(f"baseline listening on http://127.0.0.1:{port} (event loop: {type(loop).__name__})", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=Path, help="JSON list of {method, path, body} to answer")
    args = parser.parse_args(argv)
    routes = json.loads(args.routes.read_text(encoding="utf-8")) if args.routes else []
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(serve(create_app(routes)))


if __name__ == "__main__":
    main()
