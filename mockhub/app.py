"""The app factory: one core behind every door (CLI, pytest plugin, docker).

All routes are in :data:`HANDLERS`: operation ids of the contract, each with its thin
handler. Methods and paths come from the contract itself, so the two cannot drift.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from time import perf_counter

from aiohttp import web
from aiohttp.typedefs import Handler as AiohttpHandler

from mockhub import admin
from mockhub.clock import Clock, parse_instant, portal_time
from mockhub.contracts import Contract
from mockhub.endpoint import Handler, endpoints
from mockhub.errors import ADMIN_PREFIX, ApiError, InternalError, dialect_for, http_error
from mockhub.fixtures import FixtureSource, build_store
from mockhub.keys import CONTRACT, SERVER_ERRORS, SESSION, SESSIONS, SETTINGS
from mockhub.resources import default_fixtures_path
from mockhub.routes import hubs, points
from mockhub.sessions import Sessions
from mockhub.settings import Settings
from mockhub.store import Store

log = logging.getLogger("mockhub")

HANDLERS: dict[str, Handler] = {
    "createHub": hubs.create_hub,
    "listHubs": hubs.list_hubs,
    "getHub": hubs.get_hub,
    "updateHub": hubs.update_hub,
    "deleteHub": hubs.delete_hub,
    "createIntegrationPoint": points.create_point,
    "listIntegrationPoints": points.list_points,
    "lookupIntegrationPoint": points.lookup_points,
    "getIntegrationPoint": points.get_point,
    "patchIntegrationPoint": points.patch_point,
    "deleteIntegrationPoint": points.delete_point,
}


def startup_store(settings: Settings, contract: Contract) -> Store:
    """The state the server starts with (and every session resets to)."""
    clock = Clock(parse_instant(settings.clock) if settings.clock else None)
    if settings.empty:
        paths: Sequence[Path] = ()
    else:
        paths = settings.fixtures or (default_fixtures_path(),)
    sources = [FixtureSource.read(p) for p in paths]
    return build_store(sources, contract, settings.seed, clock)


def create_app(settings: Settings | None = None, *, contract: Contract | None = None) -> web.Application:
    """Build a mockhub server application.

    Raises :class:`~mockhub.fixtures.FixtureError` when a fixture file is bad, and
    ``ValueError`` for a bad option, before anything listens.
    """
    settings = settings or Settings()
    contract = contract or Contract.load()
    app = web.Application(middlewares=[core_middleware], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[CONTRACT] = contract
    app[SESSIONS] = Sessions(startup_store(settings, contract), settings.journal_size)
    app[SERVER_ERRORS] = []
    for op, handle in endpoints(contract, HANDLERS):
        app.router.add_route(op.method, op.path, handle, name=op.operation_id)
    admin.add_routes(app)
    return app


@web.middleware
async def core_middleware(request: web.Request, handler: AiohttpHandler) -> web.StreamResponse:
    """Picks the session, renders every error in its API's format, and journals the exchange."""
    session = request.app[SESSIONS].default
    request[SESSION] = session
    started = perf_counter()
    try:
        response = await handler(request)
    except ApiError as exc:
        response = exc.response(dialect_for(request.path))
    except web.HTTPException as exc:
        error = http_error(exc, request.method, request.app[SETTINGS].max_body_bytes)
        response = error.response(dialect_for(request.path))
    except Exception:
        request.app[SERVER_ERRORS].append(traceback.format_exc())
        log.exception("unexpected error answering %s %s", request.method, request.path)
        response = InternalError().response(dialect_for(request.path))
    if not request.path.startswith(ADMIN_PREFIX):
        session.journal.record(
            portal_time(session.store.ctx.clock.now()), request.method, request.path, request.query_string,
            request.headers, await _body_of(request), response.status, (perf_counter() - started) * 1000,
        )
    return response


async def _body_of(request: web.Request) -> bytes:
    if not request.body_exists:
        return b""
    try:
        return await request.read()
    except web.HTTPException:  # too large: the journal keeps the answer, not the body
        return b""

