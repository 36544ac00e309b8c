"""Copy-on-write containers: sessions share the start-up state and keep only what they change.

A :class:`Layered` mapping and an :class:`OrderedIds` sequence each sit on a *base* that
is never changed once shared, with the session's own changes in a small layer on top.
:meth:`copy` freezes what the container holds into a base both copies share, so making a
session costs the same whatever the dataset, and a session's memory grows with what it
changes. Records are never changed in place (writes replace them), so sharing them is safe.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_MISSING = object()
COMPACT_AFTER = 64
"""Holes an :class:`OrderedIds` leaves in its own ids before it may compact them (when they are half)."""


class Layered(Generic[K, V]):
    """A dict over a shared base: writes and deletes go to this copy's own layer.

    Iteration gives the base's keys in their order (with this copy's values), then the
    keys this copy added, in the order it added them.
    """

    __slots__ = ("_base", "_own", "_gone", "_added")

    def __init__(self) -> None:
        self._base: dict[K, V] = {}
        self._own: dict[K, V] = {}
        self._gone: set[K] = set()
        """Base keys this copy deleted (and has not set again)."""
        self._added = 0
        """Keys in ``_own`` that are not in the base."""

    def copy(self) -> Layered[K, V]:
        """An independent copy in O(1) (after this container's first copy, which freezes it)."""
        self._freeze()
        clone: Layered[K, V] = Layered.__new__(Layered)
        clone._base, clone._own, clone._gone, clone._added = self._base, {}, set(), 0
        return clone

    def _freeze(self) -> None:
        if not self._own and not self._gone:
            return
        # the start-up state is built in the own layer: it becomes the base as it is
        merged = self._own if not self._base else dict(self.items())
        self._base, self._own, self._gone, self._added = merged, {}, set(), 0

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        value = self._own.get(key, _MISSING)
        if value is not _MISSING:
            return value
        if key in self._gone:
            return default
        return self._base.get(key, default)

    def __getitem__(self, key: K) -> V:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def reader(self) -> Callable[[K], V]:
        """The fastest ``lookup(key)`` for a batch of reads that changes nothing."""
        base, own = self._base, self._own
        if not own and not self._gone:
            return base.__getitem__
        if not self._gone:  # nothing of the base deleted: a key is this copy's own, else the base's
            return lambda key: own[key] if key in own else base[key]
        return self.__getitem__

    def many(self, keys: Iterable[K]) -> list[V]:
        """The values of ``keys``, each present (``KeyError`` otherwise), read in one pass."""
        base, own = self._base, self._own
        if not own and not self._gone:
            return list(map(base.__getitem__, keys))
        if not self._gone:
            return [own[key] if key in own else base[key] for key in keys]
        return [self[key] for key in keys]

    def release(self, count: int) -> bool:
        """Drop up to ``count`` of this copy's own entries, for a copy nothing uses any more (the shared
        base stays as it is); whether none are left."""
        own = self._own
        for _ in range(min(count, len(own))):
            own.popitem()
        return not own

    def owns(self, key: K) -> bool:
        """Whether this copy holds its own value for ``key`` (one it does not share)."""
        return key in self._own

    def __contains__(self, key: object) -> bool:
        return key in self._own or (key in self._base and key not in self._gone)

    def __setitem__(self, key: K, value: V) -> None:
        own = self._own
        if key not in own and key not in self._base:
            self._added += 1
        own[key] = value
        if self._gone:  # usually empty: no call
            self._gone.discard(key)

    def __delitem__(self, key: K) -> None:
        if key not in self:
            raise KeyError(key)
        in_base = key in self._base
        if self._own.pop(key, _MISSING) is not _MISSING and not in_base:
            self._added -= 1
        if in_base:
            self._gone.add(key)

    def pop(self, key: K, default: D) -> V | D:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            return default
        del self[key]
        return value  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._base) - len(self._gone) + self._added

    def __iter__(self) -> Iterator[K]:
        return (key for key, _ in self.items())

    def items(self) -> Iterator[tuple[K, V]]:
        own, gone = self._own, self._gone
        if not own and not gone:
            yield from self._base.items()
            return
        for key, value in self._base.items():
            if key not in gone:
                yield key, own.get(key, value)
        base = self._base
        for key, value in own.items():
            if key not in base:
                yield key, value

    def values(self) -> Iterator[V]:
        return (value for _, value in self.items())


