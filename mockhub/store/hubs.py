"""Hubs: the Portal API's rules for them (Portal docs, Hubs; decisions.md, Hubs)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from mockhub.kernel.errors import Forbidden, HubNotFound, NameTaken, Problem
from mockhub.store.context import Context
from mockhub.store.layered import ids_of
from mockhub.store.names import UniqueNames
from mockhub.store.paging import Layered, OrderedIds, Record, paginate
from mockhub.store.tenants import TenantStore

ACTIVE = 2000
UPDATABLE = ("name", "description", "closeDormantConversation", "statusId")


def lowered(text: str) -> str:
    """``text`` in lower case, as the same object when it already is (ids from files usually are)."""
    low = text.lower()
    return text if low == text else low


def hub_record(hub_id: str, tenant_id: str, given: Mapping[str, Any], created: str, modified: str) -> Record:
    """A complete hub in the documented key order, with the documented defaults (Portal docs, Hubs)."""
    return {
        "hubId": hub_id,
        "tenantId": tenant_id,
        "name": given["name"],
        "description": given["description"],
        "closeDormantConversation": given.get("closeDormantConversation", 0),
        "statusId": given.get("statusId", ACTIVE),
        "created": created,
        "modified": modified,
    }


class HubStore:
    """Hubs by id, per tenant in creation order, with names unique per tenant (case-insensitive)."""

    __slots__ = ("_ctx", "by_id", "_order", "_names")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.by_id: Layered[str, Record] = Layered()
        self._order: dict[str, OrderedIds[str]] = {}
        """Per tenant (few): copied whole, each tenant's ids copy-on-write."""
        self._names = UniqueNames()

    def copy(self, ctx: Context) -> HubStore:
        """An independent copy in O(tenants): the copies share what neither has changed."""
        clone = HubStore(ctx)
        clone.by_id = self.by_id.copy()
        clone._order = {tenant: ids.copy() for tenant, ids in self._order.items()}
        clone._names = self._names.copy()
        return clone

    def get(self, tenant_id: str, hub_id: str) -> Record:
        """The hub, or 404 PRT000699 if absent, 403 PRT000101 if another tenant's."""
        hub = self.by_id.get(hub_id.lower())
        if hub is None:
            raise HubNotFound(f"Hub '{hub_id}' not found.")
        if hub["tenantId"] != tenant_id:
            raise Forbidden(f"Hub '{hub_id}' belongs to another tenant.")
        return hub

    def create(self, tenant_id: str, body: dict[str, Any], hub_id: str) -> Record:
        """A new hub of a new id (``Store.create_hub`` makes one no hub or integration has)."""
        self._check_name(tenant_id, body["name"], None)
        now = self._ctx.clock.portal_tick()
        hub = hub_record(hub_id, tenant_id, body, now, now)
        self._add(hub)
        return hub

    def load(self, record: Mapping[str, Any], tenants: TenantStore, hub_id: str) -> Record:
        """A hub from a fixture record: like :meth:`create`, but times and defaults may be given; ``hub_id`` is
        the record's own (lower case) or a new one (``Store.load_hub``)."""
        tenant = tenants.by_id.get(record["tenantId"].lower())
        if tenant is None:
            raise ValueError(f"tenant {record['tenantId']} is not defined in 'tenants'")
        if hub_id in self.by_id:
            raise ValueError(f"hub {hub_id} is defined twice")
        # Loaded data repeats values: the tenant's own id string and one object per distinct
        # time keep 100,000 hubs some 25 MB smaller (benchmarks, RSS figure).
        created = sys.intern(record.get("created") or self._ctx.clock.portal_tick())
        hub = hub_record(hub_id, tenant["tenantId"], record, created, sys.intern(record.get("modified", created)))
        self._check_name(hub["tenantId"], hub["name"], None)
        self._add(hub)
        return hub

    def _add(self, hub: Record) -> None:
        """Store a complete hub record whose name was checked (from create or from fixtures)."""
        tenant_id = hub["tenantId"]
        self._ctx.quota.charge(hub, None, False)
        self.by_id[hub["hubId"]] = hub
        ids_of(self._order, tenant_id).add(hub["hubId"])
        self._names.claim(tenant_id, hub["name"], hub["hubId"])

    def update(self, tenant_id: str, hub_id: str, body: dict[str, Any]) -> Record:
        """Apply a partial update: only the given properties change."""
        old = self.get(tenant_id, hub_id)
        changes = {k: body[k] for k in UPDATABLE if k in body}
        if "name" in changes:
            self._check_name(tenant_id, changes["name"], old["hubId"])
        hub = {**old, **changes, "modified": self._ctx.clock.portal_tick()}
        self._ctx.quota.charge(hub, old, self.by_id.owns(old["hubId"]))
        self.by_id[old["hubId"]] = hub
        self._names.rename(tenant_id, old["name"], hub["name"], old["hubId"])
        return hub

    def delete(self, tenant_id: str, hub_id: str) -> Record:
        """Remove the hub (the caller removes its integrations)."""
        hub = self.get(tenant_id, hub_id)
        self._ctx.quota.charge(None, hub, self.by_id.owns(hub["hubId"]))
        del self.by_id[hub["hubId"]]
        self._order[tenant_id].remove(hub["hubId"])
        self._names.release(tenant_id, hub["name"])
        self._ctx.clock.tick()
        return hub

    def page(self, tenant_id: str, number: int, size: int) -> dict[str, Any]:
        """A page of the tenant's hubs in creation order; ``total`` counts them all."""
        return paginate(self._order.get(tenant_id), self.by_id, number, size)

    def name_taken(self, tenant_id: str, name: str) -> bool:
        """Whether the tenant has a hub of this name (case-insensitively)."""
        return self._names.taken(tenant_id, name)

    def _check_name(self, tenant_id: str, name: str, own_id: str | None) -> None:
        if self._names.taken(tenant_id, name, own_id):
            raise NameTaken(problems=(Problem(600, f"A hub named '{name}' already exists for this tenant."),))
