"""Overrides: answers on demand, per session, each one checked against the contract when added.

An :class:`Override` is one JSON object (its shape is ``Override`` in contracts/admin.json):
a :class:`~mockhub.engine.matching.Matcher` for the requests it takes, and either a whole answer
(``status``, ``headers``, JSON ``body``) or a ``merge`` deep-merged into the answer the
stateful mock gives (objects key by key; any other value, arrays and ``null`` included,
replaces). A merge changes only a successful JSON answer: an error answer goes out as it
is and does not count. ``times`` limits how many requests an override answers; the first
matching override in the order they were added answers.

:class:`OverrideEngine` holds a session's overrides and their counters. Checking an
override against the API's contract is :mod:`mockhub.contract.override_check`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mockhub.engine import jsonio
from mockhub.engine.errors import Problem, ValidationFailed
from mockhub.engine.matching import Matcher, RequestFacts
from mockhub.engine.ruleids import RuleIds

NO_BODY: Any = object()
"""An answer without a body (a 204); ``None`` is the JSON body ``null``."""
MAX_OVERRIDES = 1000
DEFAULT_MAX_BYTES = 1024 * 1024
"""Bytes in memory (estimated) a session's overrides may hold together (``--max-override-bytes``)."""
"""Most overrides a session holds at once."""


FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer"})
"""Headers that say where an answer ends or what the connection does: an override's own would break the
connection for every later answer on it, so the server keeps setting them."""


@dataclass(frozen=True)
class Override:
    """One override as given."""

    id: str
    matcher: Matcher
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = field(default=NO_BODY)
    merge: Mapping[str, Any] | None = None
    times: int | None = None
    off_contract: bool = False

    @classmethod
    def from_json(cls, value: Mapping[str, Any], rule_id: str) -> Override:
        """Build an override from JSON already checked against the Override schema; checks the combinations."""
        response = value["response"]
        if "merge" in response and ("status" in response or "body" in response):
            raise ValidationFailed(problems=(Problem(
                303, "An override's response is a merge or a whole answer (status, body), not both."),))
        framing = [Problem(303, f"Property 'response.headers.{name}' is not supported: the server sets it from "
                                f"the answer itself (off_contract too).")
                   for name in response.get("headers") or {} if name.lower() in FRAMING_HEADERS]
        if framing:
            raise ValidationFailed(problems=tuple(framing))
        return cls(
            id=rule_id,
            matcher=Matcher.from_json(value),
            status=int(response.get("status", 200)),
            headers=tuple((str(k), str(v)) for k, v in (response.get("headers") or {}).items()),
            body=response.get("body", NO_BODY),
            merge=response.get("merge"),
            times=value.get("times"),
            off_contract=bool(value.get("off_contract", False)),
        )

    def to_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {}
        if self.merge is not None:
            response["merge"] = self.merge
        else:
            response["status"] = self.status
            if self.body is not NO_BODY:
                response["body"] = self.body
        if self.headers:
            response["headers"] = dict(self.headers)
        out: dict[str, Any] = {"id": self.id, **self.matcher.to_json(), "response": response}
        if self.times is not None:
            out["times"] = self.times
        if self.off_contract:
            out["off_contract"] = True
        return out


def merged(base: Any, merge: Any) -> Any:
    """``merge`` deep-merged into ``base``: objects key by key, any other value replaces (a new value)."""
    if not isinstance(base, dict) or not isinstance(merge, Mapping):
        return merge
    out = dict(base)
    for key, value in merge.items():
        out[key] = merged(base[key], value) if key in base else value
    return out


@dataclass
class _Active:
    """An override with its counter."""

    rule: Override
    size: int = 0
    """Bytes in memory (estimated) of the override as it was given."""
    served: int = 0

    @property
    def expired(self) -> bool:
        return self.rule.times is not None and self.served >= self.rule.times

    def to_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {"served": self.served}
        if self.rule.times is not None:
            state["remaining"] = max(self.rule.times - self.served, 0)
        return {**self.rule.to_json(), "state": state}


class OverrideEngine:
    """The overrides of one session, tried in the order they were added."""

    def __init__(self, rules: Iterable[Override] = (), max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._rules = [_Active(rule) for rule in rules]
        self._ids = RuleIds("override", len(self._rules) + 1)
        self._max_bytes = max_bytes

    def __bool__(self) -> bool:
        """Whether any override is set: the one check a request pays when none is."""
        return bool(self._rules)

    @property
    def rules(self) -> tuple[Override, ...]:
        return tuple(a.rule for a in self._rules)

    @property
    def needs_body(self) -> bool:
        """Whether an override matches on the request body (which must then be read before choosing)."""
        return any(a.rule.matcher.needs_body for a in self._rules)

    def add(self, values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Add overrides from (schema- and contract-checked) JSON, all or none; returns them with their counters."""
        if len(self._rules) + len(values) > MAX_OVERRIDES:
            raise ValidationFailed(problems=(Problem(206, f"A session holds at most {MAX_OVERRIDES} overrides; "
                                                          f"it has {len(self._rules)}."),))
        sizes = [jsonio.footprint(value) for value in values]
        held = sum(a.size for a in self._rules)
        if held + sum(sizes) > self._max_bytes:
            raise ValidationFailed(problems=(Problem(206, (
                f"A session's overrides hold at most {self._max_bytes} bytes in memory (--max-override-bytes); "
                f"it holds {held} and {sum(sizes)} more were sent."),),))
        rules = [Override.from_json(value, "") for value in values]
        ids = self._ids.assign(values, (a.rule.id for a in self._rules), "override")
        added = [_Active(replace(rule, id=rule_id), size)
                 for rule, rule_id, size in zip(rules, ids, sizes, strict=True)]
        self._rules.extend(added)
        return [a.to_json() for a in added]

    def remove(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [a for a in self._rules if a.rule.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> None:
        self._rules.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [a.to_json() for a in self._rules]

    def take(self, request: RequestFacts) -> Override | None:
        """The first live override matching the request, counted as serving it; ``None`` if none matches."""
        for active in self._rules:
            if not active.expired and active.rule.matcher.matches(request):
                active.served += 1
                return active.rule
        return None

    def give_back(self, rule: Override) -> None:
        """Uncount a request :meth:`take` counted that the override did not answer (a merge into an error)."""
        for active in self._rules:
            if active.rule is rule:
                active.served -= 1
                return
