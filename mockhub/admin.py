"""The control API under /__mockhub/ (SPEC section 6); never faulted, never journaled."""

from __future__ import annotations

from aiohttp import web

from mockhub import __version__
from mockhub.jsonio import json_response
from mockhub.keys import CONTRACT, SESSION, SESSIONS

PREFIX = "/__mockhub"


async def health(request: web.Request) -> web.Response:
    """Liveness, for docker's HEALTHCHECK and for scripts waiting on start-up."""
    return json_response({"status": "ok", "version": __version__})


async def openapi(request: web.Request) -> web.Response:
    """The contract this server validates with."""
    response = web.Response(body=request.app[CONTRACT].published)
    response.content_type = "application/json"
    return response


async def reset(request: web.Request) -> web.Response:
    """Back to the start-up state: data, random sequence, clock, journal."""
    session = request[SESSION]
    request.app[SESSIONS].reset(session)
    return json_response({"status": "reset", "session": session.name})


async def list_requests(request: web.Request) -> web.Response:
    """The request journal, oldest first."""
    return json_response([entry.to_json() for entry in request[SESSION].journal.entries()])


async def clear_requests(request: web.Request) -> web.Response:
    request[SESSION].journal.clear()
    return json_response({"status": "cleared"})


def add_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get(f"{PREFIX}/health", health, allow_head=True),
        web.get(f"{PREFIX}/openapi.json", openapi),
        web.post(f"{PREFIX}/reset", reset),
        web.get(f"{PREFIX}/requests", list_requests),
        web.delete(f"{PREFIX}/requests", clear_requests),
    ])
