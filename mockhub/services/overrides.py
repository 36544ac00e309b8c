"""Overrides: answers on demand, per session, each one checked against the contract when added.

An :class:`Override` is one JSON object (its shape is ``Override`` in contracts/admin.json):
a :class:`~mockhub.kernel.matching.Matcher` for the requests it takes, and either a whole answer
(``status``, ``headers``, JSON ``body``) or a ``merge`` deep-merged into the answer the
stateful mock gives (objects key by key; any other value, arrays and ``null`` included,
replaces). A merge changes only a successful JSON answer: an error answer goes out as it
is and does not count. ``times`` limits how many requests an override answers; the first
matching override in the order they were added answers.

:class:`OverrideEngine` (a :class:`~mockhub.services.rulesets.RuleSet`) holds a session's overrides and their
counters. Checking an override against the API's contract is :mod:`mockhub.services.override_check`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockhub.kernel.errors import Problem, ValidationFailed
from mockhub.kernel.matching import Matcher, RequestFacts
from mockhub.services.rulesets import Held, RuleSet

NO_BODY: Any = object()
"""An answer without a body (a 204); ``None`` is the JSON body ``null``."""
MAX_OVERRIDES = 1000
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


@dataclass(eq=False)
class HeldOverride(Held[Override]):
    """An override with its counter."""

    served: int = 0

    @property
    def expired(self) -> bool:
        return self.rule.times is not None and self.served >= self.rule.times

    def to_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {"served": self.served}
        if self.rule.times is not None:
            state["remaining"] = max(self.rule.times - self.served, 0)
        return {**self.rule.to_json(), "state": state}


class OverrideEngine(RuleSet[Override, HeldOverride]):
    """The overrides of one session (at most :data:`MAX_OVERRIDES`), tried in the order they were added."""

    SCHEMA = "Override"
    ID_PREFIX = "override"
    TOO_MANY = "A session holds at most {max} overrides; it has {held}."
    TOO_BIG = ("A session's overrides hold at most {max} bytes in memory (--max-override-bytes); it holds {held} "
               "and {sent} more were sent.")

    @classmethod
    def read(cls, value: Mapping[str, Any]) -> Override:
        return Override.from_json(value, "")

    def _hold(self, rule: Override, rule_id: str, size: int, position: int) -> HeldOverride:
        return HeldOverride(rule if rule.id == rule_id else replace(rule, id=rule_id), size)

    def take(self, request: RequestFacts) -> Override | None:
        """The first live override matching the request, counted as serving it; ``None`` if none matches."""
        for active in self._held:
            if not active.expired and active.rule.matcher.matches(request):
                active.served += 1
                return active.rule
        return None

    def give_back(self, rule: Override) -> None:
        """Uncount a request :meth:`take` counted that the override did not answer (a merge into an error)."""
        for active in self._held:
            if active.rule is rule:
                active.served -= 1
                return
