"""Typed keys of what hangs off the app and the request (aiohttp: "No Singletons Please")."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.contract.dialects import Dialect
from mockhub.services.control import Control
from mockhub.services.override_check import OverrideChecker
from mockhub.services.sessions import Session, Sessions
from mockhub.settings import Settings
from mockhub.web.accesslog import AccessLog
from mockhub.web.bodies import Bodies
from mockhub.web.cors import CorsPolicy
from mockhub.web.dashboard.streams import Streams

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
OVERRIDE_CHECKER = web.AppKey("mockhub_override_checker", OverrideChecker)
"""Checks overrides, and the answers their merges make, against the APIs' contract."""
CONTROL = web.AppKey("mockhub_control", Control)
"""The control plane: every control operation, for the control API and the pytest fixture."""
DASHBOARDS = web.AppKey("mockhub_dashboards", Streams)
"""The open dashboards' event streams, fed by every session's journal."""
BODIES = web.AppKey("mockhub_bodies", Bodies)
"""Reads request bodies within --max-body-bytes each and --max-pending-body-bytes together."""


def request_key(name: str, kind: type) -> Any:
    """A key of what the app keeps on a request: aiohttp's typed ``RequestKey`` where it has one (3.14 and
    later, which warn about plain strings), the plain name on older releases."""
    maker = getattr(web, "RequestKey", None)
    return name if maker is None else maker(name, kind)


APP = request_key("mockhub_app", web.Application)
"""The app a request is answered by (kept on it by the pipeline: aiohttp's low-level server gives a handler a
:class:`aiohttp.web.BaseRequest`, which has no ``app``)."""
SESSION = request_key("mockhub_session", Session)
"""The :class:`~mockhub.services.sessions.Session` a request is answered in."""
APPLIED = request_key("mockhub_applied", int)
"""The generation of the session's state a request was applied to (its body whole), when it was applied."""
