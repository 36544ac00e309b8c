"""Engine API: conversations, their activities, and the Direct API (Engine docs, Conversations, Interactions and
Direct; decisions.md, Engine)."""

from __future__ import annotations

from aiohttp import web

from mockhub.web.endpoint import Call
from mockhub.web.rendering import json_response


def establish_conversation(call: Call) -> web.Response:
    return json_response(call.store.conversations.establish(call.tenant_id, call.body))


def get_conversation(call: Call) -> web.Response:
    return json_response(call.store.conversations.get(call.tenant_id, call.path["conversationId"]))


def get_activities(call: Call) -> web.Response:
    return json_response(call.store.conversations.activities_of(
        call.tenant_id, call.path["conversationId"], call.query["type"], call.query["leid"]))


def send_direct_activity(call: Call) -> web.Response:
    """Store the activity, and hand its webhook deliveries to the session's outbox."""
    accepted = call.store.conversations.send(call.tenant_id, call.path["conversationId"], call.body)
    call.session.outbox.send(accepted.deliveries, call.store.ctx.clock)
    return json_response(accepted.answer)
