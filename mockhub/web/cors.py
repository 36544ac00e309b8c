"""CORS for browser apps (decisions.md, Control API and sessions): on by default for local development.

On the API routes the request's Origin is echoed with credentials allowed (a browser app
on any dev port works), or only the ``--cors-origin`` list is. The control API
(``/__mockhub/``), which can read every tenant's token, lets only pages on this machine
(:func:`mockhub.web.hosts.is_local_origin`) and that list read its answers.
Preflights are answered for every path, custom verbs (LOOKUP) and mockhub's own headers
included, before routing, so an unknown route still gets its 404 read by the app; a
preflight from an origin that may not call is a 403 in the API's format that names
``--cors-origin``. The core middleware applies this policy, so a request without an Origin
pays one header lookup.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from mockhub.contract.dialects import ADMIN_PREFIX, dialect_of_path
from mockhub.kernel.errors import Forbidden
from mockhub.kernel.text import shown
from mockhub.web.hosts import is_local_origin
from mockhub.web.rendering import error_response

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, LOOKUP, OPTIONS"
ALLOWED_HEADERS = ("Authorization, Content-Type, X-HTTP-Method-Override, X-Mockhub-Fault, X-Mockhub-Delay, "
                   "X-Mockhub-Session, X-Mockhub-Admin-Token")
EXPOSED_HEADERS = ("Retry-After", "Allow", "WWW-Authenticate", "Content-Length")
"""Exposed on every answer; an answer's own other headers (an override's) are exposed with them."""
_SAFELISTED = frozenset({"cache-control", "content-language", "content-length", "content-type", "expires",
                         "last-modified", "pragma", "retry-after", "allow", "www-authenticate"})
"""Headers a script reads without them being exposed, or exposed already."""
PREFLIGHT_MAX_AGE = "600"


class CorsPolicy:
    """Which origins may call, and the headers that tell the browser so."""

    __slots__ = ("_allowed",)

    def __init__(self, origins: Sequence[str]) -> None:
        self._allowed = frozenset(o.rstrip("/") for o in origins)

    def foreign(self, request: web.BaseRequest) -> bool:
        """Whether the request comes from a page that may not read its answer (:meth:`origin_of`). On the control
        API such a call is refused: a cross-site form or body-less fetch reaches the server without asking first."""
        return "Origin" in request.headers and self.origin_of(request) is None

    def origin_of(self, request: web.BaseRequest) -> str | None:
        """The request's Origin when it may read the answer, else ``None``.

        API routes: any origin when no list was given, else a listed one. Control API: a listed
        origin, or a page on this machine; never any origin at all.
        """
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        listed = origin in self._allowed
        if request.path.startswith(ADMIN_PREFIX):
            return origin if listed or is_local_origin(origin) else None
        return origin if listed or not self._allowed else None

    def refusal(self, request: web.BaseRequest) -> Forbidden:
        """Why the request's page may not call: the 403 that names ``--cors-origin``."""
        if request.path.startswith(ADMIN_PREFIX):
            return Forbidden("The control API answers pages on this machine only (localhost, *.localhost, "
                             "127.x.x.x, [::1]); allow this page's origin with --cors-origin.")
        origin = shown(request.headers.get("Origin", ""))
        return Forbidden(f"The origin '{origin}' may not call this server: it answers pages of the origins given "
                         f"with --cors-origin only; add this one with --cors-origin.")

    def screen(self, request: web.BaseRequest) -> tuple[str | None, web.Response | None]:
        """The request's origin when it may read the answer (:meth:`origin_of`), and the answer to the request
        when it is a preflight (:meth:`preflight`)."""
        origin = self.origin_of(request)
        return origin, self.preflight(request, origin)

    def preflight(self, request: web.BaseRequest, origin: str | None) -> web.Response | None:
        """The answer to a browser's preflight (``None`` when the request is not one): 204 for an ``origin``
        that may call, else the 403 of :meth:`refusal` in the API's format (a preflight answered anything
        but 2xx stops the call it asks about)."""
        if not is_preflight(request):
            return None
        if origin is None:
            return error_response(self.refusal(request), dialect_of_path(request.path))
        requested = request.headers.get("Access-Control-Request-Headers")
        response = web.Response(status=204, headers={
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            # Echo what the browser asks for: a browser app may send any header it likes.
            "Access-Control-Allow-Headers": requested or ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        })
        CorsPolicy.allow(response, origin, preflight=True)
        return response

    def readable_refusal(self, request: web.BaseRequest, response: web.StreamResponse) -> web.StreamResponse:
        """A refusal of the control API made readable by the page it refuses, even one that may read nothing
        else there: the app can show why (the option that allows it) instead of a bare "Failed to fetch".
        A page that may read the control API gets its headers with every answer anyway."""
        origin = request.headers.get("Origin")
        if origin is not None and self.origin_of(request) is None:
            self.allow(response, origin)
        return response

    @staticmethod
    def allow(response: web.StreamResponse, origin: str, preflight: bool = False) -> web.StreamResponse:
        """Mark ``response`` readable by ``origin``'s scripts."""
        headers = response.headers
        if not preflight:  # the answer's own headers too (an override's X-Total-Count, Location...)
            own = [name for name in headers if name.lower() not in _SAFELISTED]
            headers["Access-Control-Expose-Headers"] = ", ".join((*EXPOSED_HEADERS, *own))
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        headers.add("Vary", "Origin")
        return response


def is_preflight(request: web.BaseRequest) -> bool:
    """Whether the request is a browser's CORS preflight: a question about a call, not one."""
    return (request.method == "OPTIONS" and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers)
