"""The proxy's control API under /__mockhub/: the operations of contracts/admin.json that name ``proxy``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from mockhub import __version__
from mockhub.kernel.errors import ApiError, ValidationFailed
from mockhub.kernel.text import shown
from mockhub.proxy import dashboard
from mockhub.proxy.state import PROXY
from mockhub.web.rendering import json_response, page_response


class NotRecording(ApiError):
    """409: ``POST /__mockhub/record`` to a proxy started without ``--record``."""

    status, code, message = 409, 106, "The proxy was started without --record FILE: there is nowhere to record to."


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "version": __version__})


async def openapi(request: web.Request) -> web.Response:
    """The contract the proxy checks with: OpenAPI 3.1, or its 3.2 form (``?version=3.2``)."""
    contract = request.app[PROXY].contract
    version = request.query.get("version", "3.1")
    if version not in ("3.1", "3.2"):
        raise ValidationFailed(f"Value '{shown(version)}' of 'version' is not valid; expected one of: 3.1, 3.2.")
    return web.Response(body=contract.published_3_2 if version == "3.2" else contract.published,
                        content_type="application/json")


async def list_requests(request: web.Request) -> web.Response:
    """The journal of forwarded requests, oldest first (tokens masked), a page at a time as on ``serve``."""
    proxy = request.app[PROXY]
    query = proxy.admin_contract.operations["adminListRequests"].parse_query(request.query)
    return page_response(*proxy.journal.page(query["after"], query["limit"]), request.rel_url)


async def clear_requests(request: web.Request) -> web.Response:
    request.app[PROXY].journal.clear()
    return json_response({"status": "cleared"})


async def list_violations(request: web.Request) -> web.Response:
    return json_response([violation.to_json() for violation in request.app[PROXY].violations.latest()])


async def clear_violations(request: web.Request) -> web.Response:
    request.app[PROXY].violations.clear()
    return json_response({"status": "cleared"})


class CannotWrite(ApiError):
    """500: the file a report goes to cannot be written (its folder gone, the disk full)."""

    status, code = 500, 100


async def record(request: web.Request) -> web.Response:
    proxy = request.app[PROXY]
    if proxy.recorder is None:
        raise NotRecording()
    try:
        return json_response(proxy.write_record())
    except OSError as exc:
        raise CannotWrite(f"Cannot write {proxy.settings.record}: {exc.strerror or exc}.") from None


HANDLERS: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {
    "adminHealth": health,
    "adminOpenapi": openapi,
    "adminListRequests": list_requests,
    "adminClearRequests": clear_requests,
    "proxyListViolations": list_violations,
    "proxyClearViolations": clear_violations,
    "proxyRecord": record,
    "adminDashboard": dashboard.dashboard,
    "adminDashboardScript": dashboard.script,
    "adminDashboardStyle": dashboard.style,
    "adminDashboardStream": dashboard.stream,
}
