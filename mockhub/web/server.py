"""Running a mockhub app on a real socket (``mockhub serve``; the pytest plugin's thread)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from mockhub.settings import Settings
from mockhub.web.keys import SETTINGS
from mockhub.web.protocol import ConnectionLimits, MockhubRunner

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop a server runs on: uvloop's when uvloop is installed (the ``fast`` extra: a quarter or
    more of a request's CPU time is the event loop's and the socket's, which uvloop does in C), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def limits_of(app: web.Application) -> ConnectionLimits:
    """The connection limits of the app's settings."""
    settings = app.get(SETTINGS) or Settings()  # an app of mockhub's own, or another (the proxy's): the defaults
    return ConnectionLimits(head_timeout=settings.head_timeout, keep_alive=settings.keep_alive,
                            max_connections=settings.max_connections, shutdown_grace=settings.shutdown_grace,
                            body_timeout=settings.body_timeout)


async def start(app: web.Application, host: str, port: int) -> tuple[MockhubRunner, str]:
    """Start serving ``app``; returns the runner and the URL it listens on (``port=0`` picks one).

    aiohttp's own access log is off: mockhub logs its own line, with the fault injected.
    """
    runner = MockhubRunner(app, limits_of(app), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except BaseException:  # a port in use: what start-up opened (the proxy's client) is closed again
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return runner, f"http://{shown}:{bound_port}"


async def serve_forever(app: web.Application, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM, then finish in-flight requests and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers first, then the banner: a supervisor that signals as soon as it reads the URL
    # must get a clean stop, not a KeyboardInterrupt.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner, url = await start(app, host, port)
    # What start-up built (contracts, the start-up state every session shares) lives as long as the
    # server: out of the collector's sight, it is not walked again at every full collection.
    gc.freeze()
    on_ready(url)  # only once a signal can no longer kill the process mid-request
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


class BackgroundServer:
    """A mockhub app served from its own thread and event loop, so sync clients work too.

    :meth:`call` runs a function on the server's loop and returns its result, which is how
    another thread changes the server's state safely.
    """

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._host = host
        self._port = port
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mockhub-server", daemon=True)
        self._runner: MockhubRunner | None = None
        self.url = ""

    def start(self) -> str:
        """Start serving; returns the URL."""
        self._thread.start()
        self._runner, self.url = asyncio.run_coroutine_threadsafe(
            start(self.app, self._host, self._port), self._loop).result(timeout=30)
        return self.url

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on the server's loop, between two requests, and return its result."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # handed to the calling thread
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def stop(self) -> None:
        """Finish in-flight requests, close the socket and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self._loop).result(timeout=30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


async def _cancel_the_rest() -> None:
    """Cancel every task still on the loop (a handler whose connection the stop hung up) and let each end, as
    ``asyncio.run`` does before it closes its loop: none is destroyed pending."""
    rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)
