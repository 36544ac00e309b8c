"""Conversations and their activities: the Engine API's rules (Engine docs, Conversations, Interactions and Direct;
decisions.md, Engine).

A conversation is between a customer integration and its hub: a Direct integration establishes
one for a binding (its own key for the customer: the same binding finds the same conversation),
and a message arriving on any customer channel (the control API's) does the same. Activities go
into a conversation from its customer or from an Agent or Bot integration of its hub; each is
stored in order and routed (:mod:`mockhub.store.webhooks`). A conversation goes with its
integration and its hub.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockhub.kernel.errors import (
    ConversationNotFound,
    EngineIntegrationNotFound,
    Forbidden,
    NoAgentOrBot,
    NotAllowed,
    Problem,
    ValidationFailed,
)
from mockhub.kernel.text import shown
from mockhub.store.activities import BUSINESS, CUSTOMER, activity_record, check_sendable, involves, source
from mockhub.store.context import Context
from mockhub.store.hubs import HubStore
from mockhub.store.integrations import IntegrationStore
from mockhub.store.layered import IdsByOwner, Layered
from mockhub.store.paging import Record
from mockhub.store.webhooks import DIRECT_CHANNEL, Delivery, deliveries

ADJECTIVES = ("Brave", "Calm", "Clever", "Curious", "Eager", "Gentle", "Happy", "Jolly", "Kind", "Lively", "Lucky",
              "Merry", "Nimble", "Proud", "Quick", "Witty")
ANIMALS = ("Badger", "Beaver", "Falcon", "Fox", "Heron", "Koala", "Lynx", "Moose", "Otter", "Owl", "Panda", "Puffin",
           "Raven", "Seal", "Tiger", "Wombat")
"""A customer's fun name when its profile gives none (Conversations > Establish: "a random fun-name")."""
PROFILE, ADDITIONAL = "profile", "additional"


@dataclass(frozen=True)
class Accepted:
    """An activity the Engine accepted: the activity as stored, its conversation and where it goes."""

    activity: Record
    conversation: Record
    deliveries: tuple[Delivery, ...]

    @property
    def answer(self) -> Record:
        """The Direct API's answer (Direct > Response): ``interactionId`` for a message only."""
        activity, conversation = self.activity, self.conversation
        out: Record = {"status": 200, "eventId": activity["eventId"], "externalId": activity["externalId"],
                       "hubId": conversation["hubId"], "conversationId": conversation["conversationId"],
                       "integrationId": activity["sender"]["integrationId"]}
        if "interactionId" in activity:
            out["interactionId"] = activity["interactionId"]
        return out


def established(conversation: Mapping[str, Any], is_new: bool) -> Record:
    """A conversation as Establish answers it."""
    return {"tenantId": conversation["tenantId"], "hubId": conversation["hubId"],
            "integrationId": conversation["integrationId"], "conversationId": conversation["conversationId"],
            "tokenId": conversation["tokenId"], "openedDateTime": conversation["openedDateTime"], "isNew": is_new,
            "properties": conversation["properties"]}


