"""Integrations: the Portal API's rules for them (Portal docs, Integrations and Types; decisions.md, Integrations).

An integration belongs to a hub, and through it to the hub's tenant. The contract has
already checked each configuration against its channel's schema; this module adds what
the real service adds (generated keys, numbers, tokens) and keeps the indexes that make
pages O(page): per tenant and per hub, in creation order.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mockhub.kernel.errors import Forbidden, HubNotFound, IntegrationNameTaken, IntegrationNotFound
from mockhub.kernel.randomness import SeededRandom
from mockhub.store.context import Context
from mockhub.store.hubs import HubStore
from mockhub.store.layered import IdsByOwner, ids_of
from mockhub.store.names import UniqueNames
from mockhub.store.paging import Layered, OrderedIds, Record, paginate

ACTIVE = 3000
IGNORED_UPDATE = "IgnoredConfigUpdate"
SIGNING_KEYS = ("publicSigningKey", "privateSigningKey")

Generate = Callable[[SeededRandom], Any]

_DIGITS = string.digits
_NANP_LEAD = "23456789"
_TOKEN_CHARS = string.ascii_letters + string.digits


def _chars(random: SeededRandom, alphabet: str, length: int) -> str:
    return "".join(random.choice(alphabet) for _ in range(length))


def _phone_number(random: SeededRandom) -> str:
    """A North American number in E.164 (+1, then area code and exchange that start 2-9, as NANP requires)."""
    area = random.choice(_NANP_LEAD) + _chars(random, _DIGITS, 2)
    exchange = random.choice(_NANP_LEAD) + _chars(random, _DIGITS, 2)
    return f"+1{area}{exchange}{_chars(random, _DIGITS, 4)}"


def _capabilities(random: SeededRandom) -> dict[str, bool]:
    # Every example of Portal docs, Integrations shows all three; a fresh dict keeps records independent.
    return {"mms": True, "sms": True, "voice": True}


def _signing_key(random: SeededRandom) -> str:
    return random.hex(32, upper=True)


def _facebook_id(random: SeededRandom) -> str:
    return random.digits(15)


def _slack_bot_token(random: SeededRandom) -> str:
    return f"xoxb-{random.digits(12)}-{random.digits(13)}-{_chars(random, _TOKEN_CHARS, 24)}"


def _slack_user_token(random: SeededRandom) -> str:
    return f"xoxp-{random.digits(12)}-{random.digits(12)}-{random.digits(13)}-{random.hex(32)}"


def _slack_team_id(random: SeededRandom) -> str:
    return "T" + random.alnum_upper(8)


def _constant(value: str | bool) -> Generate:
    return lambda _random: value


@dataclass(frozen=True)
class Field:
    """A field of a stored configuration: given by the client, or added by the server when ``generate`` is set."""

    name: str
    generate: Generate | None = None


@dataclass(frozen=True)
class Channel:
    """A channel type (Portal docs, Types) and what the service does with its configuration."""

    name: str
    id: int
    integration_type: str | None
    """The integration type it implies; ``None`` when ``configuration.integrationType`` decides (Direct)."""
    fields: tuple[Field, ...] = ()
    """The stored configuration, in the documented order; other given keys (Slack's code) are not kept."""
    update_schema: str = IGNORED_UPDATE
    """The contract schema an update's configuration must fit."""
    inbound_key: str | None = None
    """The configuration field that is the integration's ``inboundId`` (Portal docs, Integrations > Get examples)."""

    @property
    def configuration_updatable(self) -> bool:
        """False for TwilioSMS, Messenger and Slack: Portal docs, Integrations > Update: ignored."""
        return self.update_schema != IGNORED_UPDATE


CHANNELS: tuple[Channel, ...] = (
    Channel("Direct", 1, None, (
        Field("integrationType"), Field("echo", _constant(False)), Field("webhookUrl"),
        Field("publicSigningKey", _signing_key), Field("privateSigningKey", _signing_key), Field("start"),
    ), update_schema="DirectConfigUpdate"),
    Channel("Bot", 2, "Bot"),
    Channel("System", 3, "System", (
        Field("events"), Field("webhookUrl"),
        Field("publicSigningKey", _signing_key), Field("privateSigningKey", _signing_key),
    ), update_schema="SystemConfigUpdate"),
    Channel("Messenger", 101, "Customer", (
        Field("appId", _facebook_id), Field("pageId", _facebook_id), Field("pageAccessToken"),
    ), inbound_key="pageId"),
    Channel("TwilioSMS", 102, "Customer", (
        Field("accountSid"), Field("authToken"), Field("numberSid"),
        Field("phoneNumber", _phone_number), Field("capabilities", _capabilities),
    ), inbound_key="accountSid"),
    Channel("Line", 103, "Customer"),
    Channel("Telegram", 104, "Customer"),
    Channel("Kik", 105, "Customer"),
    Channel("WebChat", 106, "Customer", (
        Field("allowedOrigins"), Field("echo", _constant(True)), Field("start"),
    ), update_schema="WebChatConfigUpdate"),
    Channel("Slack", 1001, "Agent", (
        # The OAuth code is exchanged for these (Portal docs, Integrations > Create, Slack).
        Field("botAccessToken", _slack_bot_token), Field("appAccessToken", _slack_user_token),
        Field("defaultPublicChannel", _constant("general")), Field("teamId", _slack_team_id),
        Field("botName", _constant("Hubster.io")),
    )),
)
_BY_REF: Mapping[str, Channel] = {
    **{c.name: c for c in CHANNELS},
    **{str(c.id): c for c in CHANNELS},
}


CONFIGURED_CHANNELS = tuple(c.name for c in CHANNELS if c.fields)
"""The channels with a documented configuration (Portal docs, Integrations > Create): the ones that can be created."""


def channel_of(ref: str | int) -> Channel:
    """The channel a name or numeric id (as a number or in a path segment) stands for."""
    return _BY_REF[str(ref)]


def configured(channel: Channel, given: Mapping[str, Any], random: SeededRandom) -> Record:
    """The stored configuration: the given fields in the documented order, the server's own added where missing."""
    configuration: Record = {}
    for field in channel.fields:
        if field.name in given:
            configuration[field.name] = given[field.name]
        elif field.generate is not None:
            configuration[field.name] = field.generate(random)
    return configuration


def integration_record(*, integration_id: str, hub_id: str, channel: Channel, name: str, status_id: int,
                       configuration: Record, created: str, modified: str) -> Record:
    """A complete integration in the documented key order; ``inboundId`` and ``integrationTypeId`` derived."""
    record: Record = {"integrationId": integration_id, "hubId": hub_id}
    if channel.inbound_key is not None:
        record["inboundId"] = configuration[channel.inbound_key]
    record.update({
        "integrationTypeId": channel.integration_type or configuration["integrationType"],
        "channelId": channel.name,
        "name": name,
        "statusId": status_id,
        "configuration": configuration,
        "created": created,
        "modified": modified,
    })
    return record


class IntegrationStore:
    """Integrations by id, per tenant and per hub in creation order, names unique per hub (case-insensitive).

    An integration's tenant is its hub's; deleting a hub removes its integrations
    (:meth:`remove_hub`), so every stored integration has its hub.
    """

    __slots__ = ("_ctx", "_hubs", "by_id", "_by_tenant", "_by_hub", "_names")

    def __init__(self, ctx: Context, hubs: HubStore) -> None:
        self._ctx = ctx
        self._hubs = hubs
        self.by_id: Layered[str, Record] = Layered()
        self._by_tenant: dict[str, OrderedIds[str]] = {}
        """Per tenant (few): copied whole, each tenant's ids copy-on-write."""
        self._by_hub: IdsByOwner[str, str] = IdsByOwner()
        """Per hub (many): shared between copies until a copy changes a hub's."""
        self._names = UniqueNames()

    def copy(self, ctx: Context, hubs: HubStore) -> IntegrationStore:
        """An independent copy in O(tenants): the copies share what neither has changed."""
        clone = IntegrationStore(ctx, hubs)
        clone.by_id = self.by_id.copy()
        clone._by_tenant = {tenant: ids.copy() for tenant, ids in self._by_tenant.items()}
        clone._by_hub = self._by_hub.copy()
        clone._names = self._names.copy()
        return clone

    def target(self, tenant_id: str, target_id: str) -> tuple[Literal["hub", "integration"], Record]:
        """What ``POST /integrations/hubs/{id}`` names: a hub (create) or an integration (update).

        Another tenant's hub or integration is 403 PRT000101; neither is 404 PRT000699 (decisions.md, Auth and tenants).
        """
        key = target_id.lower()
        if key in self._hubs.by_id:
            return "hub", self._hubs.get(tenant_id, key)
        if key in self.by_id:
            return "integration", self.get(tenant_id, key)
        raise HubNotFound(f"No hub or integration '{target_id}' exists.")

    def get(self, tenant_id: str, integration_id: str) -> Record:
        """The integration, or 404 PRT000799 if absent, 403 PRT000101 if another tenant's."""
        integration = self.by_id.get(integration_id.lower())
        if integration is None:
            raise IntegrationNotFound(f"Integration '{integration_id}' not found.")
        if self._hubs.by_id[integration["hubId"]]["tenantId"] != tenant_id:
            raise Forbidden(f"Integration '{integration_id}' belongs to another tenant.")
        return integration

    def create(self, tenant_id: str, hub_id: str, body: Mapping[str, Any]) -> Record:
        """Create an integration from a body that fits IntegrationCreate."""
        hub = self._hubs.get(tenant_id, hub_id)
        channel = channel_of(body["channelId"])
        self._check_name(hub["hubId"], body["name"], None)
        now = self._ctx.clock.portal_tick()
        integration = integration_record(
            integration_id=self._new_id(), hub_id=hub["hubId"], channel=channel, name=body["name"],
            status_id=body.get("statusId", ACTIVE),
            configuration=configured(channel, body["configuration"], self._ctx.random),
            created=now, modified=now,
        )
        self._add(integration)
        return integration

    def _new_id(self) -> str:
        """An id no integration and no hub has: ``POST /integrations/hubs/{id}`` names either."""
        return self._ctx.new_id(self.by_id, self._hubs.by_id)

    def load(self, record: Mapping[str, Any]) -> Record:
        """An integration from a fixture record: like :meth:`create`, but ids, times and server-added fields
        may be given; derived fields (a dump has them) must be what the server derives."""
        hub = self._hubs.by_id.get(record["hubId"].lower())
        if hub is None:
            raise ValueError(f"hub {record['hubId']} is not defined in 'hubs'")
        given = record.get("integrationId")
        integration_id = given.lower() if given else self._new_id()
        if integration_id in self.by_id:
            raise ValueError(f"integration {integration_id} is defined twice")
        if integration_id in self._hubs.by_id:
            raise ValueError(f"integration {integration_id} has the id of a hub (one path names either)")
        channel = channel_of(record["channelId"])
        created = record.get("created") or self._ctx.clock.portal_tick()
        integration = integration_record(
            integration_id=integration_id, hub_id=hub["hubId"], channel=channel, name=record["name"],
            status_id=record.get("statusId", ACTIVE),
            configuration=configured(channel, record["configuration"], self._ctx.random),
            created=created, modified=record.get("modified", created),
        )
        for key in ("integrationTypeId", "inboundId"):
            if key in record and record[key] != integration.get(key):
                derived = repr(integration[key]) if key in integration else "none for this channel"
                raise ValueError(f"{key} {record[key]!r} does not fit the channel and configuration "
                                 f"(derived: {derived})")
        self._check_name(integration["hubId"], integration["name"], None)
        self._add(integration)
        return integration

    def _add(self, integration: Record) -> None:
        """Store a complete integration record whose name was checked (from create or from fixtures);
        its hub must be stored."""
        integration_id, hub_id = integration["integrationId"], integration["hubId"]
        self._ctx.quota.charge(integration, None, False)
        self.by_id[integration_id] = integration
        self._by_hub.changing(hub_id).add(integration_id)
        tenant_id = self._hubs.by_id[hub_id]["tenantId"]
        ids_of(self._by_tenant, tenant_id).add(integration_id)
        self._names.claim(hub_id, integration["name"], integration_id)

    def update(self, tenant_id: str, integration_id: str, body: Mapping[str, Any]) -> Record:
        """Apply ``name``, ``statusId`` and a complete ``configuration`` that replaces the old one
        (Portal docs, Integrations > Update).

        TwilioSMS, Messenger and Slack keep their configuration: the documentation says an
        attempt is ignored. Direct and System keep their signing keys unless the new
        configuration asks for ``regenerateKeys``, which is not stored.
        """
        old = self.get(tenant_id, integration_id)
        channel = channel_of(old["channelId"])
        name = body.get("name", old["name"])
        if name != old["name"]:
            self._check_name(old["hubId"], name, old["integrationId"])
        configuration = old["configuration"]
        given = body.get("configuration")
        if given is not None and channel.configuration_updatable:
            kept = {} if given.get("regenerateKeys") else {k: configuration[k] for k in SIGNING_KEYS
                                                             if k in configuration}
            configuration = configured(channel, {**given, **kept}, self._ctx.random)
        integration = integration_record(
            integration_id=old["integrationId"], hub_id=old["hubId"], channel=channel, name=name,
            status_id=body.get("statusId", old["statusId"]), configuration=configuration,
            created=old["created"], modified=self._ctx.clock.portal_tick(),
        )
        self._ctx.quota.charge(integration, old, self.by_id.owns(old["integrationId"]))
        self.by_id[old["integrationId"]] = integration
        self._names.rename(old["hubId"], old["name"], name, old["integrationId"])
        return integration

    def delete(self, tenant_id: str, integration_id: str) -> Record:
        """Remove the integration; its name is free again."""
        integration = self.get(tenant_id, integration_id)
        hub_id = integration["hubId"]
        self._forget(integration, self._hubs.by_id[hub_id]["tenantId"])
        self._by_hub.changing(hub_id).remove(integration["integrationId"])
        self._ctx.clock.tick()
        return integration

    def remove_hub(self, hub: Record) -> None:
        """Remove every integration of a deleted hub (Portal docs, Hubs > Delete)."""
        for integration_id in self._by_hub.pop(hub["hubId"]) or ():
            self._forget(self.by_id[integration_id], hub["tenantId"])

    def by_channel(self, tenant_id: str, hub_id: str, channel_ref: str) -> list[Record]:
        """The hub's integrations of one channel type, in creation order."""
        hub = self._hubs.get(tenant_id, hub_id)
        name = channel_of(channel_ref).name
        by_id = self.by_id
        return [by_id[i] for i in self._by_hub.get(hub["hubId"]) or () if by_id[i]["channelId"] == name]

    def in_hub(self, hub_id: str) -> list[Record]:
        """Every integration of a hub, in creation order (whoever asks: the Engine routes within a hub)."""
        return self.by_id.many(self._by_hub.get(hub_id) or ())

    def page(self, tenant_id: str, hub_id: str | None, number: int, size: int) -> dict[str, Any]:
        """A page of the tenant's integrations (or of one hub's) in creation order; ``total`` counts them all."""
        if hub_id is None:
            ids = self._by_tenant.get(tenant_id)
        else:
            ids = self._by_hub.get(self._hubs.get(tenant_id, hub_id)["hubId"])
        return paginate(ids, self.by_id, number, size)

    def _forget(self, integration: Record, tenant_id: str) -> None:
        """Drop an integration from the id map, its tenant's order and the names (the caller handles the hub's)."""
        integration_id = integration["integrationId"]
        self._ctx.quota.charge(None, integration, self.by_id.owns(integration_id))
        del self.by_id[integration_id]
        self._by_tenant[tenant_id].remove(integration_id)
        self._names.release(integration["hubId"], integration["name"])

    def _check_name(self, hub_id: str, name: str, own_id: str | None) -> None:
        if self._names.taken(hub_id, name, own_id):
            raise IntegrationNameTaken(f"An integration named '{name}' already exists in this hub.")
