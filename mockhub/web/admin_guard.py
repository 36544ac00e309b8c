"""Who may call the control API (``/__mockhub/``): one guard for ``mockhub serve`` and ``mockhub proxy``.

A call is checked before it looks for a session (a refused call must not make or evict one):

1. its ``Host`` must be a name that cannot be rebound to another site (:class:`~mockhub.web.hosts.HostPolicy`);
2. it must not come from a page that may not read the control API (:meth:`CorsPolicy.foreign`): a cross-site
   form or a body-less fetch reaches the server without a preflight, so such a call is refused, not only left
   unreadable;
3. with ``--admin-token``, it must carry ``X-Mockhub-Admin-Token`` (but for the dashboard's page and assets,
   :data:`PAGE_PATHS`: a browser opening a page cannot send a header, and they hold no data; every call the
   page makes carries the token a person types into it).

Health is open to all three (docker's HEALTHCHECK, probes by pod IP or service name). A refusal
is readable by the page it refuses (CORS headers for its Origin): it says why and which option
allows the call, and nothing else.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from mockhub.contract.dialects import HEALTH_PATH, Dialect
from mockhub.kernel.errors import ApiError, Forbidden, Unauthorized
from mockhub.web.cors import CorsPolicy
from mockhub.web.hosts import HostPolicy
from mockhub.web.rendering import error_response

ADMIN_TOKEN_HEADER = "X-Mockhub-Admin-Token"
PAGE_PATHS = frozenset({"/__mockhub/ui", "/__mockhub/ui/dashboard.js", "/__mockhub/ui/dashboard.css"})
"""The dashboard's page and its assets: static, with no data, so they need no admin token (Host and page still
checked)."""


class AdminGuard:
    """The control API's checks of a call: its Host, the page it comes from, the admin token."""

    __slots__ = ("cors", "hosts", "admin_token")

    def __init__(self, cors: CorsPolicy, hosts: HostPolicy, admin_token: str | None) -> None:
        self.cors = cors
        self.hosts = hosts
        self.admin_token = admin_token

    def refusal(self, request: web.BaseRequest) -> ApiError | None:
        """403 for a Host name that could be rebound, 403 for a page that may not call, 401 without the admin
        token; ``None`` for a call that may go on (health always may)."""
        if request.path == HEALTH_PATH:
            return None
        if not self.hosts.allows(request.host):
            return Forbidden("The control API answers only local host names and IP addresses; allow this one "
                             "with --allowed-host.")
        if self.cors.foreign(request):
            return self.cors.refusal(request)
        expected = self.admin_token
        if expected is None or request.path in PAGE_PATHS or hmac.compare_digest(
                request.headers.get(ADMIN_TOKEN_HEADER, "").encode(), expected.encode()):
            return None
        return Unauthorized(f"The control API needs the header {ADMIN_TOKEN_HEADER} with the server's admin token.")

    def refused(self, request: web.BaseRequest) -> web.StreamResponse | None:
        """The answer to a call the guard refuses, readable by the page it refuses; ``None`` when it may go on."""
        error = self.refusal(request)
        if error is None:
            return None
        return self.cors.readable_refusal(request, error_response(error, Dialect.ADMIN))
