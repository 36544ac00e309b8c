"""mockhub's HTTP connections: how many, for how long, how they end, and errors in the API's format.

Requests are read by :class:`mockhub.web.framing.FramedParser` (any method, exact framing).
Each connection here also keeps to :class:`ConnectionLimits`:

- a request head must arrive whole within ``head_timeout`` seconds (no slowloris);
- an idle keep-alive connection is closed after ``keep_alive`` seconds;
- at most ``max_connections`` are open (never more than the process's open-file limit
  allows). Past it, the oldest connection that has not sent a whole request head yet (a
  silent or trickling client) is closed to make room, so a flood of such connections
  cannot keep anyone out. When there is none, a new connection is answered once and
  closed: ``GET /__mockhub/health`` as usual (so a supervisor still sees the server),
  anything else ``503`` with ``Retry-After``; past a few more, the ``503`` is sent without
  reading the request.

When the server stops, each connection reads no new request, answers those it has received
(the last with ``Connection: close``), and is closed after ``SHUTDOWN_GRACE`` seconds at
most, even if a request's body never finishes arriving.

A request that cannot be parsed at all (a line over the size limit, a NUL in a header)
never reaches the app; aiohttp would answer it in plain text and log a traceback. Here
it is answered in the API's own error format and logged as one line.
"""

from __future__ import annotations

import asyncio
import logging
import re
import resource
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from mockhub.contract.dialects import dialect_of_path
from mockhub.engine.errors import ApiError, MalformedRequest
from mockhub.web.express import EXPRESS, Express, Resume, error_bytes, response_bytes
from mockhub.web.framing import FramedParser
from mockhub.web.rendering import error_response

log = logging.getLogger("mockhub")

TESTED_AIOHTTP = ((3, 14, 4), (3, 15, 0))
"""The aiohttp versions mockhub's HTTP layer (which uses aiohttp's internals) is tested with:
at least the first, below the second; ``pyproject.toml`` allows exactly these."""
SHUTDOWN_GRACE = 5.0
"""Seconds a stopping server waits for the requests it has received to be answered."""
HEALTH_PATH = "/__mockhub/health"
_SPARE = 16
"""Connections past the limit that still get their request read (so health is answered)."""
_FD_MARGIN = 64
"""Open files kept free of connections for the server's own use (fixture files, the listening socket...)."""


class UntestedAiohttp(RuntimeError):
    """The installed aiohttp is not one mockhub's HTTP layer is tested with."""


def check_aiohttp(version: str = aiohttp.__version__) -> None:
    """Raise :class:`UntestedAiohttp` unless ``version`` is within :data:`TESTED_AIOHTTP`."""
    parts = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    low, high = TESTED_AIOHTTP
    if not low <= parts < high or re.search(r"[a-z]", version.split("+")[0]):  # pre-releases are untested
        shown = ".".join(map(str, low)), ".".join(map(str, high[:2]))
        raise UntestedAiohttp(
            f"aiohttp {version} is installed, but mockhub reads HTTP with aiohttp internals tested only with "
            f"aiohttp >={shown[0]},<{shown[1]}; install one: pip install 'aiohttp>={shown[0]},<{shown[1]}'")


