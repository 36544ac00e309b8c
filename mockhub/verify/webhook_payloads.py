"""The webhook deliveries Hubster documents, made from a seed: a System payload (a conversation and its
``activities``) and a Direct payload (the same conversation and one ``activity``), each with the documented
headers and signed as the platform signs them (decisions.md, Webhook receivers).

The same seed makes the same bytes, so a receiver's log can be compared run to run. The bodies are compact
UTF-8 JSON with text beyond ASCII, so a receiver that signs anything but the raw bytes it received (JSON
parsed and written again, text decoded and encoded again) fails the check, as it would fail the platform's.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockhub.kernel import jsonio
from mockhub.kernel.randomness import SeededRandom
from mockhub.kernel.signing import PUBLIC_KEY_HEADER, SIGNATURE_HEADER, signature

SOURCE_SYSTEM = "engine.hubster.io"
"""``x-source-system``: always this value, the documentation says."""
KINDS = ("system", "direct")
"""The two payloads: a System integration's and a Direct integration's."""
FIRST_EVENT_MS = 1_609_459_200_000
"""2021-01-01T00:00:00Z in epoch milliseconds: the earliest ``eventId`` drawn."""
EVENT_SPAN_MS = 5 * 365 * 24 * 3600 * 1000

CUSTOMERS = ("Zoë Müller", "José Álvarez", "Łucja Nowak", "Björn Ødegaard")
CUSTOMER_TEXTS = ("Hi there! Is my order on its way? 🙂", "Grüße aus Köln: can I change the delivery address?",
                  "¿Dónde está mi pedido? Order nº 4711.")
AGENT_TEXTS = ("It ships today 🚚 — anything else?", "Ça marche : the address is changed.",
               "Danke für Ihre Geduld! It arrives on Monday.")
"""Messages, none of them ASCII: a receiver must check the bytes it got, not text it decoded and encoded again."""


@dataclass(frozen=True)
class ProbeDelivery:
    """One POST to a receiver: its headers in the order sent and its body bytes."""

    headers: Mapping[str, str]
    body: bytes

    def with_header(self, name: str, value: str | None) -> ProbeDelivery:
        """The same delivery with header ``name`` set to ``value`` (``None``: without it)."""
        headers = {k: v for k, v in self.headers.items() if k != name}
        if value is not None:
            headers[name] = value
        return replace(self, headers=headers)


@dataclass(frozen=True)
class ProbeDeliveries:
    """What one seed makes: a delivery of each kind signed with the receiver's key, and the values a check
    needs to sign one wrongly (another private key, an unknown public key, another message text)."""

    signed: Mapping[str, ProbeDelivery]
    """By kind (``system``, ``direct``): the payload, its headers, the right signature."""
    payloads: Mapping[str, dict[str, Any]]
    other_private_key: str
    other_public_key: str
    other_text: str
    """A message text to put in a body after it was signed."""


def make_deliveries(seed: int, public_key: str, private_key: str) -> ProbeDeliveries:
    """The deliveries of ``seed`` for a receiver whose integration has these signing keys."""
    random = SeededRandom(seed)
    hub_id, tenant_id, integration_id, conversation_id = (random.uuid() for _ in range(4))
    conversation = {"hubId": hub_id, "tenantId": tenant_id, "integrationId": integration_id,
                    "conversationId": conversation_id,
                    "conversationProperties": {
                        "profile": {"device": "Direct", "full name": random.choice(CUSTOMERS)},
                        "additional": {"orderId": random.digits(6)}}}
    customer, agent = _source(random, "Customer"), _source(random, "Agent")
    payloads: dict[str, dict[str, Any]] = {
        "system": {**conversation, "activities": [
            _text_message(random, "message:customer", customer, agent, random.choice(CUSTOMER_TEXTS))]},
        "direct": {**conversation, "activity": _text_message(
            random, "message:agent", agent, customer, random.choice(AGENT_TEXTS))}}
    other_private_key = _other(random, private_key)
    other_public_key = _other(random, public_key)
    other_text = random.choice(CUSTOMER_TEXTS) + " (changed after it was signed)"
    headers = {"x-source-system": SOURCE_SYSTEM, "x-hub-id": hub_id, "x-integration-id": integration_id,
               "x-conversation-id": conversation_id, PUBLIC_KEY_HEADER: public_key}
    signed = {kind: signed_delivery(headers, jsonio.dumps(payload), private_key)
              for kind, payload in payloads.items()}
    return ProbeDeliveries(signed, payloads, other_private_key, other_public_key, other_text)


def signed_delivery(headers: Mapping[str, str], body: bytes, private_key: str) -> ProbeDelivery:
    """``body`` with ``headers`` and its signature made with ``private_key``, as the platform sends it."""
    return ProbeDelivery({"Content-Type": "application/json; charset=utf-8", **headers,
                     SIGNATURE_HEADER: signature(body, private_key)}, body)


def with_text(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    """``payload`` (either kind) whose message text is ``text``."""
    def changed(activity: Mapping[str, Any]) -> dict[str, Any]:
        return {**activity, "message": {**activity["message"], "text": text}}

    if "activities" in payload:
        return {**payload, "activities": [changed(a) for a in payload["activities"]]}
    return {**payload, "activity": changed(payload["activity"])}


def _source(random: SeededRandom, integration_type: str) -> dict[str, str]:
    """An activity's ``sender`` or ``recipient``; ``tokenId`` is reserved for Hubster and shaped as the
    documentation's examples show it."""
    integration_id = random.uuid()
    token_id = (base64.b64encode(random.generator.randbytes(16)).decode("ascii") if integration_type == "Customer"
                else f"{random.uuid()}.{integration_id}")
    return {"integrationId": integration_id, "integrationType": integration_type, "channelType": "Direct",
            "tokenId": token_id}


def _text_message(random: SeededRandom, trigger: str, sender: dict[str, str], recipient: dict[str, str],
                  text: str) -> dict[str, Any]:
    """A text message activity as the platform delivers it (``interactionId``: messages have one)."""
    return {"type": "message", "eventTrigger": trigger,
            "eventId": FIRST_EVENT_MS + random.generator.randrange(EVENT_SPAN_MS),
            "externalId": f"mockhub-verify-webhook-{random.hex(8)}", "isEcho": False,
            "interactionId": random.uuid(), "flowProcess": "Default", "sender": sender, "recipient": recipient,
            "message": {"type": "text", "text": text}}


def _other(random: SeededRandom, key: str) -> str:
    """A signing key shaped as the platform's (32 upper-case hex digits) that is not ``key``."""
    while (other := random.hex(32, upper=True)) == key:
        pass
    return other
