"""Typed keys of what hangs off the app and the request (aiohttp: "No Singletons Please")."""

from __future__ import annotations

from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.contract.dialects import Dialect
from mockhub.engine.control import Control
from mockhub.engine.sessions import Session, Sessions
from mockhub.settings import Settings
from mockhub.web.accesslog import AccessLog
from mockhub.web.bodies import Bodies
from mockhub.web.cors import CorsPolicy

SETTINGS = web.AppKey("mockhub_settings", Settings)
CONTRACT = web.AppKey("mockhub_contract", Contract)
ADMIN_CONTRACT = web.AppKey("mockhub_admin_contract", Contract)
SESSIONS = web.AppKey("mockhub_sessions", Sessions)
CORS = web.AppKey("mockhub_cors", CorsPolicy)
ACCESS_LOG: web.AppKey[AccessLog | None] = web.AppKey("mockhub_access_log")
"""The access log, or ``None`` when it is off (the pytest plugin, --quiet)."""
DIALECTS: web.AppKey[dict[object, Dialect]] = web.AppKey("mockhub_dialects")
"""The error dialect of every route, by its handler (what a middleware is given), as the contracts declare."""
METHOD_OVERRIDES: web.AppKey[dict[object, tuple[str, frozenset[str]]]] = web.AppKey("mockhub_method_overrides")
"""By handler, for the operations that take ``X-HTTP-Method-Override``: the header and the methods it may name."""
SESSIONLESS: web.AppKey[frozenset[object]] = web.AppKey("mockhub_sessionless")
"""The handlers of the control calls that act on no session (health, docs, the session list...)."""
CONTROL = web.AppKey("mockhub_control", Control)
"""The control plane: every control operation, for the control API and the pytest fixture."""
BODIES = web.AppKey("mockhub_bodies", Bodies)
"""Reads request bodies within --max-body-bytes each and --max-pending-body-bytes together."""
SESSION: web.RequestKey[Session] = web.RequestKey("mockhub_session", Session)
APPLIED: web.RequestKey[int] = web.RequestKey("mockhub_applied", int)
"""The generation of the session's state a request was applied to (its body whole), when it was applied."""
