"""The app factory: one core behind every door (CLI, pytest plugin, docker).

What each request goes through is in :mod:`mockhub.web.middleware`.

All routes are in :data:`HANDLERS` (the APIs) and :data:`mockhub.web.admin.HANDLERS` (the
control API): operation ids of the contracts, each with its thin handler. Methods and
paths come from the contracts themselves, so the two cannot drift.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.dataset.fake import FakeSpec, add_fake_data
from mockhub.dataset.fixtures import FixtureLoader, FixtureSource
from mockhub.kernel.clock import Clock, parse_instant
from mockhub.kernel.errors import ValidationFailed
from mockhub.resources import admin_contract_path, default_fixtures_path
from mockhub.services.control import Control, check_fault_rules
from mockhub.services.faults import FaultEngine
from mockhub.services.override_check import OverrideChecker, check_overrides
from mockhub.services.overrides import MAX_OVERRIDES, OverrideEngine
from mockhub.services.rulesets import RuleLimits
from mockhub.services.sessions import SessionLimits, Sessions
from mockhub.settings import Settings
from mockhub.store import Store
from mockhub.store.tokens import AccessTokens
from mockhub.web import admin
from mockhub.web.accesslog import AccessLog
from mockhub.web.bodies import Bodies
from mockhub.web.cors import CorsPolicy
from mockhub.web.dashboard.streams import StreamLimits, Streams
from mockhub.web.endpoint import Handler, endpoints, route_template
from mockhub.web.keys import (
    ACCESS_LOG,
    ADMIN_CONTRACT,
    BODIES,
    CONTRACT,
    CONTROL,
    CORS,
    DASHBOARDS,
    DIALECTS,
    METHOD_OVERRIDES,
    OVERRIDE_CHECKER,
    SESSIONLESS,
    SESSIONS,
    SETTINGS,
)
from mockhub.web.middleware import Pipeline
from mockhub.web.protocol import LOW_LEVEL, READS_CUSTOM_VERBS
from mockhub.web.routes import commands, engine, hubs, identity, integrations, points, tenants
from mockhub.web.webhooks import delivering

HANDLERS: dict[str, Handler] = {
    "requestToken": identity.request_token,
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
    "getClient": tenants.get_client,
    "addClientToken": tenants.add_client_token,
    "deleteClientToken": tenants.delete_client_token,
    "createTransferCommand": commands.TRANSFER.create,
    "getTransferCommand": commands.TRANSFER.get,
    "updateTransferCommand": commands.TRANSFER.update,
    "deleteTransferCommand": commands.TRANSFER.delete,
    "listTransferCommands": commands.TRANSFER.of_hub,
    "createResponseCommand": commands.RESPONSE.create,
    "getResponseCommand": commands.RESPONSE.get,
    "updateResponseCommand": commands.RESPONSE.update,
    "deleteResponseCommand": commands.RESPONSE.delete,
    "listResponseCommands": commands.RESPONSE.of_hub,
    "establishConversation": engine.establish_conversation,
    "getConversation": engine.get_conversation,
    "getActivities": engine.get_activities,
    "sendDirectActivity": engine.send_direct_activity,
    "createIntegrationPoint": points.create_point,
    "listIntegrationPoints": points.list_points,
    "lookupIntegrationPoint": points.lookup_points,
    "getIntegrationPoint": points.get_point,
    "patchIntegrationPoint": points.patch_point,
    "deleteIntegrationPoint": points.delete_point,
}


async def _sweeping(app: web.Application) -> AsyncIterator[None]:
    """Sessions idle past --session-idle are dropped on time, whatever requests come (a named session's
    lookup sweeps too, but a server with only default-session traffic would keep them)."""
    loop = asyncio.get_running_loop()
    sessions = app[SESSIONS]
    handles: list[asyncio.TimerHandle] = []

    def tick() -> None:
        sessions.sweep()
        # at most ten times a second, however short --session-idle is (a lookup sweeps as well)
        handles[:] = [loop.call_later(max(sessions.sweep_every, 0.1), tick)]

    tick()
    yield
    for handle in handles:
        handle.cancel()


def startup_store(settings: Settings, loader: FixtureLoader) -> Store:
    """The state the server starts with (and every session resets to): fixtures, then fake data."""
    clock = Clock(parse_instant(settings.clock) if settings.clock else None)
    fake = FakeSpec.parse(settings.fake)
    given: Sequence[Path | Mapping[str, Any]] = (
        () if settings.empty else (settings.fixtures or (default_fixtures_path(),)))
    sources = [FixtureSource.read(Path(g)) if isinstance(g, (str, Path)) else FixtureSource.of("fixture data", g)
               for g in given]
    store = loader.build(sources, settings.seed, clock, AccessTokens.for_seed(settings.seed, settings.token_lifetime))
    if fake:
        add_fake_data(store, fake)
    return store


def startup_rules(values: Sequence[Mapping[str, Any]], check: Callable[[Mapping[str, Any]], None],
                  engine: FaultEngine | OverrideEngine, kind: str) -> tuple[Any, ...]:
    """Check start-up fault rules or overrides as the control API would, then add them to ``engine``;
    ``ValueError`` names the bad one (``fault rule 2: ...``)."""
    for index, value in enumerate(values):
        try:
            check(value)
        except ValidationFailed as exc:
            raise ValueError(f"{kind} {index}: {exc}") from None
    try:
        engine.add(values)
    except ValidationFailed as exc:  # two with one id
        raise ValueError(f"{kind}s: {exc}") from None
    return engine.rules


def create_app(settings: Settings | None = None, *, contract: Contract | None = None,
               admin_contract: Contract | None = None,
               monotonic: Callable[[], float] = time.monotonic) -> web.Application:
    """Build a mockhub server application.

    ``monotonic`` is the clock of every duration the server measures (idle and busy sessions,
    rate-limit windows); tests pass one they move by hand instead of sleeping.

    Raises :class:`~mockhub.dataset.fixtures.FixtureError` when a fixture file is bad, and
    ``ValueError`` for a bad option, fault rule or override, before anything listens.
    """
    settings = settings or Settings()
    contract = contract or Contract.load()
    admin_contract = admin_contract or Contract.load(admin_contract_path())
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[CORS] = CorsPolicy(settings.cors_origins)
    app[ACCESS_LOG] = AccessLog() if settings.access_log else None
    app[SETTINGS] = settings
    app[BODIES] = Bodies(settings.max_body_bytes, settings.max_pending_body_bytes)
    app[CONTRACT] = contract
    app[ADMIN_CONTRACT] = admin_contract
    loader = FixtureLoader(contract)
    faults = startup_rules(settings.faults, lambda rule: check_fault_rules(admin_contract, [rule]),
                           FaultEngine((), RuleLimits(len(settings.faults), None)), "fault rule")
    checker = OverrideChecker(contract)
    overrides = startup_rules(settings.overrides, lambda one: check_overrides(admin_contract, checker, [one], False),
                              OverrideEngine((), RuleLimits(MAX_OVERRIDES, None)), "override")
    app[SESSIONS] = sessions = Sessions(startup_store(settings, loader), SessionLimits.of(settings),
                                        startup_faults=faults, startup_overrides=overrides, monotonic=monotonic)
    app[CONTROL] = Control(sessions, loader, admin_contract, checker)
    app[DASHBOARDS] = dashboards = Streams(sessions.journal_feed, StreamLimits(
        settings.dashboard_streams, settings.dashboard_queue_bytes, settings.journal_body_bytes), "serve")
    app.on_shutdown.append(dashboards.end_all)
    app[OVERRIDE_CHECKER] = checker
    app[DIALECTS] = dialects = {}
    app[METHOD_OVERRIDES] = method_overrides = {}
    sessionless: set[object] = set()
    # One resource a path, with a route for each of its operations: the router matches a request's path once,
    # then looks its method up (a resource a route, as one named after each operation would be, is matched in
    # turn until one has the method).
    resources: dict[str, web.Resource] = {}
    for document, handlers in ((contract, HANDLERS), (admin_contract, admin.HANDLERS)):
        templates = {op.path for op in document.operations.values()}
        for op, handle in endpoints(document, handlers, app[BODIES], settings.max_json_depth):
            template = route_template(op.path, templates)
            if template not in resources:
                resources[template] = app.router.add_resource(template)
            resources[template].add_route(op.method, handle)
            dialects[handle] = op.dialect
            if op.method_override is not None:
                method_overrides[handle] = (op.method_override.name, frozenset(op.override_methods))
            if op.operation_id in admin.SESSIONLESS:
                sessionless.add(handle)
    app[SESSIONLESS] = frozenset(sessionless)
    app.cleanup_ctx.append(_sweeping)
    app.cleanup_ctx.append(delivering)
    pipeline = Pipeline(app)
    app.middlewares.append(pipeline.middleware())
    app[READS_CUSTOM_VERBS] = True  # the pipeline reads them
    app[LOW_LEVEL] = pipeline.low_level
    return app
