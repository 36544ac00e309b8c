"""The app factory: one core behind every door (CLI, pytest plugin, docker).

All routes are in :data:`HANDLERS` (the APIs) and :data:`mockhub.admin.HANDLERS` (the
control API): operation ids of the contracts, each with its thin handler. Methods and
paths come from the contracts themselves, so the two cannot drift.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import struct
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from time import perf_counter
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler as AiohttpHandler

from mockhub import admin
from mockhub.clock import Clock, parse_instant, portal_time
from mockhub.contracts import Contract
from mockhub.cors import cors_middleware
from mockhub.endpoint import Handler, endpoints
from mockhub.errors import (
    ADMIN_PREFIX,
    ApiError,
    Dialect,
    InternalError,
    Unauthorized,
    ValidationFailed,
    dialect_for,
    http_error,
)
from mockhub.fake import FakeSpec, add_fake_data
from mockhub.faults import DELAY_HEADER, FAULT_HEADER, Decision, FaultEngine, FaultRule, InjectedFault, header_decision
from mockhub.fixtures import FixtureLoader, FixtureSource
from mockhub.keys import ADMIN_CONTRACT, CONTRACT, FIXTURES, SERVER_ERRORS, SESSION, SESSIONS, SETTINGS
from mockhub.resources import admin_contract_path, default_fixtures_path
from mockhub.routes import hubs, integrations, points
from mockhub.sessions import DEFAULT_SESSION, SESSION_COOKIE, SESSION_HEADER, Session, Sessions
from mockhub.settings import Settings
from mockhub.store import Store

ADMIN_TOKEN_HEADER = "X-Mockhub-Admin-Token"
HEALTH_PATH = f"{ADMIN_PREFIX}health"

log = logging.getLogger("mockhub")
access_log = logging.getLogger("mockhub.access")

HANDLERS: dict[str, Handler] = {
    "createHub": hubs.create_hub,
    "listHubs": hubs.list_hubs,
    "getHub": hubs.get_hub,
    "updateHub": hubs.update_hub,
    "deleteHub": hubs.delete_hub,
    "createOrUpdateIntegration": integrations.create_or_update_integration,
    "getIntegrationsByChannel": integrations.get_integrations_by_channel,
    "getIntegration": integrations.get_integration,
    "deleteIntegration": integrations.delete_integration,
    "listIntegrations": integrations.list_integrations,
    "createIntegrationPoint": points.create_point,
    "listIntegrationPoints": points.list_points,
    "lookupIntegrationPoint": points.lookup_points,
    "getIntegrationPoint": points.get_point,
    "patchIntegrationPoint": points.patch_point,
    "deleteIntegrationPoint": points.delete_point,
}


def startup_store(settings: Settings, loader: FixtureLoader) -> Store:
    """The state the server starts with (and every session resets to): fixtures, then fake data."""
    clock = Clock(parse_instant(settings.clock) if settings.clock else None)
    fake = FakeSpec.parse(settings.fake)
    given: Sequence[Path | Mapping[str, Any]] = (
        () if settings.empty else (settings.fixtures or (default_fixtures_path(),)))
    sources = [FixtureSource.read(Path(g)) if isinstance(g, (str, Path)) else FixtureSource("fixture data", g)
               for g in given]
    store = loader.build(sources, settings.seed, clock)
    if fake:
        add_fake_data(store, fake)
    return store


def startup_faults(rules: Sequence[Mapping[str, Any]], admin_contract: Contract) -> tuple[FaultRule, ...]:
    """Check start-up fault rules as the admin API would; ``ValueError`` names the bad rule."""
    engine = FaultEngine()
    for index, rule in enumerate(rules):
        try:
            admin_contract.check("FaultRule", rule)
            engine.add([rule])
        except ValidationFailed as exc:
            raise ValueError(f"fault rule {index}: {exc}") from None
    return engine.rules


def create_app(settings: Settings | None = None, *, contract: Contract | None = None,
               admin_contract: Contract | None = None) -> web.Application:
    """Build a mockhub server application.

    Raises :class:`~mockhub.fixtures.FixtureError` when a fixture file is bad, and
    ``ValueError`` for a bad option or fault rule, before anything listens.
    """
    settings = settings or Settings()
    contract = contract or Contract.load()
    admin_contract = admin_contract or Contract.load(admin_contract_path())
    app = web.Application(middlewares=[cors_middleware(settings.cors_origins), core_middleware],
                          client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[CONTRACT] = contract
    app[ADMIN_CONTRACT] = admin_contract
    app[FIXTURES] = loader = FixtureLoader(contract)
    faults = startup_faults(settings.faults, admin_contract)
    app[SESSIONS] = Sessions(startup_store(settings, loader), settings.journal_size, faults,
                             max_sessions=settings.max_sessions, idle_seconds=settings.session_idle_seconds)
    app[SERVER_ERRORS] = []
    for document, handlers in ((contract, HANDLERS), (admin_contract, admin.HANDLERS)):
        for op, handle in endpoints(document, handlers):
            app.router.add_route(op.method, op.path, handle, name=op.operation_id)
    return app


@web.middleware
async def core_middleware(request: web.Request, handler: AiohttpHandler) -> web.StreamResponse:
    """Picks the session, applies faults, renders every error in its API's format, journals the exchange."""
    started = perf_counter()
    admin = request.path.startswith(ADMIN_PREFIX)
    sessions = request.app[SESSIONS]
    refused: ApiError | None = None
    try:
        session = _session_for(request, sessions, admin)
    except ApiError as exc:  # a malformed session name: answered, and journaled in the default session
        session, refused = sessions.default, exc
    request[SESSION] = session
    if admin:  # the control API is never faulted nor journaled
        refused = refused or _admin_refusal(request)
        admin_response = refused.response(Dialect.ADMIN) if refused else await _respond(request, handler)
        _log_access(request, admin_response.status, started, None, session)
        return admin_response
    fault: Decision | None = None
    try:
        if refused is not None:
            raise refused
        fault = _fault_for(request, session)
    except ApiError as exc:
        response: web.StreamResponse | None = exc.response(dialect_for(request.path))
    else:
        response = await _answer(request, handler, fault)
    session.journal.record(
        portal_time(session.store.ctx.clock.now()), request.method, request.path, request.query_string,
        request.headers, await _body_of(request), response.status if response is not None else 0,
        (perf_counter() - started) * 1000, fault.label if fault is not None else None,
    )
    _log_access(request, response.status if response is not None else 0, started, fault, session)
    if response is None:
        raise asyncio.CancelledError()  # the connection is gone: nothing to send
    return response


