"""Activities: what an integration may send into a conversation, and the record the Engine makes of it
(Engine docs, Activities and Direct; decisions.md, Engine).

The contract has checked the shape of what was sent (a message or an event, never both, each of
a documented type); this module adds what depends on the sender: a customer sends every message
type but carousels and lists, and the Engine fills in the rest of the activity (its trigger, its
eventId, its interactionId for a message, its sender and recipient).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockhub.kernel.errors import NotForThisSender, Problem
from mockhub.kernel.text import shown
from mockhub.store.paging import Record

CUSTOMER, AGENT, BOT, SYSTEM = "Customer", "Agent", "Bot", "System"
SIDES = (CUSTOMER, AGENT, BOT)
"""The integration types an activity is sent by or to (the interactions endpoint's ``type``)."""
BUSINESS = (AGENT, BOT)
"""The integration types that answer customers, and name themselves as the sender of what they send."""
BUSINESS_ONLY_MESSAGES = frozenset({"carousel", "list"})
"""Message types agents and bots send, customers never (Activities, Carousel and List: "Sources allowed to send:
agent and bot")."""
DEFAULT_FLOW = "Default"


def check_sendable(body: Mapping[str, Any], side: str) -> None:
    """400 ENG005002 when the sender's side may not send this activity's message type."""
    message = body.get("message")
    if side == CUSTOMER and message is not None and message.get("type") in BUSINESS_ONLY_MESSAGES:
        raise NotForThisSender(problems=(Problem(NotForThisSender.code, (
            f"Message type '{shown(message['type'])}' of 'message.type' is sent by agents and bots only, not by "
            "customers.")),))


def trigger_of(activity_type: str, side: str) -> str:
    """``message:customer``, ``event:agent``...: the activity's type and its sender's side (decisions.md, Engine)."""
    return f"{activity_type}:{side.lower()}"


def source(integration: Mapping[str, Any], token_id: str) -> Record:
    """An activity's ``sender`` or ``recipient``: the integration, its type and channel, and its token."""
    return {"integrationId": integration["integrationId"], "integrationType": integration["integrationTypeId"],
            "channelType": integration["channelId"], "tokenId": token_id}


def activity_record(body: Mapping[str, Any], *, side: str, event_id: int, interaction_id: str | None,
                    sender: Record, recipient: Record) -> Record:
    """A complete activity in the documented key order: the sent ``type``, ``externalId`` and ``message`` or
    ``event``, and what the Engine adds (``interaction_id`` for a message only)."""
    kind = body["type"]
    record: Record = {"type": kind, "eventTrigger": trigger_of(kind, side), "eventId": event_id,
                      "externalId": body.get("externalId"), "isEcho": False}
    if kind == "message":
        record["interactionId"] = interaction_id
    record.update({"flowProcess": DEFAULT_FLOW, "sender": sender, "recipient": recipient})
    record[kind] = body[kind]
    return record


def involves(activity: Mapping[str, Any], side: str) -> bool:
    """Whether the activity's sender or recipient is of the integration type ``side``."""
    return side in (activity["sender"]["integrationType"], activity["recipient"]["integrationType"])