@dataclass(frozen=True)
class ConnectionLimits:
    """What keeps a client from holding the server's connections."""

    head_timeout: float = 10.0
    """Seconds a connection has to send a whole request head (0: no limit)."""
    keep_alive: float = 15.0
    """Seconds an idle keep-alive connection stays open."""
    max_connections: int = 1000
    """Open connections at most (lowered to fit the process's open-file limit)."""
    shutdown_grace: float = SHUTDOWN_GRACE
    """Seconds a stop waits for the requests received to be answered (a body still arriving, say)."""

    def connections_allowed(self) -> int:
        """``max_connections``, lowered so that the connections past it still find a file descriptor."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft - _FD_MARGIN - _SPARE))


class TooManyConnections(ApiError):
    status = 503
    code = 104
    message = "The server has too many open connections; try again shortly."
    headers = {"Retry-After": "1"}


class MockhubRequestHandler(RequestHandler):
    """aiohttp's connection handler with framed parsing, connection limits and API-format protocol errors."""

    _express_busy: asyncio.Task[None] | None = None
    """The rest of an express answer that had to wait; no request is read until it is sent."""

    def __init__(self, manager: _Server, **kwargs: Any) -> None:
        self.head_timeout = manager.limits.head_timeout
        super().__init__(manager, **kwargs)
        self._parser: FramedParser = FramedParser(self)  # type: ignore[assignment]
        self._draining = False
        self._serving = self._request_handler
        self._express = manager.express
        self._remote: str | None = None
        if self._express is not None:
            self._parser.express = self._express_now

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        manager: _Server = self._manager  # type: ignore[assignment]
        over = len(manager.connections) - len(manager.evicted) - manager.allowed
        if over > 0 and manager.make_room():
            over -= 1
        manager.unserved[self] = None
        peer = transport.get_extra_info("peername")
        self._remote = str(peer[0]) if isinstance(peer, (list, tuple)) else None if peer is None else str(peer)
        if over > 0:
            self._keepalive = False
            self._request_handler = self._refuse
            if over > _SPARE:  # no time for reading: say so and close
                transport.write(_refusal_bytes())  # type: ignore[attr-defined]
                self.force_close()

    async def _refuse(self, request: BaseRequest) -> web.StreamResponse:
        manager: _Server = self._manager  # type: ignore[assignment]
        if request.method == "GET" and request.path == HEALTH_PATH:
            response = await manager.request_handler(request)
        else:
            response = error_response(TooManyConnections(), dialect_of_path(request.path))
        response.force_close()
        return response

    def data_received(self, data: bytes) -> None:
        if self._express_busy is None:
            super().data_received(data)
            return
        waiter, self._waiter = self._waiter, None  # requests queue; the loop wakes once the express answer is out
        try:
            super().data_received(data)
        finally:
            self._waiter = waiter

    def _express_now(self, message: Any, payload: Any, body: bytes | None, method: str | None) -> bool:
        """Answer a parsed request in the express lane, if the connection is idle and it is one for it
        (``body``: the whole body, when the parser has it at hand; ``method``: when not the message's)."""
        waiter = self._waiter
        if (waiter is None or waiter.done() or self._messages or self._express_busy is not None
                or self._request_handler is not self._serving or self._close or self._force_close
                or self._paused):  # the client is not reading: the usual way waits for it (back-pressure)
            return False
        express = self._express
        assert express is not None
        taken = express.request(message, method or message.method, payload, body, self._remote, self.transport)
        if taken is None:
            return False
        handler, request = taken
        self._request_count += 1
        self._manager.requests_count += 1  # type: ignore[union-attr]
        answering = express.pipeline.handle(request, handler)  # type: ignore[arg-type]
        try:
            waiting = answering.send(None)
        except StopIteration as done:
            self._express_send(done.value, request.method, request.path)
            return True
        except asyncio.CancelledError:  # a fault reset the connection: nothing to send
            return True
        self._request_in_progress = True
        if self._keepalive_handle is not None:
            self._keepalive_handle.cancel()
            self._keepalive_handle = None
        self._express_busy = busy = self._loop.create_task(self._express_finish(Resume(answering, waiting), request))
        busy.add_done_callback(self._express_done)
        tasks = self._manager.express_tasks  # type: ignore[union-attr]
        tasks.add(busy)  # a stop waits for it even once its client is gone, as aiohttp waits for a handler
        busy.add_done_callback(tasks.discard)
        return True

    async def _express_finish(self, answering: Resume, request: Any) -> None:
        try:
            response = await answering
        except asyncio.CancelledError:
            return  # a fault reset the connection, or a stop ran out of time
        except Exception:  # the pipeline answers every error itself: a bug here still gets an answer
            log.exception("unexpected error answering %s %s", request.method, request.path)
            if self.transport is not None:
                self.transport.write(error_bytes(request.method, request.path))
                self.force_close()
            return
        self._express_send(response, request.method, request.path)

    def _express_done(self, _: asyncio.Task[None]) -> None:
        """The waiting answer is out (or never will be): the connection reads its next request."""
        self._express_busy = None
        self._request_in_progress = False
        if self._handler_waiter is not None and not self._handler_waiter.done():
            self._handler_waiter.set_result(None)
        if self._messages and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        elif not self._messages and self._keepalive_handle is None and self.transport is not None \
                and not self._force_close:
            self._keepalive_handle = self._loop.call_at(self._next_keepalive_close_time, self._process_keepalive)

    def _express_send(self, response: web.StreamResponse, method: str, path: str) -> None:
        transport = self.transport
        if transport is None:
            return
        if self._draining and not self._messages:  # the last answer; those queued behind it still come
            response.force_close()
        try:
            data = response_bytes(response, method)
        except (TypeError, ValueError):
            log.exception("cannot send the answer to %s %s", method, path)
            data = error_bytes(method, path)
        transport.write(data)
        if response.keep_alive is False:
            self.force_close()
            return
        loop = self._loop
        close_time = loop.time() + self._keepalive_timeout
        self._next_keepalive_close_time = close_time
        if self._keepalive_handle is None:
            self._keepalive_handle = loop.call_at(close_time, self._process_keepalive)

    def connection_lost(self, exc: BaseException | None) -> None:
        # A waiting express answer runs on (its write is then skipped), as aiohttp lets a handler finish.
        if self._parser is not None:
            self._parser.stop_reading_requests()
        self._manager.unserved.pop(self, None)  # type: ignore[union-attr]
        super().connection_lost(exc)

    @property
    def served(self) -> bool:
        """Whether a whole request head has come on this connection."""
        return self._parser is None or self._parser.heads > 0

    def close(self) -> None:
        """Read no new request; answer those received, the last one with ``Connection: close``."""
        if self._parser is not None:
            self._parser.stop_reading_requests()
        if not self._messages:
            if self._express_busy is not None:  # its answer says Connection: close, then the connection closes
                self._draining = True
            super().close()
        elif not self._draining:
            self._draining = True
            answer = self._request_handler

            async def answer_then_close(request: BaseRequest) -> web.StreamResponse:
                response = await answer(request)  # type: ignore[misc]
                if not self._messages:
                    response.force_close()
                return response

            self._request_handler = answer_then_close

    async def shutdown(self, timeout: float | None = SHUTDOWN_GRACE) -> None:
        loop = self._loop
        deadline = loop.time() + (timeout or SHUTDOWN_GRACE)
        self.close()
        while (self._messages or self._request_in_progress) and self.transport is not None \
                and loop.time() < deadline:
            await asyncio.sleep(0.02)
        await super().shutdown(max(0.1, deadline - loop.time()))

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: an answer is under way, the connection is broken
            raise ConnectionError("a response was already sent; cannot send an error")
        reason = _reason(exc, message)
        log.info("unparsable request from %s: %s", request.remote, reason)
        error = MalformedRequest(reason) if status == 400 else ApiError(reason)
        error.status = status
        # No operation was reached: the API is known from the path of the request line, as far as it arrived.
        hint = self._parser.path_hint if self._parser is not None else request.path  # (None: connection lost)
        response = error_response(error, dialect_of_path(hint))
        response.force_close()
        return response


