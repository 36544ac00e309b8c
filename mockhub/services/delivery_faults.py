"""Delivery faults (decisions.md, Webhooks): what a session's webhook deliveries do wrong on purpose, so that a
receiver's robustness can be tested: a wrong signature, a missing header, the same delivery twice, a delay, and
attempts that fail whatever the receiver answers.

A :class:`DeliveryFault` is one JSON object (``DeliveryFault`` in contracts/admin.json) whose
request part is a :class:`~mockhub.kernel.matching.Matcher` of the attempt as sent (its URL's
path, its headers, its JSON body), with ``payload`` (system or direct) besides; it applies to
each attempt it matches, ``after`` the first ones and ``times`` at most. The rules of a session
are one :class:`~mockhub.services.rulesets.RuleSet`, like its fault rules and overrides: each
rule's shape is checked by the control API's schema, and against the webhooks the APIs'
contract declares (:func:`~mockhub.services.override_check.check_delivery_faults`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockhub.kernel.errors import Problem, ValidationFailed
from mockhub.kernel.matching import Matcher, RequestFacts, is_glob
from mockhub.kernel.signing import SIGNATURE_HEADER
from mockhub.services.faults import MAX_GLOB_LENGTH
from mockhub.services.rulesets import Held, RuleSet

BAD_SIGNATURE, MISSING_HEADER, DUPLICATE, FAIL = "bad-signature", "missing-header", "duplicate", "fail"
FAULTS = (BAD_SIGNATURE, MISSING_HEADER, DUPLICATE, FAIL)
"""bad-signature: the signature of other bytes; missing-header: one documented header left out; duplicate: the
attempt sent twice; fail: the attempt counted failed whatever the answer, so the retries follow."""


@dataclass(frozen=True)
class DeliveryFault:
    """One delivery fault as given."""

    id: str
    matcher: Matcher = field(default_factory=Matcher)
    payload: str | None = None
    fault: str | None = None
    header: str = SIGNATURE_HEADER
    delay_ms: int = 0
    times: int | None = None
    after: int = 0

    @classmethod
    def from_json(cls, value: Mapping[str, Any], rule_id: str) -> DeliveryFault:
        """A rule from JSON that fits the DeliveryFault schema; ``ValidationFailed`` for a wrong combination."""
        if "fault" not in value and not value.get("delay_ms"):
            raise ValidationFailed(problems=(Problem(301, "A delivery fault needs an effect: fault or delay_ms."),))
        path = value.get("path")
        if path is not None and len(path) > MAX_GLOB_LENGTH and is_glob(path):
            raise ValidationFailed(problems=(Problem(206, (
                f"A path pattern (with *, ? or [) has at most {MAX_GLOB_LENGTH} characters; this one has {len(path)}."
            )),))
        if "header" in value and value.get("fault") != MISSING_HEADER:
            raise ValidationFailed(problems=(Problem(303, "Property 'header' is not supported: it names the header "
                                                          "a missing-header fault leaves out."),))
        return cls(id=rule_id, matcher=Matcher.from_json(value), payload=value.get("payload"),
                   fault=value.get("fault"), header=str(value.get("header", SIGNATURE_HEADER)).lower(),
                   delay_ms=int(value.get("delay_ms", 0)), times=value.get("times"), after=int(value.get("after", 0)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, **self.matcher.to_json()}
        if self.payload is not None:
            out["payload"] = self.payload
        if self.fault is not None:
            out["fault"] = self.fault
        if self.fault == MISSING_HEADER:
            out["header"] = self.header
        if self.delay_ms:
            out["delay_ms"] = self.delay_ms
        if self.times is not None:
            out["times"] = self.times
        if self.after:
            out["after"] = self.after
        return out


@dataclass(frozen=True)
class Misdelivery:
    """What the rules do to one attempt: a delay, then at most one fault (the first rule with one decides)."""

    delay_ms: int = 0
    fault: str | None = None
    header: str = SIGNATURE_HEADER
    labels: tuple[str, ...] = ()

    @property
    def label(self) -> str | None:
        """How the delivery log names it (``bad-signature``, ``delay 500ms``...)."""
        return ", ".join(self.labels) or None


@dataclass(eq=False)
class HeldDeliveryFault(Held[DeliveryFault]):
    matched: int = 0
    fired: int = 0

    @property
    def ended(self) -> bool:
        return self.rule.times is not None and self.fired >= self.rule.times

    def to_json(self) -> dict[str, Any]:
        counters: dict[str, Any] = {"matched": self.matched, "fired": self.fired, "ended": self.ended}
        if self.rule.times is not None:
            counters["remaining"] = max(self.rule.times - self.fired, 0)
        return {**self.rule.to_json(), **counters}


class DeliveryFaultEngine(RuleSet[DeliveryFault, HeldDeliveryFault]):
    """The delivery faults of one session, applied to each attempt in the order they were added."""

    SCHEMA = "DeliveryFault"
    ID_PREFIX = "delivery-fault"
    TOO_MANY = ("A session holds at most {max} delivery faults (--max-fault-rules); it has {held} and {sent} more "
                "were sent. Remove some first.")
    TOO_BIG = ("A session's delivery faults hold at most {max} bytes in memory (--max-fault-bytes); it holds {held} "
               "and {sent} more were sent.")

    @classmethod
    def read(cls, value: Mapping[str, Any]) -> DeliveryFault:
        return DeliveryFault.from_json(value, "")

    def _hold(self, rule: DeliveryFault, rule_id: str, size: int, position: int) -> HeldDeliveryFault:
        return HeldDeliveryFault(rule if rule.id == rule_id else replace(rule, id=rule_id), size)

    def decide(self, attempt: RequestFacts, payload: str) -> Misdelivery | None:
        """What happens to an attempt (``payload``: system or direct); ``None`` when nothing does."""
        delay, fault, header, labels = 0, None, SIGNATURE_HEADER, []
        for active in self._held:
            rule = active.rule
            if active.ended or (rule.payload is not None and rule.payload != payload) or not rule.matcher.matches(
                    attempt):
                continue
            active.matched += 1
            if active.matched <= rule.after or (fault is not None and not rule.delay_ms):
                continue
            active.fired += 1
            if rule.delay_ms:
                delay += rule.delay_ms
                labels.append(f"delay {rule.delay_ms}ms")
            if fault is None and rule.fault is not None:
                fault, header = rule.fault, rule.header
                labels.append(f"{rule.fault} {rule.header}" if rule.fault == MISSING_HEADER else rule.fault)
        return Misdelivery(delay, fault, header, tuple(labels)) if labels else None
