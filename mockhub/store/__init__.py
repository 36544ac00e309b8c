"""The in-memory state of one session: tenants and their API clients, hubs, integrations, commands, conversations
and their activities, integration points, and their rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockhub.kernel.clock import Clock
from mockhub.kernel.errors import InvalidToken
from mockhub.kernel.randomness import SeededRandom
from mockhub.store.commands import RESPONSE, TRANSFER, CommandStore
from mockhub.store.context import Context
from mockhub.store.conversations import ConversationStore
from mockhub.store.hubs import HubStore, lowered
from mockhub.store.identity import IdentityStore
from mockhub.store.integrations import IntegrationStore
from mockhub.store.paging import Record
from mockhub.store.points import PointStore
from mockhub.store.quota import Quota
from mockhub.store.tenants import TenantStore
from mockhub.store.tokens import UNKNOWN, AccessTokens, looks_like_one


class Store:
    """All state of a session. :meth:`copy` costs the same whatever the data: the copies share every
    container until one changes it (:mod:`mockhub.store.layered`), and records are never changed in place."""

    __slots__ = ("ctx", "tenants", "identity", "hubs", "integrations", "transfer_commands", "response_commands",
                 "conversations", "points")

    def __init__(self, random: SeededRandom, clock: Clock, quota: Quota | None = None,
                 tokens: AccessTokens | None = None) -> None:
        self.ctx = Context(random, clock, quota or Quota(), tokens or AccessTokens.for_seed(0))
        self.tenants = TenantStore()
        self.identity = IdentityStore(self.ctx)
        self.hubs = HubStore(self.ctx)
        self.integrations = IntegrationStore(self.ctx, self.hubs)
        self.transfer_commands = CommandStore(TRANSFER, self.ctx, self.hubs)
        self.response_commands = CommandStore(RESPONSE, self.ctx, self.hubs)
        self.conversations = ConversationStore(self.ctx, self.hubs, self.integrations)
        self.points = PointStore(self.ctx)

    def copy(self) -> Store:
        """An independent store in the same state, continuing the same random sequence and clock."""
        clone = Store.__new__(Store)
        clone.ctx = self.ctx.copy()
        clone.tenants = self.tenants.copy()
        clone.identity = self.identity.copy(clone.ctx)
        clone.hubs = self.hubs.copy(clone.ctx)
        clone.integrations = self.integrations.copy(clone.ctx, clone.hubs)
        clone.transfer_commands = self.transfer_commands.copy(clone.ctx, clone.hubs)
        clone.response_commands = self.response_commands.copy(clone.ctx, clone.hubs)
        clone.conversations = self.conversations.copy(clone.ctx, clone.hubs, clone.integrations)
        clone.points = self.points.copy(clone.ctx)
        return clone

    def session_copy(self, quota: Quota) -> Store:
        """A copy for a session: what it then writes counts towards ``quota`` (nothing yet)."""
        clone = self.copy()
        clone.ctx.quota = quota.fresh()
        return clone

    def release(self, count: int) -> bool:
        """Drop up to ``count`` of the records this store alone holds, for a store nothing uses any more, so
        that freeing a big one is spread over several steps; whether none are left."""
        return self.conversations.release(count) and all(records.release(count) for records in (
            self.points.by_id, self.transfer_commands.by_id, self.response_commands.by_id, self.integrations.by_id,
            self.hubs.by_id, self.identity.secrets))

    def add_tenant(self, record: Mapping[str, Any]) -> None:
        """A tenant from a fixture record, with its static tokens and its Portal and Engine clients."""
        tenant = {"tenantId": record["tenantId"].lower(), "name": record.get("name", ""),
                  "tokens": list(record.get("tokens", ()))}
        self.ctx.quota.charge(tenant, None, False)
        self.tenants.add(tenant)
        self.identity.load_clients(tenant["tenantId"], record.get("clients", {}))

    def tenant_of(self, token: str, scopes: tuple[frozenset[str], ...] = ()) -> str:
        """The tenant a bearer token acts for, or 401 PRT000102 saying why not (decisions.md, Identity).

        A static token of the data works for every API. An access token from ``POST /connect/token`` works
        until the session's clock reaches its expiry, for an operation that asks for one of ``scopes`` (each
        a set of scopes the token must all have; none: any token).
        """
        tenant_id = self.tenants.by_token.get(token)
        if tenant_id is not None:
            return tenant_id
        if not looks_like_one(token):
            raise InvalidToken(UNKNOWN)
        claims = self.ctx.tokens.read(token, self.ctx.clock.now())
        granted = frozenset(claims["scope"])
        if scopes and not any(needed <= granted for needed in scopes):
            wanted = " or ".join(" ".join(sorted(needed)) for needed in scopes)
            raise InvalidToken(f"The access token is for {claims['aud']}; this API takes tokens of {wanted}. A "
                               "token works only for the API it was issued for.")
        if claims["tenant"] not in self.tenants.by_id:
            raise InvalidToken(f"The access token's tenant {claims['tenant']} is not in this session's data.")
        return str(claims["tenant"])

    def create_hub(self, tenant_id: str, body: dict[str, Any]) -> Record:
        """A new hub, of an id no hub and no integration has (``POST /integrations/hubs/{id}`` names either)."""
        return self.hubs.create(tenant_id, body, self._new_hub_id())

    def load_hub(self, record: Mapping[str, Any]) -> Record:
        """A hub from a fixture record (:meth:`HubStore.load`), of its own id unless an integration has it."""
        given = record.get("hubId")
        if given and given.lower() in self.integrations.by_id:
            raise ValueError(f"hub {given.lower()} has the id of an integration (one path names either)")
        return self.hubs.load(record, self.tenants, lowered(given) if given else self._new_hub_id())

    def _new_hub_id(self) -> str:
        return self.ctx.new_id(self.hubs.by_id, self.integrations.by_id)

    def delete_hub(self, tenant_id: str, hub_id: str) -> Record:
        """Delete a hub and everything in it (Portal docs, Hubs > Delete: deleting a hub deletes its integrations;
        decisions.md, Commands: and its commands)."""
        hub = self.hubs.delete(tenant_id, hub_id)
        self.conversations.remove_hub(hub)
        self.integrations.remove_hub(hub)
        self.transfer_commands.remove_hub(hub)
        self.response_commands.remove_hub(hub)
        return hub

    def delete_integration(self, tenant_id: str, integration_id: str) -> Record:
        """Delete an integration and its conversations (decisions.md, Engine: they go with it)."""
        integration = self.integrations.delete(tenant_id, integration_id)
        self.conversations.remove_integration(integration)
        return integration


__all__ = ["Record", "Store"]
