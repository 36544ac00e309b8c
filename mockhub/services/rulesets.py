"""A session's rules of one kind (fault rules, overrides): what every kind shares, written once.

A :class:`RuleSet` holds its rules in the order they were added, each with a unique id (given,
or ``<prefix>-N``), at most ``max_rules`` of them and ``max_bytes`` bytes (estimated) together.
An add goes in all or none: every rule is read (its combinations checked) and the bounds and
ids checked before any goes in. The shape of a rule is checked in one place,
:meth:`RuleSet.check`: the control API's schema of its kind, then what reading it checks.

Each kind is a subclass that says how to read a rule, what one costs in memory and what it
keeps beside the rule (counters); and adds what it does with them (decide a fault, take an
override).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from mockhub.kernel.errors import Problem, ValidationFailed
from mockhub.kernel.jsonio import footprint
from mockhub.kernel.matching import Matcher
from mockhub.services.ruleids import RuleIds


class Rule(Protocol):
    """What every kind of rule has: an id, a matcher, and its JSON as given."""

    @property
    def id(self) -> str: ...

    @property
    def matcher(self) -> Matcher: ...

    def to_json(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=Rule)


@dataclass(eq=False)
class Held(Generic[T]):
    """A rule as a session holds it. A kind's subclass adds its counters (and their JSON)."""

    rule: T
    size: int = 0
    """Bytes in memory (estimated) counted against ``max_bytes``; 0 for a start-up rule."""

    def to_json(self) -> dict[str, Any]:
        return self.rule.to_json()


H = TypeVar("H", bound=Held[Any])


@dataclass(frozen=True)
class RuleLimits:
    """How much of one kind of rule a session may hold."""

    max_rules: int
    """Rules at once."""
    max_bytes: int | None
    """Bytes in memory (estimated) the rules added later hold together; ``None``: no bound."""


class RuleSet(ABC, Generic[T, H]):
    """The rules of one kind a session holds, in the order they apply."""

    SCHEMA: ClassVar[str]
    """The control API's schema of one rule (``FaultRule``, ``Override``)."""
    ID_PREFIX: ClassVar[str]
    """Generated ids are ``<prefix>-N``; a refused id is named "a <prefix> with id ..."."""
    TOO_MANY: ClassVar[str]
    """The refusal past ``max_rules``; formatted with ``max``, ``held`` and ``sent``."""
    TOO_BIG: ClassVar[str]
    """The refusal past ``max_bytes``; formatted with ``max``, ``held`` and ``sent``."""

    def __init__(self, rules: Iterable[T], limits: RuleLimits) -> None:
        """``rules`` (checked already: the start-up ones) are held first; ``limits`` bound the rules added later."""
        self._held: list[H] = [self._hold(rule, rule.id, 0, position) for position, rule in enumerate(rules)]
        self._positions = len(self._held)
        self._limits = limits
        self._ids = RuleIds(self.ID_PREFIX, len(self._held) + 1)
        self._changed()

    # --- what each kind says

    @classmethod
    @abstractmethod
    def read(cls, value: Mapping[str, Any]) -> T:
        """The rule a value (fitting :attr:`SCHEMA`) gives, its id still empty; ``ValidationFailed`` for a
        combination the schema cannot say is wrong."""

    def _size(self, value: Mapping[str, Any]) -> int:
        """Bytes in memory (estimated) a rule may come to hold, from its value as given: what the value takes
        (a kind whose rules hold more than their value, such as rate-limit windows, says so itself)."""
        return footprint(value)

    @abstractmethod
    def _hold(self, rule: T, rule_id: str, size: int, position: int) -> H:
        """What the set keeps of a rule, given its id (``position`` grows with each rule added, in order)."""

    def _changed(self) -> None:
        """Called after rules come or go (a kind that indexes its rules rebuilds the index)."""

    # --- what every kind shares

    @classmethod
    def check(cls, values: Iterable[Mapping[str, Any]], schema: Callable[[str, Any], None]) -> None:
        """The one shape check of this kind: each value fits the control API's schema (``schema(name, value)``
        raises, as :meth:`~mockhub.contract.contracts.Contract.check` does), then reads as a rule.
        Raises :class:`~mockhub.kernel.errors.ValidationFailed` naming the first problem found."""
        for value in values:
            schema(cls.SCHEMA, value)
            cls.read(value)

    def __bool__(self) -> bool:
        """Whether any rule is held: the one check a request pays when none is."""
        return bool(self._held)

    def __iter__(self) -> Iterator[H]:
        """The rules held, in order."""
        return iter(self._held)

    @property
    def rules(self) -> tuple[T, ...]:
        return tuple(held.rule for held in self._held)

    @property
    def needs_body(self) -> bool:
        """Whether a rule matches on the request body (which must then be read before the rules apply)."""
        return any(held.rule.matcher.needs_body for held in self._held)

    def add(self, values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add rules from (schema-checked) JSON, all or none; returns them with their ids and counters."""
        limits = self._limits
        if len(self._held) + len(values) > limits.max_rules:
            raise ValidationFailed(problems=(Problem(206, self.TOO_MANY.format(
                max=limits.max_rules, held=len(self._held), sent=len(values))),))
        rules = [self.read(value) for value in values]  # every rule valid before ids are taken
        sizes = [self._size(value) for value in values]
        held = sum(h.size for h in self._held)
        if limits.max_bytes is not None and held + sum(sizes) > limits.max_bytes:
            raise ValidationFailed(problems=(Problem(206, self.TOO_BIG.format(
                max=limits.max_bytes, held=held, sent=sum(sizes))),))
        ids = self._ids.assign(values, (h.rule.id for h in self._held), self.ID_PREFIX)
        first = self._positions
        added = [self._hold(rule, rule_id, size, first + n)
                 for n, (rule, rule_id, size) in enumerate(zip(rules, ids, sizes, strict=True))]
        self._positions += len(added)
        self._held.extend(added)
        self._changed()
        return [h.to_json() for h in added]

    def remove(self, rule_id: str) -> bool:
        """Remove the rule with this id; whether there was one."""
        before = len(self._held)
        self._held = [h for h in self._held if h.rule.id != rule_id]
        self._changed()
        return len(self._held) != before

    def clear(self) -> None:
        self._held.clear()
        self._changed()

    def to_json(self) -> list[dict[str, Any]]:
        """Every rule held, in order, with its id and counters."""
        return [h.to_json() for h in self._held]
