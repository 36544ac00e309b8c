"""The cookie-host trap of browser apps, said in the log when it can be seen.

A browser app picks its session with the ``mockhub_session`` cookie it sets on its own page.
A cookie belongs to a host name, whatever the port: one set by a page on ``127.0.0.1:5173`` is
sent to ``127.0.0.1:8080``, never to ``localhost:8080``. Such an app's requests then carry no
session and silently land in the default one. The server cannot see a cookie that was not
sent, but it can see the likely case: a request from a page (``Origin``) on another host
name than the one it called, naming no session, while named sessions exist. That is logged,
once per page origin and for a bounded number of origins.
"""

from __future__ import annotations

import logging

from aiohttp import web

from mockhub.kernel.text import shown
from mockhub.services.sessions import SESSION_COOKIE, SESSION_HEADER, Sessions
from mockhub.web.hosts import host_name, origin_name

MAX_ORIGINS = 100
"""Page origins warned about at most (each once); past it, no more is said."""
KEPT_ORIGIN_CHARS = 256
"""Characters of an origin remembered: a client's header, so kept short."""

log = logging.getLogger("mockhub")


class CookieHostTrap:
    """Warns of pages whose requests name no session, likely because their cookie is on another host name."""

    __slots__ = ("_warned", "_limit")

    def __init__(self, limit: int = MAX_ORIGINS) -> None:
        self._warned: set[str] = set()
        self._limit = limit

    def check(self, request: web.BaseRequest, sessions: Sessions) -> None:
        """Called for a request that names no session: log the trap if its page is on another host name than
        the one it called while named sessions exist (once per page origin)."""
        origin = request.headers.get("Origin")
        if origin is None or not sessions.named_count or len(self._warned) >= self._limit:
            return
        kept = origin[:KEPT_ORIGIN_CHARS]
        if kept in self._warned:
            return
        page, called = origin_name(origin), host_name(request.headers.get("Host", ""))
        if not page or not called or page == called:
            return
        self._warned.add(kept)
        log.warning("mockhub: a page at %s called %s naming no session (no %s header, no %s cookie) while named "
                    "sessions exist: it was answered from the default session. A cookie belongs to the host name "
                    "it was set on: one set on %s is not sent to %s. Open the app and the mock under one host "
                    "name, or send %s. (Said once per page origin.)", shown(origin), shown(called), SESSION_HEADER,
                    SESSION_COOKIE, shown(page), shown(called), SESSION_HEADER)
