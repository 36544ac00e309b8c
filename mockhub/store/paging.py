"""The Portal API's paging over creation-ordered ids, shared by the resource stores."""

from __future__ import annotations

from typing import Any

from mockhub.store.layered import Layered, OrderedIds

Record = dict[str, Any]
"""A stored record. Records are never changed in place: writes replace them, so copies are cheap."""


def paginate(ids: OrderedIds[str] | None, by_id: Layered[str, Record], number: int, size: int) -> dict[str, Any]:
    """The Portal API's page (Portal docs, Overview > Paginated results): page ``number`` of ``size``;
    ``total`` counts all."""
    return {
        "pageNumber": number,
        "pageSize": size,
        "total": len(ids) if ids is not None else 0,
        "results": by_id.many(ids.page(number, size)) if ids is not None else [],
    }


__all__ = ["Layered", "OrderedIds", "Record", "paginate"]
