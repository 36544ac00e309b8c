"""CORS for browser apps (SPEC section 6): on by default for local development.

The request's Origin is echoed with credentials allowed (a browser app on any dev port
works), or only the ``--cors-origin`` list is. Preflights are answered for every path,
custom verbs (LOOKUP) and mockhub's own headers included, before routing, so an unknown
route still gets its 404 read by the app.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, LOOKUP, OPTIONS"
ALLOWED_HEADERS = ("Authorization, Content-Type, X-HTTP-Method-Override, X-Mockhub-Fault, X-Mockhub-Delay, "
                   "X-Mockhub-Session, X-Mockhub-Admin-Token")
EXPOSED_HEADERS = "Retry-After, Allow, WWW-Authenticate, Content-Length"
PREFLIGHT_MAX_AGE = "600"


def cors_middleware(origins: Sequence[str]) -> Middleware:
    """A middleware allowing ``origins`` (any origin when empty)."""
    allowed = frozenset(o.rstrip("/") for o in origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None or (allowed and origin not in allowed):
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            requested = request.headers.get("Access-Control-Request-Headers")
            response: web.StreamResponse = web.Response(status=204, headers={
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                # Echo what the browser asks for: a browser app may send any header it likes.
                "Access-Control-Allow-Headers": requested or ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            })
        else:
            response = await handler(request)
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers.add("Vary", "Origin")
        return response

    return cors