class OrderedIds(Generic[K]):
    """Ids in creation order over a shared base; a page is a slice, so paging never scans the whole collection.

    Removing a base id records its position (sorted), so a slice finds where to start by
    bisection: O(page + log removed).
    """

    __slots__ = ("_base", "_base_pos", "_removed", "_removed_keys", "_tail", "_tail_pos", "_holes")

    def __init__(self) -> None:
        self._base: list[K] = []
        self._base_pos: dict[K, int] = {}
        self._removed: list[int] = []
        """Positions in the base this copy removed, in order."""
        self._removed_keys: set[K] = set()
        self._tail: list[K | None] = []
        """Ids this copy added; ``None`` where one was removed again."""
        self._tail_pos: dict[K, int] = {}
        self._holes = 0

    def copy(self) -> OrderedIds[K]:
        """An independent copy in O(1) (after this container's first copy, which freezes it)."""
        self._freeze()
        clone: OrderedIds[K] = OrderedIds()
        clone._base, clone._base_pos = self._base, self._base_pos
        return clone

    def _freeze(self) -> None:
        if not self._tail and not self._removed:
            return
        if not self._base and not self._holes:  # built in the tail (start-up): it becomes the base as it is
            ids: list[K] = self._tail  # type: ignore[assignment]  # no holes
            positions = self._tail_pos
        else:
            ids = list(self)
            positions = {key: i for i, key in enumerate(ids)}
        self._base, self._base_pos = ids, positions
        self._removed, self._removed_keys, self._tail, self._tail_pos, self._holes = [], set(), [], {}, 0

    def __len__(self) -> int:
        return len(self._base) - len(self._removed) + len(self._tail_pos)

    def __iter__(self) -> Iterator[K]:
        removed = self._removed_keys
        base: Iterable[K] = (k for k in self._base if k not in removed) if removed else self._base
        yield from base
        yield from (k for k in self._tail if k is not None)

    def add(self, key: K) -> None:
        self._tail_pos[key] = len(self._tail)
        self._tail.append(key)

    def remove(self, key: K) -> None:
        position = self._tail_pos.pop(key, None)
        if position is not None:
            # leave a hole rather than shifting the list: a cascade of deletes stays O(1) each
            self._tail[position] = None
            self._holes += 1
            if self._holes > COMPACT_AFTER and 2 * self._holes > len(self._tail):
                self._compact()  # creates and deletes with no read between never grow the list
            return
        if key in self._removed_keys or key not in self._base_pos:
            raise KeyError(key)
        insort(self._removed, self._base_pos[key])
        self._removed_keys.add(key)

    def page(self, number: int, size: int) -> list[K]:
        """Ids of page ``number`` (from 0) of ``size``."""
        return self.slice(number * size, size)

    def slice(self, start: int, count: int) -> list[K]:
        """At most ``count`` ids from position ``start`` (offset/limit paging)."""
        if self._holes:  # the next read after deletes compacts this copy's own ids once
            self._compact()
        live_base = len(self._base) - len(self._removed)
        found: list[K] = []
        if start < live_base:
            if not self._removed:
                found = self._base[start:start + count]
            else:
                base, removed = self._base, self._removed_keys
                following = (base[p] for p in range(self._physical(start), len(base)))
                found = list(islice((k for k in following if k not in removed), count))
        if len(found) < count:
            tail_start = max(start - live_base, 0)
            found += self._tail[tail_start:tail_start + count - len(found)]  # type: ignore[arg-type]  # compacted
        return found

    def _compact(self) -> None:
        self._tail = [k for k in self._tail if k is not None]
        self._tail_pos = {k: i for i, k in enumerate(self._tail) if k is not None}
        self._holes = 0

    def _physical(self, logical: int) -> int:
        """The base position of the ``logical``-th id still present (removed positions are sorted)."""
        removed = self._removed
        position = logical
        while True:  # the least p with p - (removed positions <= p) == logical
            moved = logical + bisect_right(removed, position)
            if moved == position:
                return position
            position = moved


def ids_of(index: dict[D, OrderedIds[K]], owner: D) -> OrderedIds[K]:
    """The ids ``owner`` has in ``index``, made empty on first use (not ``setdefault``, which would build an
    :class:`OrderedIds` on every write)."""
    ids = index.get(owner)
    if ids is None:
        ids = index[owner] = OrderedIds()
    return ids


class IdsByOwner(Generic[D, K]):
    """Each owner's ids in creation order (a hub's integrations, a hub's commands), for many owners: the owners'
    lists are shared between copies until a copy changes one (it copies that one first)."""

    __slots__ = ("_ids", "_own")

    def __init__(self) -> None:
        self._ids: Layered[D, OrderedIds[K]] = Layered()
        self._own: set[D] = set()
        """Owners whose ids this copy alone holds, so may change in place."""

    def copy(self) -> IdsByOwner[D, K]:
        """An independent copy in O(1): from now on both share every owner's ids."""
        clone: IdsByOwner[D, K] = IdsByOwner()
        clone._ids = self._ids.copy()
        self._own = set()
        return clone

    def get(self, owner: D) -> OrderedIds[K] | None:
        """The owner's ids, to read; ``None`` when it has none yet."""
        return self._ids.get(owner)

    def changing(self, owner: D) -> OrderedIds[K]:
        """The owner's ids, to change: this copy's own (copied on its first change; made on first use)."""
        ids = self._ids.get(owner)
        if ids is None or owner not in self._own:
            ids = OrderedIds() if ids is None else ids.copy()
            self._ids[owner] = ids
            self._own.add(owner)
        return ids

    def pop(self, owner: D) -> OrderedIds[K] | None:
        """Forget the owner (a deleted hub); its ids, which the caller may still read."""
        self._own.discard(owner)
        return self._ids.pop(owner, None)
