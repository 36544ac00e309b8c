"""The dashboard's operations on ``mockhub serve`` (the proxy has its own, on the same page and streams)."""

from __future__ import annotations

from aiohttp import web

from mockhub.web.dashboard import page
from mockhub.web.dashboard.verdict import verdict
from mockhub.web.endpoint import AnyHandler, Call
from mockhub.web.keys import CONTRACT, DASHBOARDS, SETTINGS
from mockhub.web.rendering import json_response


def dashboard(call: Call) -> web.Response:
    return page.page("serve", call.app[SETTINGS].admin_token is not None)


def script(call: Call) -> web.Response:
    return page.asset("dashboard.js")


def style(call: Call) -> web.Response:
    return page.asset("dashboard.css")


async def stream(call: Call) -> web.StreamResponse:
    """Every session's requests as they are journaled, until the page leaves or the server stops."""
    return await call.app[DASHBOARDS].serve(call.request)


def check_answer(call: Call) -> web.Response:
    return json_response(verdict(call.app[CONTRACT], call.body))


HANDLERS: dict[str, AnyHandler] = {
    "adminDashboard": dashboard,
    "adminDashboardScript": script,
    "adminDashboardStyle": style,
    "adminDashboardStream": stream,
    "adminDashboardVerdict": check_answer,
}
"""The dashboard's operations; none acts on a session."""
