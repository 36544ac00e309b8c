"""Ids for a session's rules (fault rules, overrides): given ones kept unique, the others numbered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mockhub.kernel.errors import Problem, ValidationFailed


class RuleIds:
    """Hands out ``<prefix>-N`` ids, skipping any a client gave that look like generated ones."""

    __slots__ = ("_prefix", "_next")

    def __init__(self, prefix: str, start: int = 1) -> None:
        self._prefix = prefix
        self._next = start

    def assign(self, values: Sequence[Mapping[str, Any]], taken: Iterable[str], kind: str) -> list[str]:
        """One id per value: its own ``id`` or the next free generated one. All or none: 400 naming
        an id that is already used (by ``taken`` or by another of ``values``), and nothing changes."""
        used = set(taken)
        named = {str(v["id"]) for v in values if "id" in v}
        ids: list[str] = []
        number = self._next
        for value in values:
            if "id" in value:
                rule_id = str(value["id"])
            else:
                while f"{self._prefix}-{number}" in used or f"{self._prefix}-{number}" in named:
                    number += 1
                rule_id, number = f"{self._prefix}-{number}", number + 1
            if rule_id in used:
                raise ValidationFailed(problems=(Problem(206, f"A {kind} with id '{rule_id}' already exists."),))
            used.add(rule_id)
            ids.append(rule_id)
        self._next = number
        return ids
