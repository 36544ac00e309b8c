"""The request pipeline every request goes through (decisions.md: Faults; Control API and sessions).

Its stages, outside in, each named for what it adds:

- :meth:`Pipeline.serve`: the request as sent (a custom verb's own method and route), CORS, the
  body's budget released, ``Connection: close`` when the connection ends; never raises but to cancel;
- :meth:`Pipeline.journaled`: the session, the fault the request or the rules ask for, the journal
  entry and the access log line (a control call goes to :meth:`Pipeline.guarded` instead: the admin
  guard, never faulted nor journaled);
- :meth:`Pipeline.faulted`: a fault's status, reset, delay or broken body, and overrides;
- :meth:`Pipeline.rendered`: the handler's answer, any error rendered in the API's own format.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import traceback
from time import perf_counter
from typing import cast

from aiohttp import web
from aiohttp.typedefs import Handler as AiohttpHandler
from aiohttp.typedefs import Middleware

from mockhub.contract.dialects import Dialect, dialect_of_path
from mockhub.kernel.errors import ApiError, InternalError
from mockhub.services.faults import DELAY_HEADER, FAULT_HEADER, Decision, InjectedFault, header_decision
from mockhub.services.overrides import Override
from mockhub.services.sessions import DEFAULT_SESSION, SESSION_COOKIE, SESSION_HEADER, Session
from mockhub.web.admin_guard import AdminGuard
from mockhub.web.cookie_hosts import CookieHostTrap
from mockhub.web.hosts import HostPolicy
from mockhub.web.keys import (
    ACCESS_LOG,
    APP,
    APPLIED,
    BODIES,
    CONTROL,
    CORS,
    DIALECTS,
    METHOD_OVERRIDES,
    OVERRIDE_CHECKER,
    SESSION,
    SESSIONLESS,
    SESSIONS,
    SETTINGS,
)
from mockhub.web.overriding import MergeBrokeContract, facts_of, overridden
from mockhub.web.protocol import ROUTE, LowLevelHandler, as_sent, closes_after, route_of, routed
from mockhub.web.rendering import error_response, http_error

log = logging.getLogger("mockhub")


class Pipeline:
    """Every request's pipeline: CORS, session, faults, errors in the API's format, journal, access log.

    Built once per app, with what it uses bound to it: a request pays no app lookups.
    """

    __slots__ = ("own_middleware", "app", "router", "cors", "sessions", "dialects", "method_overrides", "sessionless",
                 "bodies", "access_log", "settings", "control", "guard", "cookie_hosts", "override_checker")

    def __init__(self, app: web.Application) -> None:
        self.own_middleware: Middleware | None = None
        """The aiohttp middleware running this pipeline, once :meth:`middleware` made it."""
        self.app = app
        self.router = app.router
        self.cors = app[CORS]
        self.sessions = app[SESSIONS]
        self.dialects = app[DIALECTS]
        self.method_overrides = app[METHOD_OVERRIDES]
        self.sessionless = app[SESSIONLESS]
        self.bodies = app[BODIES]
        self.access_log = app[ACCESS_LOG]
        self.settings = app[SETTINGS]
        self.control = app[CONTROL]
        self.guard = AdminGuard(self.cors, HostPolicy(self.settings.allowed_hosts), self.settings.admin_token)
        self.cookie_hosts = CookieHostTrap()
        self.override_checker = app[OVERRIDE_CHECKER]

    def middleware(self) -> Middleware:
        """The aiohttp middleware that runs this pipeline."""
        pipeline = self

        @web.middleware
        async def core_middleware(request: web.Request, handler: AiohttpHandler) -> web.StreamResponse:
            sent, routed_to = await routed(request, handler, core_middleware)
            return await pipeline.serve(sent, cast(LowLevelHandler, routed_to))  # (given the web.Request it takes)

        self.own_middleware = core_middleware
        return core_middleware

    def low_level(self) -> LowLevelHandler | None:
        """The handler with which aiohttp's low-level server serves the app (:data:`~mockhub.web.protocol.LOW_LEVEL`):
        :meth:`dispatch`, while the app is mockhub's own: this pipeline its only middleware, every route an
        operation of the contracts (whose handlers take any ``BaseRequest``; a route an app adds may want a
        ``web.Request``: its ``app``, its ``match_info``)."""
        own = list(self.app.middlewares) == [self.own_middleware] and all(
            route.handler in self.dialects for resource in self.router.resources() for route in resource)
        return self.dispatch if own else None

    async def dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        """The answer to ``request`` as the app's middleware would give it: routed by the app's router (a custom
        verb by its own method), an ``Expect: 100-continue`` met by its route, then :meth:`serve`."""
        sent = await as_sent(request, self.router)
        if sent is not None:
            request = sent
        else:
            request[ROUTE] = await self.router.resolve(request)  # type: ignore[arg-type]  # (it reads method and URL)
        route: web.UrlMappingMatchInfo = request[ROUTE]
        if "Expect" in request.headers:  # (the wire refused any expectation but 100-continue)
            await route.expect_handler(request)  # type: ignore[arg-type]  # the interim 100 Continue
        return await self.serve(request, cast(LowLevelHandler, route.handler))  # (every route's takes a BaseRequest)

    async def serve(self, request: web.BaseRequest, handler: LowLevelHandler) -> web.StreamResponse:
        """The response to ``request``, routed to ``handler`` (its route kept on it: :func:`route_of`); never
        raises but to cancel."""
        started = perf_counter()
        request[APP] = self.app
        cors = self.cors
        origin = None
        if "Origin" in request.headers:
            origin, preflight = cors.screen(request)
            if preflight is not None:
                return preflight
        try:
            response = await self.journaled(request, handler, started)
        except asyncio.CancelledError:
            raise
        except ConnectionError:  # the client left before its body came whole: nothing applied, no one to answer
            raise asyncio.CancelledError() from None
        except Exception:  # a bug outside any handler: the same answer as a handler's bug
            response = self.internal_error(request, self.dialect(request, handler))
        finally:
            if request.body_exists:
                self.bodies.release(request)
        if closes_after(request):  # a stop or a half-close: the connection's last answer says so
            response.force_close()
        return response if origin is None else cors.allow(response, origin)

    def dialect(self, request: web.BaseRequest, handler: LowLevelHandler) -> Dialect:
        """The error dialect of the operation the router matched; by the path for a request that matched none."""
        dialect = self.dialects.get(route_of(request).handler)  # the route's (handler: maybe a middleware added later)
        return dialect if dialect is not None else dialect_of_path(request.path)

    async def journaled(self, request: web.BaseRequest, handler: LowLevelHandler, started: float) -> web.StreamResponse:
        """The answer of an API call in its session: faults, then the handler, journaled and logged."""
        dialect = self.dialect(request, handler)
        if dialect is Dialect.ADMIN:
            return await self.guarded(request, handler, started)
        sessions = self.sessions
        refused: ApiError | None = None
        try:
            session = self.session_for(request, False)
        except ApiError as exc:  # a malformed session name: answered, and journaled in the default session
            session, refused = sessions.default, exc
        request[SESSION] = session
        generation = session.generation
        fault: Decision | None = None
        override: Override | None = None
        if refused is None:
            try:
                headers = request.headers
                asked, delay = headers.get(FAULT_HEADER), headers.get(DELAY_HEADER)
                if asked is not None or delay is not None:
                    fault = header_decision(asked, delay)
                # The request's own X-Mockhub-Fault decides before the rules; its X-Mockhub-Delay adds to theirs.
                if session.faults and (fault is None or not fault.answers):
                    ruled = await _rule_fault(request, session, self.operation_method(request, handler))
                    if ruled is not None:
                        fault = ruled if fault is None else ruled.delayed(fault.delay_ms)
            except ApiError as exc:  # a malformed X-Mockhub-Fault / X-Mockhub-Delay header
                refused = exc
        if refused is not None:
            response: web.StreamResponse | None = error_response(refused, dialect)
        elif fault is None and not session.overrides:  # the common case
            response = await self.rendered(request, handler, dialect)
        else:
            response, override = await self.faulted(request, handler, fault, session, dialect)
        status = response.status if response is not None else 0
        answered_in: Session = request[SESSION]  # another one if the request's was dropped while its body came
        body = await self.bodies.kept(request) if request.body_exists else b""
        took_ms = (perf_counter() - started) * 1000
        if answered_in.generation == request.get(APPLIED, generation):  # else reset or dropped since it was
            answered_in.journal.record(  # applied: the journal it belonged to is gone (the next test's must not get it)
                answered_in.store.ctx.clock.stamp(), request.method, request.path, request.rel_url.raw_query_string,
                request.headers, body, status, took_ms, fault.label if fault is not None else None,
                override.id if override is not None else None, override is not None and override.off_contract,
                response)
        self.log_access(request, status, took_ms, fault, answered_in, override)
        if response is None:
            raise asyncio.CancelledError()  # the connection is gone: nothing to send
        return response

    async def guarded(self, request: web.BaseRequest, handler: LowLevelHandler, started: float) -> web.StreamResponse:
        """A control call: never faulted nor journaled. It is guarded (its Host, its page, the admin token)
        before its session is looked for (a refused call must not make or evict one), and only a call that
        acts on a session looks for one (health and dropping a session answer a browser whatever session
        cookie it sends)."""
        session = self.sessions.default
        response = self.guard.refused(request)
        if response is None and route_of(request).handler not in self.sessionless:
            try:
                session = self.session_for(request, True)
            except ApiError as exc:  # a malformed or unmakeable session name
                response = error_response(exc, Dialect.ADMIN)
        request[SESSION] = session
        if response is None:
            response = await self.rendered(request, handler, Dialect.ADMIN)
        self.log_access(request, response.status, (perf_counter() - started) * 1000, None, session)
        return response

    def session_for(self, request: web.BaseRequest, admin: bool) -> Session:
        """The session a request names: the header, then (control API) ``?session=``, then the cookie; else
        the default one (on the control API an explicit ``?session=`` wins over the cookie a browser sends
        along anyway). A page naming none is looked at for the cookie-host trap."""
        headers = request.headers
        name = headers.get(SESSION_HEADER)
        if name is None and admin:
            name = request.query.get("session")
        if name is None and "Cookie" in headers:
            name = request.cookies.get(SESSION_COOKIE)
        if name is not None:
            return self.sessions.get(name)
        if "Origin" in headers:
            self.cookie_hosts.check(request, self.sessions)
        return self.sessions.default

    def log_access(self, request: web.BaseRequest, status: int, took_ms: float, fault: Decision | None,
                   session: Session, override: Override | None = None) -> None:
        access = self.access_log
        if access is None:
            return
        more = ""
        if fault is not None or override is not None or session.name != DEFAULT_SESSION:  # the rare case
            more = (f"{f' fault={fault.label}' if fault is not None else ''}"
                    f"{f' override={override.id}' if override is not None else ''}"
                    f"{' off_contract' if override is not None and override.off_contract else ''}"
                    f"{f' session={session.name}' if session.name != DEFAULT_SESSION else ''}")
        # the request target as sent (raw_path: no URL object is built for it)
        access.write(request.remote, request.method, request.raw_path, status, took_ms, more)

    async def faulted(self, request: web.BaseRequest, handler: LowLevelHandler, fault: Decision | None,
                     session: Session, dialect: Dialect) -> tuple[web.StreamResponse | None, Override | None]:
        """The response to send after any fault (``None`` when a fault dropped the connection), and the
        override that gave it, if one did.

        A request that is answered is applied and answered from the state of the moment it is whole, then
        waits out its delay: a reset meanwhile (the pytest fixture's, between tests) cannot carry it into the
        next state.
        """
        if fault is not None and (fault.status is not None or fault.connection == "reset"):
            if fault.delay_ms:
                if request.body_exists:  # read first: a client that gives up during the delay is still journaled
                    await self.bodies.kept(request)
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.status is not None:
                allow = self.allowed_methods(request) if fault.status == 405 else ()
                return error_response(InjectedFault(fault.status, fault.retry_after, allow), dialect), None
            _reset_connection(request)
            return None, None
        if session.overrides:
            try:
                response, override = await overridden(
                    request, session, lambda: self.rendered(request, handler, dialect),
                    self.operation_method(request, handler), self.override_checker)
            except MergeBrokeContract as exc:  # the mock's error: the pytest fixture fails the test with it
                self.control.server_error(str(exc))
                log.error("%s %s: %s", request.method, request.path, exc)
                response, override = error_response(exc, dialect), exc.override
        else:  # the common case: no override set, nothing more to pay
            response, override = await self.rendered(request, handler, dialect), None
        if fault is not None:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.connection == "malformed":
                response = _truncated(response)
        return response, override

    def operation_method(self, request: web.BaseRequest, handler: LowLevelHandler) -> str:
        """The method of the operation that answers (what fault rules and overrides match): the one a valid
        ``X-HTTP-Method-Override`` names, where the route takes it (a LOOKUP sent as POST is a LOOKUP)."""
        taken = self.method_overrides.get(route_of(request).handler)
        if taken is not None:
            named = request.headers.get(taken[0])
            if named in taken[1]:  # as the endpoint reads it (a value it refuses is a 400 of the request's own)
                return named
        return request.method

    def allowed_methods(self, request: web.BaseRequest) -> set[str]:
        """The methods the request's route serves (for a 405's ``Allow``); empty when no route matched."""
        route = route_of(request)
        refused = route.http_exception
        if isinstance(refused, web.HTTPMethodNotAllowed):  # the path is served, not with this method
            return set(refused.allowed_methods)
        if refused is not None or route.route.resource is None:
            return set()
        path = route.route.resource.canonical
        return {route.method for resource in self.app.router.resources() if resource.canonical == path
                for route in resource}

    async def rendered(self, request: web.BaseRequest, handler: LowLevelHandler,
                       dialect: Dialect) -> web.StreamResponse:
        """The handler's response, with any error rendered in the operation's dialect."""
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc, dialect)
        except web.HTTPException as exc:
            return error_response(http_error(exc, request.method, self.settings.max_body_bytes), dialect)
        except ConnectionError:  # the client left before its body came whole (see serve)
            raise
        except Exception:
            return self.internal_error(request, dialect)

    def internal_error(self, request: web.BaseRequest, dialect: Dialect) -> web.Response:
        """A 500 in the API's format for an unexpected exception, kept for the pytest plugin to raise."""
        self.control.server_error(traceback.format_exc())
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return error_response(InternalError(), dialect)


async def _rule_fault(request: web.BaseRequest, session: Session, method: str) -> Decision | None:
    """What the session's fault rules ask for (the request's own X-Mockhub-* headers come first)."""
    faults = session.faults
    return faults.decide(await facts_of(request, faults.needs_body, method), session.store.ctx.random)


def _reset_connection(request: web.BaseRequest) -> None:
    """Close the connection with a TCP reset, as a crashed server or a proxy would (unless the client is gone)."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:  # closed by the client meanwhile
        pass
    transport.abort()


def _truncated(response: web.StreamResponse) -> web.StreamResponse:
    """The same answer with its JSON cut in half: valid HTTP, a body no JSON parser accepts."""
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
    kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    broken = web.Response(status=response.status, body=body[: len(body) // 2] or b"{", headers=kept)
    broken.content_type = "application/json"
    return broken
