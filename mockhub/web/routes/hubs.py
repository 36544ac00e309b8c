"""Portal API: hubs (Portal docs, Hubs)."""

from __future__ import annotations

from aiohttp import web

from mockhub.web.endpoint import Call
from mockhub.web.rendering import json_response


def create_hub(call: Call) -> web.Response:
    return json_response(call.store.create_hub(call.tenant_id, call.body))


def list_hubs(call: Call) -> web.Response:
    return json_response(call.store.hubs.page(call.tenant_id, call.query["pageNumber"], call.query["pageSize"]))


def get_hub(call: Call) -> web.Response:
    return json_response(call.store.hubs.get(call.tenant_id, call.path["hubId"]))


def update_hub(call: Call) -> web.Response:
    return json_response(call.store.hubs.update(call.tenant_id, call.path["hubId"], call.body))


def delete_hub(call: Call) -> web.Response:
    return json_response(call.store.delete_hub(call.tenant_id, call.path["hubId"]))
