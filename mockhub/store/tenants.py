"""Tenants and their static bearer tokens (decisions.md, Auth and tenants: each token belongs to one tenant)."""

from __future__ import annotations

from mockhub.store.paging import Record


class TenantStore:
    """Tenants by id and by token; loaded from fixtures, never changed by the APIs."""

    __slots__ = ("by_id", "by_token")

    def __init__(self) -> None:
        self.by_id: dict[str, Record] = {}
        self.by_token: dict[str, str] = {}

    def copy(self) -> TenantStore:
        clone = TenantStore()
        clone.by_id = dict(self.by_id)
        clone.by_token = dict(self.by_token)
        return clone

    def add(self, tenant: Record) -> None:
        """Add a tenant (``tenantId``, ``name``, ``tokens``); a token may serve one tenant only."""
        tenant_id = tenant["tenantId"]
        if tenant_id in self.by_id:
            raise ValueError(f"tenant {tenant_id} is defined twice")
        for token in tenant["tokens"]:
            if token in self.by_token:
                raise ValueError(f"token {token!r} is given to two tenants")
        self.by_id[tenant_id] = tenant
        for token in tenant["tokens"]:
            self.by_token[token] = tenant_id

    @property
    def default_token(self) -> str | None:
        """The first token of the first tenant: the default tenant's."""
        for tenant in self.by_id.values():
            if tenant["tokens"]:
                return str(tenant["tokens"][0])
        return None