def _refusal_bytes() -> bytes:
    response = error_response(TooManyConnections(), dialect_of_path("/"))
    assert isinstance(response.body, bytes)
    head = "".join(f"{name}: {value}\r\n" for name, value in response.headers.items()
                   if name.lower() != "content-length")
    return (f"HTTP/1.1 503 Service Unavailable\r\n{head}Content-Length: {len(response.body)}\r\n"
            "Connection: close\r\n\r\n").encode() + response.body


def _reason(exc: BaseException | None, message: str | None) -> str:
    if isinstance(exc, LineTooLong):
        return "The request line or a header field is too long."
    if isinstance(exc, BadHttpMessage):
        return f"The request is not valid HTTP: {exc.message.splitlines()[0].rstrip(':.')}."
    return message or "The request could not be handled."


def _forget(evicted: set[MockhubRequestHandler], handler: MockhubRequestHandler, _: object) -> None:
    evicted.discard(handler)


class _Server(web.Server):
    express: Express | None
    """The express lane of the app served (``None``: every request goes the usual way)."""
    limits: ConnectionLimits
    allowed: int
    request_handler: Callable[[BaseRequest], Awaitable[web.StreamResponse]]
    unserved: OrderedDict[MockhubRequestHandler, None]
    """Connections in the order they came, that may not have sent a whole request head yet."""
    evicted: set[MockhubRequestHandler]
    """Connections closed to make room that aiohttp still counts (until their task ends)."""
    express_tasks: set[asyncio.Task[None]]
    """Express answers that had to wait and are not out yet (their clients may be gone)."""

    def make_room(self) -> bool:
        """Close the oldest connection that has not sent a whole request head yet; whether there was one."""
        unserved = self.unserved
        while unserved:
            handler, _ = unserved.popitem(last=False)
            if handler.served or handler.transport is None:
                continue
            task = handler._task_handler
            if task is not None:  # aiohttp counts the connection until its task ends
                self.evicted.add(handler)
                task.add_done_callback(partial(_forget, self.evicted, handler))
            handler.force_close()
            return True
        return False

    def __call__(self) -> RequestHandler:
        return MockhubRequestHandler(self, loop=self._loop, **self._kwargs)

    async def shutdown(self, timeout: float | None = None) -> None:
        """aiohttp's stop, then the express answers still running, within what is left of the grace."""
        started = self._loop.time()
        await super().shutdown(timeout)
        running = set(self.express_tasks)
        if running:
            left = max(0.1, (timeout or self.limits.shutdown_grace) - (self._loop.time() - started))
            _, late = await asyncio.wait(running, timeout=left)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)


class MockhubRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections accept custom HTTP verbs and keep to limits."""

    def __init__(self, app: web.Application, limits: ConnectionLimits | None = None, **kwargs: Any) -> None:
        check_aiohttp()
        self.limits = limits or ConnectionLimits()
        kwargs.setdefault("keepalive_timeout", self.limits.keep_alive)
        kwargs.setdefault("shutdown_timeout", self.limits.shutdown_grace)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server  # the same object, with a connection factory that wraps the parser
        server.limits = self.limits  # type: ignore[attr-defined]
        server.allowed = self.limits.connections_allowed()  # type: ignore[attr-defined]
        server.unserved = OrderedDict()  # type: ignore[attr-defined]
        server.evicted = set()  # type: ignore[attr-defined]
        express = self._app.get(EXPRESS)  # the app is frozen now: what it is served with is final
        server.express = express if express is not None and express.usable() else None  # type: ignore[attr-defined]
        server.express_tasks = set()  # type: ignore[attr-defined]
        return server