class ConversationStore:
    """Conversations by id, by (integration, binding), per integration and per hub; their activities in order.

    Every stored conversation has its integration (deleting one calls :meth:`remove_integration`, deleting a
    hub :meth:`remove_hub`).
    """

    __slots__ = ("_ctx", "_hubs", "_integrations", "by_id", "_by_binding", "_by_integration", "_by_hub",
                 "activities", "_of_conversation", "_last_activity", "_last_event_id")

    def __init__(self, ctx: Context, hubs: HubStore, integrations: IntegrationStore) -> None:
        self._ctx = ctx
        self._hubs = hubs
        self._integrations = integrations
        self.by_id: Layered[str, Record] = Layered()
        self._by_binding: Layered[tuple[str, str], str] = Layered()
        self._by_integration: IdsByOwner[str, str] = IdsByOwner()
        self._by_hub: IdsByOwner[str, str] = IdsByOwner()
        self.activities: Layered[int, Record] = Layered()
        """By a number of the session's, in the order they were accepted."""
        self._of_conversation: IdsByOwner[str, int] = IdsByOwner()
        self._last_activity = 0
        self._last_event_id = 0
        """The last eventId given: each is greater, so ``leid`` pages without repeats."""

    def copy(self, ctx: Context, hubs: HubStore, integrations: IntegrationStore) -> ConversationStore:
        """An independent copy: the copies share what neither has changed."""
        clone = ConversationStore(ctx, hubs, integrations)
        clone.by_id = self.by_id.copy()
        clone._by_binding = self._by_binding.copy()
        clone._by_integration = self._by_integration.copy()
        clone._by_hub = self._by_hub.copy()
        clone.activities = self.activities.copy()
        clone._of_conversation = self._of_conversation.copy()
        clone._last_activity, clone._last_event_id = self._last_activity, self._last_event_id
        return clone

    # --- conversations (Engine docs, Conversations)

    def establish(self, tenant_id: str, body: Mapping[str, Any]) -> Record:
        """The conversation of a Direct customer integration of the tenant and a binding: found (``isNew`` false,
        its properties as they were) or made from ``properties``."""
        integration = self._integration(tenant_id, body["integrationId"])
        if integration["channelId"] != DIRECT_CHANNEL or integration["integrationTypeId"] != CUSTOMER:
            raise ValidationFailed(problems=(Problem(206, (
                f"Integration '{integration['integrationId']}' is a {integration['channelId']} "
                f"{integration['integrationTypeId']} integration; a conversation is established by a Direct "
                "integration of the Customer type.")),))
        conversation, is_new = self._find_or_open(integration, body["binding"], body.get("properties", {}))
        return established(conversation, is_new)

    def get(self, tenant_id: str, conversation_id: str) -> Record:
        """Get Conversation: the conversation with its integration and hub; 404 ENG006500, 403 ENG000101."""
        conversation = self._conversation(tenant_id, conversation_id)
        integration = self._integrations.by_id[conversation["integrationId"]]
        hub = self._hubs.by_id[conversation["hubId"]]
        return {
            "conversationId": conversation["conversationId"],
            "integrationId": conversation["integrationId"],
            "tokenId": conversation["tokenId"],
            "integration": {
                "integrationId": integration["integrationId"], "hubId": integration["hubId"],
                "hub": {key: hub[key] for key in ("hubId", "tenantId", "name", "description", "statusId", "created",
                                                  "modified")},
                **{key: integration[key] for key in ("integrationTypeId", "channelId", "name", "statusId", "created",
                                                     "modified")},
            },
            "properties": conversation["properties"],
            "openedDateTime": conversation["openedDateTime"],
        }

    # --- activities (Engine docs, Interactions and Direct)

    def activities_of(self, tenant_id: str, conversation_id: str, side: str, leid: int) -> list[Record]:
        """Get Activities: those whose sender or recipient is of the integration type ``side`` (any case), with an
        eventId greater than ``leid``, oldest first."""
        conversation = self._conversation(tenant_id, conversation_id)
        side = side.capitalize()
        ids = self._of_conversation.get(conversation["conversationId"])
        return [activity for activity in (self.activities.many(ids) if ids is not None else ())
                if activity["eventId"] > leid and involves(activity, side)]

    def send(self, tenant_id: str, conversation_id: str, body: Mapping[str, Any]) -> Accepted:
        """The Direct API: an activity from the conversation's customer (no ``sender``, or its own integration) or
        from an Agent or Bot integration of its hub."""
        conversation = self._conversation(tenant_id, conversation_id)
        given = body.get("sender", {}).get("integrationId")
        if given is None or given.lower() == conversation["integrationId"]:
            return self._accept(conversation, self._integrations.by_id[conversation["integrationId"]], body)
        sender = self._integration(tenant_id, given)
        if sender["hubId"] != conversation["hubId"] or sender["integrationTypeId"] not in BUSINESS:
            raise NotAllowed(f"Integration '{sender['integrationId']}' ({sender['channelId']}, "
                             f"{sender['integrationTypeId']}) may not send into conversation "
                             f"'{conversation['conversationId']}': only its customer integration and the Agent and "
                             "Bot integrations of its hub send activities.")
        return self._accept(conversation, sender, body)

    def customer_message(self, body: Mapping[str, Any]) -> tuple[Accepted, bool]:
        """A message arriving on a customer channel (the control API's ``POST /__mockhub/activities``): into the
        conversation named, or the one of the integration and binding (made when new); whether it was new."""
        integration = self._integrations.by_id.get(body["integrationId"].lower())
        if integration is None:
            raise EngineIntegrationNotFound(f"Integration '{shown(body['integrationId'])}' does not exist.")
        if integration["integrationTypeId"] != CUSTOMER:
            raise ValidationFailed(problems=(Problem(206, (
                f"Integration '{integration['integrationId']}' is a {integration['integrationTypeId']} integration; "
                "customer messages arrive on a Customer integration (WebChat, TwilioSMS, Messenger, Direct...).")),))
        if "conversationId" in body:
            tenant_id = self._hubs.by_id[integration["hubId"]]["tenantId"]
            conversation = self._conversation(tenant_id, body["conversationId"])
            if conversation["integrationId"] != integration["integrationId"]:
                raise ValidationFailed(problems=(Problem(206, (
                    f"Conversation '{conversation['conversationId']}' is not integration "
                    f"'{integration['integrationId']}''s; name its own conversation or give a binding.")),))
            is_new = False
        else:
            conversation, is_new = self._find_or_open(integration, body["binding"], body.get("properties", {}))
        activity = {"type": "message", "message": body["message"]}
        if "externalId" in body:
            activity["externalId"] = body["externalId"]
        return self._accept(conversation, integration, activity), is_new

    # --- deletes

    def remove_integration(self, integration: Mapping[str, Any]) -> None:
        """Drop the conversations of a deleted integration, with their activities."""
        for conversation_id in list(self._by_integration.get(integration["integrationId"]) or ()):
            self._forget(self.by_id[conversation_id])

    def remove_hub(self, hub: Mapping[str, Any]) -> None:
        """Drop the conversations of a deleted hub, with their activities."""
        for conversation_id in list(self._by_hub.get(hub["hubId"]) or ()):
            self._forget(self.by_id[conversation_id])

    def release(self, count: int) -> bool:
        """Drop up to ``count`` of the records this copy alone holds; whether none are left."""
        return self.activities.release(count) and self.by_id.release(count)

    # --- inside

    def _integration(self, tenant_id: str, integration_id: str) -> Record:
        """The tenant's integration, or 404 ENG006000, 403 ENG000101 (another tenant's)."""
        integration = self._integrations.by_id.get(integration_id.lower())
        if integration is None:
            raise EngineIntegrationNotFound(f"Integration '{shown(integration_id)}' does not exist.")
        if self._hubs.by_id[integration["hubId"]]["tenantId"] != tenant_id:
            raise Forbidden(f"Integration '{integration['integrationId']}' belongs to another tenant.")
        return integration

    def _conversation(self, tenant_id: str, conversation_id: str) -> Record:
        """The tenant's conversation, or 404 ENG006500, 403 ENG000101 (another tenant's)."""
        conversation = self.by_id.get(conversation_id.lower())
        if conversation is None:
            raise ConversationNotFound(f"Conversation '{shown(conversation_id)}' does not exist.")
        if conversation["tenantId"] != tenant_id:
            raise Forbidden(f"Conversation '{conversation['conversationId']}' belongs to another tenant.")
        return conversation

    def _find_or_open(self, integration: Record, binding: str,
                      properties: Mapping[str, Mapping[str, Any]]) -> tuple[Record, bool]:
        found = self._by_binding.get((integration["integrationId"], binding))
        if found is not None:
            return self.by_id[found], False
        return self._open(integration, binding, properties), True

    def _open(self, integration: Record, binding: str, properties: Mapping[str, Mapping[str, Any]]) -> Record:
        """A new conversation of the integration and binding, its profile completed (Conversations > Establish)."""
        random = self._ctx.random
        conversation_id = self._ctx.new_id(self.by_id)
        given_profile = dict(properties.get(PROFILE, {}))
        profile = {"device": given_profile.pop("device", integration["channelId"]),
                   "full name": given_profile.pop("full name", f"{random.choice(ADJECTIVES)} "
                                                               f"{random.choice(ANIMALS)}"),
                   **given_profile}
        completed = {PROFILE: profile, ADDITIONAL: dict(properties.get(ADDITIONAL, {})),
                     **{name: dict(pairs) for name, pairs in properties.items() if name not in (PROFILE, ADDITIONAL)}}
        hub_id = integration["hubId"]
        conversation: Record = {
            "conversationId": conversation_id,
            "tenantId": self._hubs.by_id[hub_id]["tenantId"],
            "hubId": hub_id,
            "integrationId": integration["integrationId"],
            "binding": binding,
            "tokenId": base64.b64encode(bytes.fromhex(random.hex(32))).decode("ascii"),
            "properties": completed,
            "openedDateTime": self._ctx.clock.portal_tick(),
            "agentId": None,
        }
        self._ctx.quota.charge(conversation, None, False)
        self.by_id[conversation_id] = conversation
        self._by_binding[(integration["integrationId"], binding)] = conversation_id
        self._by_integration.changing(integration["integrationId"]).add(conversation_id)
        self._by_hub.changing(hub_id).add(conversation_id)
        return conversation

    def _accept(self, conversation: Record, sender: Record, body: Mapping[str, Any]) -> Accepted:
        """Store an activity of ``sender`` into ``conversation`` and say where it goes."""
        side = sender["integrationTypeId"]
        check_sendable(body, side)
        customer = self._integrations.by_id[conversation["integrationId"]]
        recipient = self._agent_of(conversation) if side == CUSTOMER else customer
        now = self._ctx.clock.tick()
        event_id = max(int(now.timestamp() * 1000), self._last_event_id + 1)
        activity = activity_record(
            body, side=side, event_id=event_id,
            interaction_id=self._ctx.random.uuid() if body["type"] == "message" else None,
            sender=source(sender, self._token_of(conversation, sender)),
            recipient=source(recipient, self._token_of(conversation, recipient)))
        if side != CUSTOMER and conversation["agentId"] != sender["integrationId"]:
            conversation = self._replace(conversation, agentId=sender["integrationId"])
        self._ctx.quota.charge(activity, None, False)
        self._last_activity += 1
        self._last_event_id = event_id
        self.activities[self._last_activity] = activity
        self._of_conversation.changing(conversation["conversationId"]).add(self._last_activity)
        hub = self._integrations.in_hub(conversation["hubId"])
        return Accepted(activity, conversation, deliveries(activity, conversation, sender, recipient, hub))

    def _agent_of(self, conversation: Record) -> Record:
        """Who a customer's activity goes to: the Agent or Bot integration that last sent in the conversation;
        else the hub's first Direct Agent integration (the kind an integrator builds); else its first Agent or Bot
        integration; none is 400 ENG005501 (decisions.md, Engine)."""
        by_id = self._integrations.by_id
        last = by_id.get(conversation["agentId"]) if conversation["agentId"] else None
        if last is not None:
            return last
        business = [i for i in self._integrations.in_hub(conversation["hubId"]) if i["integrationTypeId"] in BUSINESS]
        direct = [i for i in business if i["channelId"] == DIRECT_CHANNEL]
        if not business:
            raise NoAgentOrBot()
        return (direct or business)[0]

    @staticmethod
    def _token_of(conversation: Mapping[str, Any], integration: Mapping[str, Any]) -> str:
        """An activity source's ``tokenId``: the conversation's for its customer, else the conversation's id and the
        integration's (the documentation's agent token has that shape)."""
        if integration["integrationId"] == conversation["integrationId"]:
            return str(conversation["tokenId"])
        return f"{conversation['conversationId']}.{integration['integrationId']}"

    def _replace(self, conversation: Record, **changes: Any) -> Record:
        new = {**conversation, **changes}
        self._ctx.quota.charge(new, conversation, self.by_id.owns(conversation["conversationId"]))
        self.by_id[conversation["conversationId"]] = new
        return new

    def _forget(self, conversation: Record) -> None:
        conversation_id = conversation["conversationId"]
        quota = self._ctx.quota
        for number in self._of_conversation.pop(conversation_id) or ():
            quota.charge(None, self.activities[number], self.activities.owns(number))
            del self.activities[number]
        quota.charge(None, conversation, self.by_id.owns(conversation_id))
        del self.by_id[conversation_id]
        del self._by_binding[(conversation["integrationId"], conversation["binding"])]
        self._by_integration.changing(conversation["integrationId"]).remove(conversation_id)
        self._by_hub.changing(conversation["hubId"]).remove(conversation_id)
