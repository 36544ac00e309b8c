"""Where an accepted activity goes, and what each webhook receives (Webhooks guide; decisions.md, Engine).

Every System integration of the hub whose ``events`` match the activity's trigger gets the
System payload (an ``activities`` array); the Direct integration the activity is for (its
recipient) gets the Direct payload (one ``activity``), and so does a Direct sender whose
``echo`` is on, marked ``isEcho``. Events (typing, seen, payloads) match no System filter: the
documented filters are message filters. What is computed here is plain data; sending,
signing and retrying it is the session's delivery service's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mockhub.store.paging import Record

SYSTEM_CHANNEL, DIRECT_CHANNEL = "System", "Direct"
MESSAGE_EVENTS = ("message", "message:customer", "message:agent", "message:bot")
"""The events a System integration registers for (Webhooks guide, Activity Event Filters)."""

PayloadKind = Literal["system", "direct"]


@dataclass(frozen=True)
class Delivery:
    """One payload for one integration's webhook, as the platform makes it when the activity is accepted: the
    integration's URL and keys of that moment go with it (a later ``regenerateKeys`` signs later deliveries)."""

    kind: PayloadKind
    integration_id: str
    hub_id: str
    conversation_id: str
    url: str | None
    """``None``: a Direct integration without a webhookUrl, which takes activities by websocket."""
    public_key: str
    private_key: str
    payload: Record


def matches(events: Iterable[str], trigger: str) -> bool:
    """Whether a System integration registered for ``events`` is sent an activity of ``trigger`` (once, however
    many of its events match)."""
    return trigger.startswith("message:") and any(event in ("message", trigger) for event in events)


def payload(kind: PayloadKind, conversation: Mapping[str, Any], integration_id: str,
            activity: Record) -> Record:
    """The body a webhook receives, in the documented key order."""
    body: Record = {"hubId": conversation["hubId"], "tenantId": conversation["tenantId"],
                    "integrationId": integration_id, "conversationId": conversation["conversationId"],
                    "conversationProperties": conversation["properties"]}
    if kind == "system":
        body["activities"] = [activity]
    else:
        body["activity"] = activity
    return body


def _delivery(kind: PayloadKind, integration: Mapping[str, Any], conversation: Mapping[str, Any],
              activity: Record) -> Delivery:
    configuration = integration["configuration"]
    return Delivery(kind, integration["integrationId"], conversation["hubId"], conversation["conversationId"],
                    configuration.get("webhookUrl"), configuration["publicSigningKey"],
                    configuration["privateSigningKey"],
                    payload(kind, conversation, integration["integrationId"], activity))


def deliveries(activity: Record, conversation: Mapping[str, Any], sender: Mapping[str, Any],
               recipient: Mapping[str, Any], hub_integrations: Iterable[Mapping[str, Any]]) -> tuple[Delivery, ...]:
    """Every delivery of an accepted activity: to a Direct recipient, back to a Direct sender with echo, then to
    each matching System integration of the hub in creation order."""
    found: list[Delivery] = []
    if recipient["channelId"] == DIRECT_CHANNEL:
        found.append(_delivery("direct", recipient, conversation, activity))
    if sender["channelId"] == DIRECT_CHANNEL and sender["configuration"].get("echo"):
        found.append(_delivery("direct", sender, conversation, {**activity, "isEcho": True}))
    trigger = activity["eventTrigger"]
    found += [_delivery("system", integration, conversation, activity) for integration in hub_integrations
              if integration["channelId"] == SYSTEM_CHANNEL
              and matches(integration["configuration"]["events"], trigger)]
    return tuple(found)
