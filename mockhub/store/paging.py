"""Creation-ordered collections with O(page) paging, shared by the resource stores."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")

Record = dict[str, Any]
"""A stored record. Records are never changed in place: writes replace them, so copies are cheap."""


class OrderedIds(Generic[K]):
    """Ids in creation order; a page is a slice, so paging never scans the whole collection."""

    __slots__ = ("_ids", "_positions", "_removed")

    def __init__(self) -> None:
        self._ids: list[K | None] = []
        self._positions: dict[K, int] = {}
        self._removed = 0

    def copy(self) -> OrderedIds[K]:
        clone: OrderedIds[K] = OrderedIds()
        clone._ids = list(self._ids)
        clone._positions = dict(self._positions)
        clone._removed = self._removed
        return clone

    def __len__(self) -> int:
        return len(self._positions)

    def __iter__(self) -> Iterator[K]:
        return (i for i in self._ids if i is not None)

    def add(self, key: K) -> None:
        self._positions[key] = len(self._ids)
        self._ids.append(key)

    def remove(self, key: K) -> None:
        # Leave a hole rather than shifting the list: a cascade of deletes stays O(1) each,
        # and the next page read compacts once.
        self._ids[self._positions.pop(key)] = None
        self._removed += 1

    def page(self, number: int, size: int) -> list[K]:
        """Ids of page ``number`` (from 0) of ``size``."""
        return self.slice(number * size, size)

    def slice(self, start: int, count: int) -> list[K]:
        """At most ``count`` ids from position ``start`` (offset/limit paging)."""
        if self._removed:
            self._compact()
        return self._ids[start:start + count]  # type: ignore[return-value]  # no holes after compaction

    def _compact(self) -> None:
        self._ids = [k for k in self._ids if k is not None]
        self._positions = {k: i for i, k in enumerate(self._ids) if k is not None}
        self._removed = 0


def paginate(ids: OrderedIds[str] | None, by_id: Mapping[str, Record], number: int, size: int) -> dict[str, Any]:
    """The Portal API's page (facts.md, Paginated results): page ``number`` of ``size``; ``total`` counts all."""
    return {
        "pageNumber": number,
        "pageSize": size,
        "total": len(ids) if ids is not None else 0,
        "results": [by_id[i] for i in ids.page(number, size)] if ids is not None else [],
    }
