"""Serving a mockhub app: aiohttp's own runner and handler, behind a :class:`~mockhub.web.wire.Wire`.

:class:`MockhubRunner` is an :class:`aiohttp.web.AppRunner` whose ``server`` (what every
site listens with) puts a wire in front of each connection aiohttp's server makes; its
:meth:`~MockhubRunner.cleanup` first answers what every connection has received. The app's
side of the wire is here too: :func:`as_sent` gives a request its method as the client sent
it (a custom verb travels through aiohttp as ``POST``), and :func:`closes_after` says when an
answer is the connection's last. Everything is aiohttp's public API.
"""

from __future__ import annotations

import resource
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any, TypeVar, cast

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from mockhub.contract.dialects import dialect_of_path
from mockhub.kernel.errors import ApiError, MalformedRequest
from mockhub.settings import Settings
from mockhub.web.framing import MAX_LINE_BYTES, BadRequest
from mockhub.web.keys import request_key
from mockhub.web.rendering import error_response
from mockhub.web.wire import SPARE_CONNECTIONS, Connections, Wire, WireLimits, WireTransport

_FD_MARGIN = 64
"""Open files kept free of connections for the server's own use (fixture files, the listening socket...)."""
R = TypeVar("R", bound=web.BaseRequest)
ROUTE = request_key("mockhub_route", web.UrlMappingMatchInfo)
"""The route that answers a request, kept on it (:func:`route_of`): the low-level server's requests have no
``match_info``, and a custom verb's is aiohttp's for ``POST`` (:func:`as_sent`)."""


@dataclass(frozen=True)
class ConnectionLimits:
    """What keeps a client from holding the server's connections (the defaults are :class:`Settings`')."""

    head_timeout: float = Settings.head_timeout
    """Seconds a connection has to send a whole request head (0: no limit)."""
    keep_alive: float = Settings.keep_alive
    """Seconds an idle keep-alive connection stays open."""
    max_connections: int = Settings.max_connections
    """Open connections at most (lowered to fit the process's open-file limit)."""
    shutdown_grace: float = Settings.shutdown_grace
    """Seconds a stop waits for the requests received to be answered (a body still arriving, say)."""
    body_timeout: float = Settings.body_timeout
    """Seconds a request body has to arrive whole once it is being read (0: no limit)."""

    def connections_allowed(self) -> int:
        """``max_connections``, lowered so that the connections past it still find a file descriptor."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft - _FD_MARGIN - SPARE_CONNECTIONS))


class TooManyConnections(ApiError):
    status = 503
    code = 104
    message = "The server has too many open connections; try again shortly."
    headers = {"Retry-After": "1"}


def refusal_bytes(refused: BadRequest) -> bytes:
    """The whole answer, in the API's format, to a request refused before it reached the app; it closes
    the connection. The API is known from the request target, as far as it arrived."""
    error: ApiError
    if refused.status == 503:
        error = TooManyConnections()
    else:
        error = MalformedRequest(refused.reason) if refused.status == 400 else ApiError(refused.reason)
        error.status = refused.status
    response = error_response(error, dialect_of_path(refused.target.decode("latin-1") or "/"))
    body = response.body
    assert isinstance(body, bytes)
    fields = "".join(f"{name}: {value}\r\n" for name, value in response.headers.items()
                     if name.lower() not in ("content-length", "connection"))
    reason = HTTPStatus(response.status).phrase
    return (f"HTTP/1.1 {response.status} {reason}\r\n{fields}Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode("latin-1") + body


class WireServer:
    """What a site listens with: each connection a :class:`~mockhub.web.wire.Wire` in front of aiohttp's handler."""

    def __init__(self, server: web.Server, connections: Connections, made_for: web.Server) -> None:
        self.server = server
        """The aiohttp server whose connection handler each wire feeds."""
        self.connections = connections
        self.made_for = made_for
        """The runner's own server this was made in place of (the same, unless the app runs on the low-level one)."""

    def __call__(self) -> Wire:
        return Wire(self.server, self.connections)


LowLevelHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
"""A handler of aiohttp's low-level server (and of mockhub's routes: none needs more than a ``BaseRequest``)."""
LOW_LEVEL: web.AppKey[Callable[[], LowLevelHandler | None]] = web.AppKey("mockhub_low_level")
"""Set on an app that aiohttp's documented low-level server (:class:`aiohttp.web.Server`) can serve: called once
the app is set up (frozen), it gives the handler that routes and answers each request as the app would, or
``None`` when it cannot (a middleware or a route was added to the app): then aiohttp's own handling runs. The
low-level server hands a handler the request as parsed, without the app's per-request work (a ``web.Request``,
the middleware chain built around the route's handler), which mockhub's one middleware does not need."""


AFTER_DRAIN_SECONDS = 0.1
"""aiohttp's ``shutdown_timeout`` of a :class:`MockhubRunner`: what a handler still running once the drain has
hung up its connection gets before aiohttp cancels it (not 0: aiohttp reads 0 as no limit)."""


class MockhubRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections accept custom HTTP verbs and keep to limits."""

    def __init__(self, app: web.Application, limits: ConnectionLimits | None = None, **kwargs: Any) -> None:
        self.limits = limits = limits or ConnectionLimits()
        kwargs.setdefault("keepalive_timeout", limits.keep_alive)
        # The stop's grace is spent in cleanup's drain, which answers what every connection received and then
        # hangs up on what is left; aiohttp's own wait for handlers afterwards would add a second grace.
        kwargs.setdefault("shutdown_timeout", AFTER_DRAIN_SECONDS)
        # Request bodies are read as sent (mockhub.web.bodies decompresses them, within the body limit;
        # the proxy forwards them as they came), and no line the wire let through is too long for aiohttp.
        kwargs.setdefault("auto_decompress", False)
        kwargs.setdefault("max_line_size", 2 * MAX_LINE_BYTES)
        kwargs.setdefault("max_field_size", 2 * MAX_LINE_BYTES)
        super().__init__(app, **kwargs)
        self._server_options = {name: value for name, value in kwargs.items()
                                if name not in ("handle_signals", "shutdown_timeout")}
        """What aiohttp's server is made with (the runner's own options aside), for a low-level server alike."""
        self._low_level: web.Server | None = None
        self._connections = Connections(WireLimits(limits.head_timeout, limits.body_timeout, limits.max_connections),
                                        limits.connections_allowed(), refusal_bytes)
        self._wire: WireServer | None = None
        self._shut_down = False

    @property
    def server(self) -> Any:
        """aiohttp's server, behind a wire on each connection (what :class:`aiohttp.web.TCPSite` listens with)."""
        server = super().server
        if server is None:
            return None
        if self._wire is None or self._wire.made_for is not server:
            low_level = self.app.get(LOW_LEVEL)
            handler = low_level() if low_level is not None else None
            self._low_level = None if handler is None else web.Server(handler, **self._server_options)
            self._wire = WireServer(self._low_level or server, self._connections, server)
        return self._wire

    async def setup(self) -> None:
        """aiohttp's set-up; an app that does not read custom verbs itself (:data:`READS_CUSTOM_VERBS`) gets
        :func:`custom_verbs` as its first middleware."""
        app = self.app
        if not app.get(READS_CUSTOM_VERBS) and custom_verbs not in app.middlewares and not app.frozen:
            app.middlewares.insert(0, custom_verbs)
        await super().setup()

    async def cleanup(self) -> None:
        """Listen no more, run the app's ``on_shutdown`` (it ends what would answer for ever: a dashboard's
        event stream), answer what every connection has received (within the grace), then aiohttp's cleanup."""
        for site in list(self.sites):
            await site.stop()
        if self.server is not None:  # set up
            await self.shutdown()
        await self._connections.drain(self.limits.shutdown_grace)
        if self._low_level is not None:  # what aiohttp's cleanup does for its own server (which then has none)
            await self._low_level.shutdown(AFTER_DRAIN_SECONDS)
        await super().cleanup()

    async def shutdown(self) -> None:
        """The app's ``on_shutdown``, once: :meth:`cleanup` runs it before draining, and aiohttp's cleanup again."""
        if not self._shut_down:
            self._shut_down = True
            await super().shutdown()


async def as_sent(request: R, router: web.UrlDispatcher) -> R | None:
    """The request with the method its client sent, when aiohttp saw another method (a custom verb the wire
    handed over as ``POST``: :attr:`Wire.custom_method <mockhub.web.wire.Wire.custom_method>`), its route
    (``router``'s for that method) kept on it for :func:`route_of`; else ``None``."""
    transport = request.transport
    if not isinstance(transport, WireTransport) or transport.wire.custom_method is None:
        return None
    sent = cast(R, request.clone(method=transport.wire.custom_method))  # (a web.Request's clone is one)
    sent[ROUTE] = await router.resolve(sent)  # type: ignore[arg-type]  # (a BaseRequest: it reads the method and URL)
    return sent


async def routed(request: web.Request, handler: Handler, middleware: Middleware) -> tuple[web.Request, Handler]:
    """In the app's ``middleware``, given what aiohttp routed: the request as sent (:func:`as_sent`) and the
    handler that answers it (for a custom verb, its route's within the app's middlewares after ``middleware``, as
    aiohttp chains them), its route kept on it for :func:`route_of`."""
    sent = await as_sent(request, request.app.router)
    if sent is None:
        request[ROUTE] = request.match_info
        return request, handler
    handler = route_of(sent).handler
    middlewares = request.app.middlewares
    if middleware in middlewares:
        for inner in reversed(middlewares[middlewares.index(middleware) + 1:]):
            handler = partial(inner, handler=handler)
    return sent, handler


READS_CUSTOM_VERBS = web.AppKey("mockhub_reads_custom_verbs", bool)
"""Set on an app whose own middleware calls :func:`as_sent` and :func:`closes_after` (the pipeline of
``mockhub serve``'s app does, at no extra cost to a request); any other app served by :class:`MockhubRunner`
gets :func:`custom_verbs` (the proxy's app lists it first itself)."""


@web.middleware
async def custom_verbs(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Any app's requests with the method their client sent: a custom verb's request, cloned with its
    method, goes to its own route through the app's other middlewares. (Its handler reads its path
    parameters with :func:`route_of`: the clone's ``match_info`` is aiohttp's, made for ``POST``.)"""
    request, handler = await routed(request, handler, custom_verbs)
    response = await handler(request)
    if closes_after(request):
        response.force_close()
    return response


def route_of(request: web.BaseRequest) -> web.UrlMappingMatchInfo:
    """The route that answers ``request`` (its own for a custom verb, see :func:`as_sent`)."""
    try:
        route: web.UrlMappingMatchInfo = request[ROUTE]  # mockhub's pipeline keeps every request's there
    except KeyError:
        assert isinstance(request, web.Request)  # (the low-level server's requests always have it kept)
        return request.match_info
    return route


def closes_after(request: web.BaseRequest) -> bool:
    """Whether the answer to ``request`` is its connection's last (the server stops, or the client half-closed)."""
    transport = request.transport
    return isinstance(transport, WireTransport) and transport.wire.last_answer
