"""The proxy's app: the control API under /__mockhub/, and every other request forwarded to the target.

Each forwarded exchange is journaled and checked on both sides once the client has its answer;
each violation is one log line and an entry of ``GET /__mockhub/violations``. At shutdown the
``--junit`` report and the ``--record`` file are written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from time import perf_counter
from typing import Any

from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.contract.dialects import ADMIN_PREFIX, Dialect, dialect_of_path
from mockhub.kernel import jsonio
from mockhub.kernel.errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge
from mockhub.proxy import admin
from mockhub.proxy.dashboard import Exchange, seen_on_proxy
from mockhub.proxy.forward import AnswerBroken, TargetAnswer, UpstreamTimeout, UpstreamUnreachable
from mockhub.proxy.settings import ProxySettings
from mockhub.proxy.state import PROXY, Proxy
from mockhub.proxy.violations import Findings, Violation
from mockhub.resources import admin_contract_path
from mockhub.web.bodies import Bodies, BodiesPending
from mockhub.web.cors import is_preflight
from mockhub.web.keys import BODIES
from mockhub.web.protocol import custom_verbs
from mockhub.web.rendering import error_response, http_error

log = logging.getLogger("mockhub.proxy")
CONTROL_METHODS: web.AppKey[dict[str, set[str]]] = web.AppKey("mockhub_proxy_control_methods")
"""The control API's paths and the methods each has, for the 404 or 405 of any other."""


def create_proxy_app(settings: ProxySettings, *, contract: Contract | None = None,
                     admin_contract: Contract | None = None) -> web.Application:
    """Build a ``mockhub proxy`` application that forwards to ``settings.target``."""
    contract = contract or Contract.load()
    admin_contract = admin_contract or Contract.load(admin_contract_path())
    app = web.Application(middlewares=[custom_verbs, control_middleware], client_max_size=settings.max_body_bytes)
    app[PROXY] = proxy = Proxy.build(settings, contract, admin_contract, seen_on_proxy)
    app[BODIES] = Bodies(settings.max_body_bytes, settings.max_pending_body_bytes)
    app[CONTROL_METHODS] = {}
    for op_id, handler in admin.HANDLERS.items():
        op = admin_contract.operations[op_id]
        app.router.add_route(op.method, op.path, handler, name=op_id)
        app[CONTROL_METHODS].setdefault(op.path, set()).add(op.method)
    app.router.add_route("*", "/{tail:.*}", forward, name="forward")
    app.cleanup_ctx.append(_lifetime)
    app.on_shutdown.append(proxy.dashboards.end_all)
    return app


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    """Open the client to the target; at shutdown close it and write the JUnit report and the record."""
    proxy = app[PROXY]
    await proxy.forwarder.open()
    yield
    await proxy.forwarder.close()
    for path, write in ((proxy.settings.junit, proxy.write_junit), (proxy.settings.record, proxy.write_record)):
        if path is not None:
            try:
                write()
            except OSError as exc:  # the report is lost: say which and why (the stop goes on)
                log.error("mockhub: cannot write %s: %s", path, exc.strerror or exc)


@web.middleware
async def control_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """The control API as on ``serve``: CORS, the same guard (Host, page, admin token), errors in the admin
    format, the access log. Forwarded requests pass straight on: their answer, CORS headers included, is the
    target's. (A custom verb (LOOKUP) comes with the method its client sent: ``custom_verbs`` runs first.)"""
    if not request.path.startswith(ADMIN_PREFIX):
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:  # no route (OPTIONS *, a target without a path): the API's format
            response = error_response(http_error(exc, request.method, request.app[PROXY].settings.max_body_bytes),
                                      dialect_of_path(request.path))
        finally:  # the exchange is over: its body no longer counts
            request.app[BODIES].release(request)
        return response
    started = perf_counter()
    proxy = request.app[PROXY]
    origin, preflight = proxy.cors.screen(request)
    if preflight is not None:
        return preflight
    refused = proxy.guard.refused(request)
    if refused is not None:
        response = refused
    else:
        try:
            response = await handler(request)
        except ApiError as exc:
            response = error_response(exc, Dialect.ADMIN)
        except web.HTTPException as exc:
            response = error_response(http_error(exc, request.method, proxy.settings.max_body_bytes),
                                      Dialect.ADMIN)
    _access(request, response.status, started)
    return response if origin is None else proxy.cors.allow(response, origin)


