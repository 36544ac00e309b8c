"""Typed keys of what hangs off the app and the request (aiohttp: "No Singletons Please")."""

from __future__ import annotations

from collections import deque

from aiohttp import web

from mockhub.accesslog import AccessLog
from mockhub.contracts import Contract
from mockhub.cors import CorsPolicy
from mockhub.fixtures import FixtureLoader
from mockhub.sessions import Session, Sessions
from mockhub.settings import Settings

SETTINGS = web.AppKey("mockhub_settings", Settings)
CONTRACT = web.AppKey("mockhub_contract", Contract)
ADMIN_CONTRACT = web.AppKey("mockhub_admin_contract", Contract)
FIXTURES = web.AppKey("mockhub_fixtures", FixtureLoader)
SESSIONS = web.AppKey("mockhub_sessions", Sessions)
CORS = web.AppKey("mockhub_cors", CorsPolicy)
ACCESS_LOG: web.AppKey[AccessLog | None] = web.AppKey("mockhub_access_log")
"""The access log, or ``None`` when it is off (the pytest plugin, --quiet)."""
SERVER_ERRORS: web.AppKey[deque[str]] = web.AppKey("mockhub_server_errors")
"""Tracebacks of unexpected exceptions, for the pytest plugin to raise in the failing test."""
SESSION: web.RequestKey[Session] = web.RequestKey("mockhub_session", Session)
