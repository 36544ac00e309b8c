"""Typed keys of what hangs off the app and the request (aiohttp: "No Singletons Please")."""

from __future__ import annotations

from aiohttp import web

from mockhub.contracts import Contract
from mockhub.fixtures import FixtureLoader
from mockhub.sessions import Session, Sessions
from mockhub.settings import Settings

SETTINGS = web.AppKey("mockhub_settings", Settings)
CONTRACT = web.AppKey("mockhub_contract", Contract)
ADMIN_CONTRACT = web.AppKey("mockhub_admin_contract", Contract)
FIXTURES = web.AppKey("mockhub_fixtures", FixtureLoader)
SESSIONS = web.AppKey("mockhub_sessions", Sessions)
SERVER_ERRORS = web.AppKey("mockhub_server_errors", list[str])
"""Tracebacks of unexpected exceptions, for the pytest plugin to raise in the failing test."""
SESSION: web.RequestKey[Session] = web.RequestKey("mockhub_session", Session)