async def forward(request: web.Request) -> web.StreamResponse:
    """Forward the request, pass the answer on, then journal and check the exchange."""
    if request.path.startswith(ADMIN_PREFIX):
        allowed = request.app[CONTROL_METHODS].get(request.path)
        raise MethodNotAllowed(request.method, allowed) if allowed else NotFound("No such endpoint.")
    started = perf_counter()
    proxy = request.app[PROXY]
    answer: TargetAnswer | None = None
    fault: str | None = None
    body: bytes | None = None  # None: not read, so not checked
    bodies = request.app[BODIES]
    try:
        sent = await bodies.sent(request)  # forwarded as it came (compressed or not)
    except PayloadTooLarge:
        error = PayloadTooLarge(f"The request body is larger than the proxy forwards "
                                f"({proxy.settings.max_body_bytes} bytes).")
        response: web.StreamResponse = error_response(error, dialect_of_path(request.path))
        fault = "too large to forward"
    except BodiesPending as exc:
        response = error_response(exc, dialect_of_path(request.path))
        fault = "too many bodies at once"
    else:
        try:
            body = await bodies.read(request)  # checked as the target reads it
        except ApiError:  # not what its Content-Encoding says: forwarded all the same, not checked
            body = None
        try:
            response, answer = await proxy.forwarder.forward(request, sent)
        except (UpstreamUnreachable, UpstreamTimeout) as exc:
            fault = "target unreachable" if isinstance(exc, UpstreamUnreachable) else "target timed out"
            log.warning("%s %s: %s", request.method, request.path_qs, exc)
            response = error_response(exc, dialect_of_path(request.path))
        except AnswerBroken as exc:
            fault = "answer broken off"
            log.warning("%s %s: %s; the client's connection is closed", request.method, request.path_qs, exc)
            response = exc.response
            if request.transport is not None:
                request.transport.close()
    try:
        _settle(proxy, request, body, response, answer, fault, started)
    except Exception:  # a bug in checking or recording must not cost the client its answer
        log.exception("could not check or record %s %s", request.method, request.path_qs)
    return response


def _settle(proxy: Proxy, request: web.Request, body: bytes | None, response: web.StreamResponse,
            answer: TargetAnswer | None, fault: str | None, started: float) -> None:
    """Check both sides of an exchange, record what its answer shows, journal it (with what an open dashboard
    is shown). A request whose body was not read (too large, or past the bodies' budget) is not checked: its
    body is unknown."""
    status = response.status
    now = proxy.clock.now()
    checker = proxy.checker
    route = checker.route(request.method, request.path, request.headers)
    operation = route.operation.operation_id if route.operation is not None else None
    violations: list[Violation] = []
    # A browser's CORS preflight asks about a call, it is not one; the answer to HEAD has no body to check.
    preflight = is_preflight(request)
    asked = checker.request_problems(route, request.query, request.headers, body) if (
        body is not None and not preflight) else Findings()
    if asked.problems:
        violations.append(Violation.of(now, request.method, request.path, status, "request", operation, asked))
    answered: bytes | None = None
    if answer is not None and answer.complete and not preflight and request.method != "HEAD":
        answered = answer.decoded_body()
        found = checker.answer_problems(route, request.path, answer.status, answer.headers, answered)
        if found.problems:
            violations.append(Violation.of(now, request.method, request.path, status, "response", operation, found))
        elif proxy.recorder is not None and operation is not None:
            proxy.recorder.observe(operation, route.segments, request.query, request.headers.get("Authorization"),
                                   answer.status, _json_or_none(answered))
    proxy.violations.exchange(operation, violations)
    for violation in violations:
        log.warning("%s", violation.line())
    shown = _shown(response, answer, answered, violations) if proxy.journal.feed.listeners else None
    proxy.journal.record(now, request.method, request.path, request.rel_url.raw_query_string, request.headers,
                         body or b"", status, (perf_counter() - started) * 1000, fault, answer=shown)
    _access(request, status, started)


def _shown(response: web.StreamResponse, answer: TargetAnswer | None, answered: bytes | None,
           violations: list[Violation]) -> Exchange:
    """What a dashboard is shown of an exchange: the answer passed on, its body decoded where it was checked."""
    if answer is None:  # the proxy's own answer (the target unreachable...)
        body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
        return Exchange(response, body, True, violations)
    return Exchange(response, answered if answered is not None else answer.body, answer.complete, violations)


def _json_or_none(body: bytes) -> Any:
    try:
        return jsonio.loads(body) if body.strip() else None
    except jsonio.JsonError:
        return None


def _access(request: web.Request, status: int, started: float) -> None:
    access = request.app[PROXY].access_log
    if access is not None:
        access.write(request.remote, request.method, request.path_qs, status, (perf_counter() - started) * 1000)
