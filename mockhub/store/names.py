"""Names unique within a scope (a tenant's hubs, a hub's integrations), compared case-insensitively."""

from __future__ import annotations

from mockhub.store.layered import Layered


class UniqueNames:
    """Which record holds each name of each scope; copies share what neither has changed."""

    __slots__ = ("_holders",)

    def __init__(self, holders: Layered[tuple[str, str], str] | None = None) -> None:
        self._holders: Layered[tuple[str, str], str] = holders if holders is not None else Layered()

    def copy(self) -> UniqueNames:
        """An independent copy in O(1)."""
        return UniqueNames(self._holders.copy())

    def taken(self, scope: str, name: str, own_id: str | None = None) -> bool:
        """Whether a record other than ``own_id`` holds ``name`` in ``scope``."""
        holder = self._holders.get((scope, name.casefold()))
        return holder is not None and holder != own_id

    def claim(self, scope: str, name: str, record_id: str) -> None:
        """Record that ``record_id`` holds ``name`` (checked with :meth:`taken` first)."""
        self._holders[(scope, name.casefold())] = record_id

    def release(self, scope: str, name: str) -> None:
        """Free ``name`` in ``scope``."""
        del self._holders[(scope, name.casefold())]

    def rename(self, scope: str, old: str, new: str, record_id: str) -> None:
        """Move ``record_id`` from ``old`` to ``new`` (a no-op when the name did not change)."""
        if new != old:
            self.release(scope, old)
            self.claim(scope, new, record_id)
