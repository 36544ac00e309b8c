"""The control API under /__mockhub/ (SPEC section 6), described by contracts/admin.json.

Its routes are built like the APIs' (contract-driven, thin handlers). It is never
faulted and never journaled.
"""

from __future__ import annotations

from aiohttp import web

from mockhub import __version__, docs_page
from mockhub.endpoint import Call, Handler
from mockhub.errors import NotFound, ValidationFailed
from mockhub.fixtures import FixtureError, FixtureSource, dump
from mockhub.jsonio import json_response
from mockhub.keys import ADMIN_CONTRACT, CONTRACT, FIXTURES, SESSIONS


def health(call: Call) -> web.Response:
    """Liveness, for docker's HEALTHCHECK and for scripts waiting on start-up."""
    return json_response({"status": "ok", "version": __version__})


def openapi(call: Call) -> web.Response:
    """The APIs' contract, as this server validates with it."""
    response = web.Response(body=call.request.app[CONTRACT].published)
    response.content_type = "application/json"
    return response


def docs(call: Call) -> web.Response:
    """The contract rendered for a person, with the tokens the start-up data accepts."""
    app = call.request.app
    tenants = app[SESSIONS].startup.tenants.by_id.values()
    tokens = [(token, tenant["tenantId"]) for tenant in tenants for token in tenant["tokens"]]
    base = f"{call.request.scheme}://{call.request.host}"
    page = docs_page.render(app[CONTRACT], app[ADMIN_CONTRACT], tokens, base)
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def reset(call: Call) -> web.Response:
    """Back to the start-up state: data, random sequence, clock, fault rules, journal."""
    call.request.app[SESSIONS].reset(call.session)
    return json_response({"status": "reset", "session": call.session.name})


def get_state(call: Call) -> web.Response:
    """The session's state in the fixture format (loading it back gives the same state)."""
    return json_response(dump(call.store))


def put_state(call: Call) -> web.Response:
    """Replace the session's state; the random sequence and the clock go on where they were."""
    try:
        store = call.request.app[FIXTURES].replace(call.store, FixtureSource("PUT /__mockhub/state", call.body))
    except FixtureError as exc:
        raise ValidationFailed(str(exc)) from None
    call.session.store = store
    counts = {section: len(records) for section, records in dump(store).items()}
    return json_response({"status": "replaced", "session": call.session.name, "counts": counts})


def list_faults(call: Call) -> web.Response:
    return json_response(call.session.faults.to_json())


def add_faults(call: Call) -> web.Response:
    rules = call.body if isinstance(call.body, list) else [call.body]
    return json_response(call.session.faults.add(rules), status=201)


def clear_faults(call: Call) -> web.Response:
    call.session.faults.clear()
    return json_response({"status": "cleared"})


def remove_fault(call: Call) -> web.Response:
    rule_id = call.path["ruleId"]
    if not call.session.faults.remove(rule_id):
        raise NotFound(f"No fault rule '{rule_id}'.")
    return json_response({"status": "removed"})


def list_sessions(call: Call) -> web.Response:
    return json_response(call.request.app[SESSIONS].describe())


def drop_session(call: Call) -> web.Response:
    name = call.path["name"]
    if not call.request.app[SESSIONS].drop(name):
        raise NotFound(f"No session '{name}'.")
    return json_response({"status": "dropped"})


def list_requests(call: Call) -> web.Response:
    """The request journal, oldest first."""
    return json_response([entry.to_json() for entry in call.session.journal.entries()])


def clear_requests(call: Call) -> web.Response:
    call.session.journal.clear()
    return json_response({"status": "cleared"})


HANDLERS: dict[str, Handler] = {
    "adminHealth": health,
    "adminOpenapi": openapi,
    "adminDocs": docs,
    "adminReset": reset,
    "adminGetState": get_state,
    "adminPutState": put_state,
    "adminListFaults": list_faults,
    "adminAddFault": add_faults,
    "adminClearFaults": clear_faults,
    "adminRemoveFault": remove_fault,
    "adminListSessions": list_sessions,
    "adminDropSession": drop_session,
    "adminListRequests": list_requests,
    "adminClearRequests": clear_requests,
}
