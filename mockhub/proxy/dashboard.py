"""The proxy's own view of the dashboard (``/__mockhub/ui``): each exchange forwarded, with its violations.

The page and the streams are ``serve``'s (:mod:`mockhub.web.dashboard`); what a dashboard is sent of an
exchange is the proxy's: the answer as it was passed on (its body decoded, as it was checked) and what the
checks found on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockhub.kernel.jsonio import dumps
from mockhub.proxy.state import PROXY
from mockhub.proxy.violations import Violation
from mockhub.services.journal import Entry
from mockhub.web.dashboard import page
from mockhub.web.dashboard.streams import Seen, ShownAnswer


@dataclass(frozen=True, slots=True)
class Exchange:
    """What the proxy hands its journal with an exchange while a dashboard is open."""

    response: web.StreamResponse
    """The answer passed on to the client (the target's, or the proxy's own error)."""
    body: bytes
    """Its body as it was checked: decoded, at most what the proxy keeps (``complete`` says whether whole)."""
    complete: bool
    violations: list[Violation]


def seen_on_proxy(entry: Entry, exchange: Any, body_bytes: int) -> Seen:
    if not isinstance(exchange, Exchange):
        return Seen.of(entry, None, ())
    answer = ShownAnswer.of(exchange.response, exchange.body, body_bytes)
    if not exchange.complete and not answer.body_cut:
        answer = ShownAnswer(answer.status, answer.headers, answer.body, True)
    violations = tuple(violation.to_json() for violation in exchange.violations)
    return Seen.of(entry, answer, violations, len(dumps(violations)) if violations else 0)


async def dashboard(request: web.Request) -> web.Response:
    return page.page("proxy", request.app[PROXY].settings.admin_token is not None)


async def script(request: web.Request) -> web.Response:
    return page.asset("dashboard.js")


async def style(request: web.Request) -> web.Response:
    return page.asset("dashboard.css")


async def stream(request: web.Request) -> web.StreamResponse:
    """Every exchange as it is journaled, until the page leaves or the proxy stops."""
    return await request.app[PROXY].dashboards.serve(request)
