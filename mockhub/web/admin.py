"""The control API under /__mockhub/, described by contracts/admin.json: an HTTP skin on the control plane.

Its routes are built like the APIs' (contract-driven, thin handlers), and each control
operation is one call of :class:`~mockhub.services.control.Control`, the object the pytest fixture
calls too. It is never faulted and never journaled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from mockhub import __version__
from mockhub.services.sessions import Session
from mockhub.web import docs_page
from mockhub.web.dashboard import routes as dashboard
from mockhub.web.endpoint import AnyHandler, Call
from mockhub.web.keys import ADMIN_CONTRACT, CONTRACT, SETTINGS
from mockhub.web.rendering import json_response, page_response


def health(call: Call) -> web.Response:
    """Liveness, for docker's HEALTHCHECK and for scripts waiting on start-up."""
    return json_response({"status": "ok", "version": __version__})


def openapi(call: Call) -> web.Response:
    """The APIs' contract, as this server validates with it: OpenAPI 3.1, or its 3.2 form (``?version=3.2``)."""
    contract = call.contract
    response = web.Response(body=contract.published_3_2 if call.query["version"] == "3.2" else contract.published)
    response.content_type = "application/json"
    return response


def docs(call: Call) -> web.Response:
    """The contract rendered for a person, with the tokens and ids of the start-up data."""
    app = call.app
    base = f"{call.request.scheme}://{call.request.host}"
    settings = app[SETTINGS]
    page = docs_page.render(app[CONTRACT], app[ADMIN_CONTRACT], call.control.startup_state(), base,
                            settings.cors_origins, settings.token_lifetime)
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def reset(call: Call) -> web.Response:
    """Back to the start-up state: data, random sequence, clock, fault rules, journal."""
    call.control.reset(call.session)
    return json_response({"status": "reset", "session": call.session.name})


def get_state(call: Call) -> web.Response:
    """The session's state in the fixture format (loading it back gives the same state)."""
    return json_response(call.control.state(call.session))


def put_state(call: Call) -> web.Response:
    """Replace the session's state; the random sequence and the clock go on where they were."""
    counts = call.control.replace_state(call.session, call.body, "PUT /__mockhub/state")
    return json_response({"status": "replaced", "session": call.session.name, "counts": counts})


def get_clock(call: Call) -> web.Response:
    return json_response(call.control.clock(call.session))


def set_clock(call: Call) -> web.Response:
    """Set the session's clock or move it on: tokens expire without waiting."""
    return json_response(call.control.change_clock(call.session, call.body))


def list_faults(call: Call) -> web.Response:
    return json_response(call.control.faults(call.session))


def _added(call: Call, add: Callable[..., list[dict[str, Any]]]) -> web.Response:
    """201 with the rules ``add`` made of the body: one rule, or a list of them (all or none)."""
    listed = isinstance(call.body, list)
    return json_response(add(call.session, call.body if listed else [call.body], listed=listed), status=201)


def _cleared(call: Call, clear: Callable[[Session], None]) -> web.Response:
    clear(call.session)
    return json_response({"status": "cleared"})


def _removed(call: Call, remove: Callable[[Session, str], None], id_name: str) -> web.Response:
    remove(call.session, call.path[id_name])
    return json_response({"status": "removed"})


def add_faults(call: Call) -> web.Response:
    return _added(call, call.control.add_faults)


def clear_faults(call: Call) -> web.Response:
    return _cleared(call, call.control.clear_faults)


def remove_fault(call: Call) -> web.Response:
    return _removed(call, call.control.remove_fault, "ruleId")


def list_overrides(call: Call) -> web.Response:
    return json_response(call.control.overrides(call.session))


def add_overrides(call: Call) -> web.Response:
    return _added(call, call.control.add_overrides)


def clear_overrides(call: Call) -> web.Response:
    return _cleared(call, call.control.clear_overrides)


def remove_override(call: Call) -> web.Response:
    return _removed(call, call.control.remove_override, "overrideId")


def list_sessions(call: Call) -> web.Response:
    return json_response(call.control.sessions())


def drop_session(call: Call) -> web.Response:
    call.control.drop_session(call.path["name"])
    return json_response({"status": "dropped"})


def _paged(call: Call, read: Callable[[Session, int, int], tuple[list[dict[str, Any]], int | None]]) -> web.Response:
    """A log of the session, oldest first, a page at a time (``limit``, ``after``; ``Link`` to the next)."""
    page, next_after = read(call.session, call.query["after"], call.query["limit"])
    return page_response(page, next_after, call.request.rel_url)


def list_requests(call: Call) -> web.Response:
    """The request journal (:func:`_paged`)."""
    return _paged(call, call.control.requests_page)


def clear_requests(call: Call) -> web.Response:
    return _cleared(call, call.control.clear_requests)


def send_activity(call: Call) -> web.Response:
    """A customer's message arrives on a channel: stored and delivered as any activity."""
    return json_response(call.control.customer_message(call.session, call.body))


def list_deliveries(call: Call) -> web.Response:
    """The webhook delivery log (:func:`_paged`)."""
    return _paged(call, call.control.deliveries_page)


def clear_deliveries(call: Call) -> web.Response:
    return _cleared(call, call.control.clear_deliveries)


def list_delivery_faults(call: Call) -> web.Response:
    return json_response(call.control.delivery_faults(call.session))


def add_delivery_faults(call: Call) -> web.Response:
    return _added(call, call.control.add_delivery_faults)


def clear_delivery_faults(call: Call) -> web.Response:
    return _cleared(call, call.control.clear_delivery_faults)


def remove_delivery_fault(call: Call) -> web.Response:
    return _removed(call, call.control.remove_delivery_fault, "ruleId")


HANDLERS: dict[str, AnyHandler] = {
    "adminHealth": health,
    "adminOpenapi": openapi,
    "adminDocs": docs,
    "adminReset": reset,
    "adminGetState": get_state,
    "adminPutState": put_state,
    "adminGetClock": get_clock,
    "adminSetClock": set_clock,
    "adminListFaults": list_faults,
    "adminAddFault": add_faults,
    "adminClearFaults": clear_faults,
    "adminRemoveFault": remove_fault,
    "adminListOverrides": list_overrides,
    "adminAddOverride": add_overrides,
    "adminClearOverrides": clear_overrides,
    "adminRemoveOverride": remove_override,
    "adminListSessions": list_sessions,
    "adminDropSession": drop_session,
    "adminListRequests": list_requests,
    "adminClearRequests": clear_requests,
    "adminSendActivity": send_activity,
    "adminListDeliveries": list_deliveries,
    "adminClearDeliveries": clear_deliveries,
    "adminListDeliveryFaults": list_delivery_faults,
    "adminAddDeliveryFault": add_delivery_faults,
    "adminClearDeliveryFaults": clear_delivery_faults,
    "adminRemoveDeliveryFault": remove_delivery_fault,
    **dashboard.HANDLERS,
}
SESSIONLESS = frozenset({"adminHealth", "adminDocs", "adminOpenapi", "adminListSessions", "adminDropSession",
                         *dashboard.HANDLERS})
"""The control operations that act on no session: they look for none (a session cookie cannot refuse them)."""
