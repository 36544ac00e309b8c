"""Portal API: integrations (Portal docs, Integrations; decisions.md, Integrations)."""

from __future__ import annotations

from aiohttp import web

from mockhub.store.integrations import channel_of
from mockhub.web.endpoint import Call
from mockhub.web.rendering import json_response


def create_or_update_integration(call: Call) -> web.Response:
    """A hub id creates, an integration id updates: the target decides which schema the body must fit.

    The contract leaves this body to the handler (``x-mockhub-body-checked-by-handler``), so a
    bad body gets the problems of the schema that applies, not of the create-or-update union.
    """
    integrations = call.store.integrations
    kind, target = integrations.target(call.tenant_id, call.path["id"])
    if kind == "hub":
        call.contract.check("IntegrationCreate", call.body)
        return json_response(integrations.create(call.tenant_id, target["hubId"], call.body))
    update_schema = channel_of(target["channelId"]).update_schema
    call.contract.check("IntegrationUpdate", call.body, {"configuration": update_schema})
    return json_response(integrations.update(call.tenant_id, target["integrationId"], call.body))


def get_integrations_by_channel(call: Call) -> web.Response:
    integrations = call.store.integrations.by_channel(call.tenant_id, call.path["hubId"], call.path["channelType"])
    return json_response(integrations)


def get_integration(call: Call) -> web.Response:
    return json_response(call.store.integrations.get(call.tenant_id, call.path["integrationId"]))


def delete_integration(call: Call) -> web.Response:
    return json_response(call.store.delete_integration(call.tenant_id, call.path["integrationId"]))


def list_integrations(call: Call) -> web.Response:
    query = call.query
    return json_response(call.store.integrations.page(call.tenant_id, query["hubId"], query["pageNumber"],
                                                      query["pageSize"]))
