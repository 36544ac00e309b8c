"""Portal API: the tenant's API clients and their secrets (Portal docs, Tenants)."""

from __future__ import annotations

from aiohttp import web

from mockhub.web.endpoint import Call
from mockhub.web.rendering import json_response


def get_client(call: Call) -> web.Response:
    return json_response(call.store.identity.describe(call.tenant_id, call.path["clientId"]))


def add_client_token(call: Call) -> web.Response:
    return json_response(call.store.identity.add_secret(call.tenant_id, call.path["clientId"], call.body))


def delete_client_token(call: Call) -> web.Response:
    return json_response(call.store.identity.delete_secret(call.tenant_id, call.path["clientId"],
                                                           int(call.path["tokenId"])))