def _admin_refusal(request: web.Request) -> ApiError | None:
    """401 for a control call without the --admin-token (health stays open for HEALTHCHECK)."""
    expected = request.app[SETTINGS].admin_token
    if expected is None or request.path == HEALTH_PATH:
        return None
    given = request.headers.get(ADMIN_TOKEN_HEADER, "")
    if hmac.compare_digest(given.encode(), expected.encode()):
        return None
    return Unauthorized(f"The control API needs the header {ADMIN_TOKEN_HEADER} with the server's admin token.")


def _session_for(request: web.Request, sessions: Sessions, admin: bool) -> Session:
    """The session a request names: header, then cookie, then (admin API) ``?session=``; else the default."""
    headers = request.headers
    name = headers.get(SESSION_HEADER)
    if name is None and "Cookie" in headers:
        name = request.cookies.get(SESSION_COOKIE)
    if name is None and admin:
        name = request.query.get("session")
    return sessions.default if name is None else sessions.get(name)


def _log_access(request: web.Request, status: int, started: float, fault: Decision | None,
                session: Session) -> None:
    if request.app[SETTINGS].access_log:
        access_log.info('%s "%s %s" %s %.2fms%s%s', request.remote, request.method, request.path_qs,
                        status or "-", (perf_counter() - started) * 1000,
                        f" fault={fault.label}" if fault is not None else "",
                        f" session={session.name}" if session.name != DEFAULT_SESSION else "")


def _fault_for(request: web.Request, session: Session) -> Decision | None:
    """What the session's rules, or the request's own X-Mockhub-* headers, ask for."""
    headers = request.headers
    asked = header_decision(headers.get(FAULT_HEADER), headers.get(DELAY_HEADER))
    if asked is not None:
        return asked
    if not session.faults:
        return None
    return session.faults.decide(request.method, request.path, session.store.ctx.random)


async def _answer(request: web.Request, handler: AiohttpHandler,
                  fault: Decision | None) -> web.StreamResponse | None:
    """The response to send after any fault (``None`` when a fault dropped the connection)."""
    if fault is None:
        return await _respond(request, handler)
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is not None:
        return InjectedFault(fault.status, fault.retry_after).response(dialect_for(request.path))
    if fault.connection == "reset":
        _reset_connection(request)
        return None
    response = await _respond(request, handler)
    return _truncated(response) if fault.connection == "malformed" else response


async def _respond(request: web.Request, handler: AiohttpHandler) -> web.StreamResponse:
    """The handler's response, with any error rendered in the API's own format."""
    dialect = dialect_for(request.path)
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response(dialect)
    except web.HTTPException as exc:
        return http_error(exc, request.method, request.app[SETTINGS].max_body_bytes).response(dialect)
    except Exception:
        request.app[SERVER_ERRORS].append(traceback.format_exc())
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return InternalError().response(dialect)


def _reset_connection(request: web.Request) -> None:
    """Close the connection with a TCP reset, as a crashed server or a proxy would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _truncated(response: web.StreamResponse) -> web.StreamResponse:
    """The same answer with its JSON cut in half: valid HTTP, a body no JSON parser accepts."""
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
    broken = web.Response(status=response.status, body=body[: len(body) // 2] or b"{")
    broken.content_type = "application/json"
    return broken


async def _body_of(request: web.Request) -> bytes:
    if not request.body_exists:
        return b""
    try:
        return await request.read()
    except web.HTTPException:  # too large: the journal keeps the answer, not the body
        return b""
