"""Fault injection (decisions.md, Faults): any 4xx or 5xx answer, latency, rate limits, broken connections.

A :class:`FaultRule` is one JSON object (its shape is ``FaultRule`` in contracts/admin.json)
whose request part is a :class:`~mockhub.kernel.matching.Matcher`. Each session has a
:class:`FaultEngine` (a :class:`~mockhub.services.rulesets.RuleSet`) holding its rules and their
counters. Probabilities draw from the session's seeded random source, so after a reset the
same requests meet the same faults: a flaky test can be replayed.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockhub.kernel.errors import ApiError, Problem, ValidationFailed
from mockhub.kernel.jsonio import footprint, small_integer
from mockhub.kernel.matching import Matcher, RequestFacts, is_glob
from mockhub.kernel.randomness import SeededRandom
from mockhub.services.rulesets import Held, RuleLimits, RuleSet

ERROR_STATUSES = range(400, 600)
"""The statuses a fault may answer with: every 4xx and 5xx."""
RETRY_AFTER_STATUSES = (429, 503)
"""Statuses that carry ``Retry-After`` (RFC 6585 section 4, RFC 9110 section 15.6.4)."""
CONNECTION_FAULTS = ("reset", "malformed")
PASS = "pass"
DEFAULT_RETRY_AFTER = 1
FAULT_HEADER = "X-Mockhub-Fault"
DELAY_HEADER = "X-Mockhub-Delay"
MAX_DELAY_MS = 60_000
MAX_GLOB_LENGTH = 256
"""Longest glob ``path`` of a rule: a long one costs milliseconds to compile and to match."""
WINDOW_ENTRY_BYTES = 32
"""Bytes one request counted in a ``rate_limit`` window holds (a time in a deque)."""


def rule_bytes(value: Mapping[str, Any]) -> int:
    """What a rule (as given) may come to hold in memory: its value, and its rate-limit window when full."""
    limit = value.get("rate_limit")
    return footprint(value) + (int(limit["requests"]) * WINDOW_ENTRY_BYTES if limit else 0)


class InjectedFault(ApiError):
    """An answer a fault rule or header asked for, in the API's own error format.

    The Portal API's documented code for the status where it has one; PRT000111, the next free
    general code, for 429 (PRT000110 is the 405 of a wrong method, so a client can tell them
    apart) and PRT000104 "not available" for 503, which have none; otherwise
    PRT000107 "operation not valid" for a 4xx and PRT000100 "system error" for a 5xx (the
    contract's FaultRule states this). Era's code is always 1000 + the status.
    """

    CODES = {400: (300, "The request is not valid."),
             401: (102, "The access token is missing, malformed or unknown."),
             403: (101, "Access to the requested resource is forbidden."),
             404: (105, "Resource not found."),
             408: (108, "The request timed out."),
             409: (106, "The resource already exists."),
             410: (104, "The resource is not available any more."),
             417: (107, "The operation is not valid."),
             429: (111, "Too many requests: the API usage limit has been reached."),
             500: (100, "The service had an internal error."),
             501: (103, "The operation is not implemented."),
             502: (100, "Bad gateway: the service behind the gateway gave no valid answer."),
             503: (104, "The service is unavailable."),
             504: (108, "Gateway timeout: the service behind the gateway did not answer in time.")}

    def __init__(self, status: int, retry_after: int | None = None, allow: Iterable[str] = ()) -> None:
        code, message = self.CODES.get(status) or (
            (107, f"The request cannot be served (HTTP {status}).") if status < 500
            else (100, f"The service had an error (HTTP {status})."))
        self.status = status
        self.code = code
        super().__init__(message)
        headers: dict[str, str] = {}
        if status in RETRY_AFTER_STATUSES:
            headers["Retry-After"] = str(DEFAULT_RETRY_AFTER if retry_after is None else retry_after)
        elif status == 401:  # RFC 9110 section 11.6.1: a 401 names its challenge
            headers["WWW-Authenticate"] = 'Bearer realm="mockhub"'
        elif status == 405 and allow:  # RFC 9110 section 15.5.6: a 405 names the allowed methods
            headers["Allow"] = ", ".join(sorted(allow))
        self.headers = headers


@dataclass(frozen=True)
class RateLimit:
    requests: int
    per_seconds: float


@dataclass(frozen=True)
class FaultRule:
    """One rule as given; every field but the effect is optional."""

    id: str
    matcher: Matcher = field(default_factory=Matcher)
    status: int | None = None
    fault: str | None = None
    probability: float = 1.0
    times: int | None = None
    after: int = 0
    sequence: tuple[int | str, ...] | None = None
    delay_ms: int = 0
    retry_after: int | None = None
    rate_limit: RateLimit | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any], rule_id: str) -> FaultRule:
        """Build a rule from JSON already checked against the FaultRule schema; checks the combinations."""
        effects = [k for k in ("status", "fault", "sequence", "rate_limit") if k in value]
        if len(effects) > 1:
            raise ValidationFailed(problems=(Problem(303, f"A rule has one effect; it gives {', '.join(effects)}."),))
        if not effects and not value.get("delay_ms"):
            raise ValidationFailed(problems=(Problem(
                301, "A rule needs an effect: status, fault, sequence, rate_limit or delay_ms."),))
        path = value.get("path")
        if path is not None and len(path) > MAX_GLOB_LENGTH and is_glob(path):
            raise ValidationFailed(problems=(Problem(206, (
                f"A path pattern (with *, ? or [) has at most {MAX_GLOB_LENGTH} characters; "
                f"this one has {len(path)}."),),))
        limit = value.get("rate_limit")
        return cls(
            id=rule_id,
            matcher=Matcher.from_json(value),
            status=value.get("status"),
            fault=value.get("fault"),
            probability=float(value.get("probability", 1.0)),
            times=value.get("times"),
            after=int(value.get("after", 0)),
            sequence=tuple(value["sequence"]) if "sequence" in value else None,
            delay_ms=int(value.get("delay_ms", 0)),
            retry_after=value.get("retry_after"),
            rate_limit=RateLimit(int(limit["requests"]), float(limit["per_seconds"])) if limit else None,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, **self.matcher.to_json()}
        for name in ("status", "fault", "times", "retry_after"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.probability != 1.0:
            out["probability"] = self.probability
        if self.after:
            out["after"] = self.after
        if self.sequence is not None:
            out["sequence"] = list(self.sequence)
        if self.delay_ms:
            out["delay_ms"] = self.delay_ms
        if self.rate_limit is not None:
            out["rate_limit"] = {"requests": self.rate_limit.requests, "per_seconds": self.rate_limit.per_seconds}
        return out


@dataclass(slots=True)
class Decision:
    """What happens to one request: a delay, then an answer (status or connection fault) or none."""

    delay_ms: int = 0
    status: int | None = None
    connection: str | None = None
    retry_after: int | None = None
    label: str | None = None
    """How the journal names the fault."""

    @property
    def answers(self) -> bool:
        return self.status is not None or self.connection is not None

    def delayed(self, delay_ms: int) -> Decision:
        """This decision, ``delay_ms`` later (a request's own X-Mockhub-Delay before what a rule decided)."""
        if delay_ms:
            self.delay_ms += delay_ms
            if not self.answers:
                self.label = f"delay {self.delay_ms}ms"
        return self


@dataclass(eq=False)
class HeldFault(Held[FaultRule]):
    """A rule with its counters and its place in the order rules apply."""

    order: int = 0
    matched: int = 0
    fired: int = 0
    window: deque[float] = field(default_factory=deque)

    @property
    def expired(self) -> bool:
        rule = self.rule
        if rule.times is not None and self.fired >= rule.times:
            return True
        return rule.sequence is not None and self.matched - rule.after >= len(rule.sequence)

    def to_json(self) -> dict[str, Any]:
        counters: dict[str, Any] = {"matched": self.matched, "fired": self.fired}
        if self.rule.times is not None:
            counters["remaining"] = max(self.rule.times - self.fired, 0)
        return {**self.rule.to_json(), **counters, "ended": self.expired}


class FaultEngine(RuleSet[FaultRule, HeldFault]):
    """The fault rules of one session, applied in the order they were added.

    Rules for one exact path are indexed by it, so a request only looks at the rules that
    name its path and the ones with a glob or no path: the cost does not grow with the
    number of exact-path rules for other paths.
    """

    SCHEMA = "FaultRule"
    ID_PREFIX = "rule"
    TOO_MANY = ("A session holds at most {max} fault rules (--max-fault-rules); it has {held} and {sent} more were "
                "sent. Remove some first.")
    TOO_BIG = ("A session's fault rules hold at most {max} bytes in memory (--max-fault-bytes), a rate_limit's window "
               "counted full; it holds {held} and {sent} more were sent.")

    def __init__(self, rules: Iterable[FaultRule], limits: RuleLimits,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``monotonic`` times the rate-limit windows."""
        self._monotonic = monotonic
        super().__init__(rules, limits)

    @classmethod
    def read(cls, value: Mapping[str, Any]) -> FaultRule:
        return FaultRule.from_json(value, "")

    def _size(self, value: Mapping[str, Any]) -> int:
        return rule_bytes(value)

    def _hold(self, rule: FaultRule, rule_id: str, size: int, position: int) -> HeldFault:
        return HeldFault(rule if rule.id == rule_id else replace(rule, id=rule_id), size, order=position)

    def _changed(self) -> None:
        self._by_path: dict[str, list[HeldFault]] = {}
        self._general: list[HeldFault] = []
        for active in self._held:
            matcher = active.rule.matcher
            if matcher.path is None or matcher.glob:
                self._general.append(active)
            else:
                self._by_path.setdefault(matcher.path, []).append(active)

    def _candidates(self, path: str) -> Iterable[HeldFault]:
        """The rules that may match ``path``, in the order they were added."""
        exact = self._by_path.get(path)
        if exact is None:
            return self._general
        if not self._general:
            return exact
        merged: Iterator[HeldFault] = heapq.merge(exact, self._general, key=lambda a: a.order)
        return merged

    def decide(self, request: RequestFacts, random: SeededRandom) -> Decision | None:
        """Apply the rules to a request in order; ``None`` when nothing happens to it.

        Delays of every firing rule add up; the first rule that answers (a status or a
        connection fault) decides the answer.
        """
        decision: Decision | None = None
        for active in self._candidates(request.path):
            rule = active.rule
            if active.expired or not rule.matcher.matches(request):
                continue
            active.matched += 1
            if active.matched <= rule.after:
                continue
            fired = self._fire(active, random)
            if fired is None:
                continue
            active.fired += 1
            if decision is not None:
                fired.delay_ms += decision.delay_ms
            decision = fired
            if fired.answers:
                break
        return decision

    def _fire(self, active: HeldFault, random: SeededRandom) -> Decision | None:
        rule = active.rule
        if rule.rate_limit is not None:
            wait = self._rate_limited(active, rule.rate_limit)
            return None if wait is None else Decision(rule.delay_ms, 429, None, wait, "rate_limit")
        if rule.probability < 1.0 and random.random() >= rule.probability:
            return None
        effect: int | str | None = rule.status if rule.status is not None else rule.fault
        if rule.sequence is not None:
            effect = rule.sequence[active.matched - rule.after - 1]
            if effect == PASS:
                return None
        if effect is None:
            return Decision(rule.delay_ms, label=f"delay {rule.delay_ms}ms")
        if isinstance(effect, int):
            return Decision(rule.delay_ms, effect, None, rule.retry_after, str(effect))
        return Decision(rule.delay_ms, None, effect, None, effect)

    def _rate_limited(self, active: HeldFault, limit: RateLimit) -> int | None:
        """Seconds to wait once the matching requests in the sliding window exceed the limit."""
        now = self._monotonic()
        window = active.window
        while window and window[0] <= now - limit.per_seconds:
            window.popleft()
        if len(window) < limit.requests:
            window.append(now)
            return None
        return max(1, math.ceil(window[0] + limit.per_seconds - now))


def header_decision(fault: str | None, delay: str | None) -> Decision | None:
    """The fault asked for by ``X-Mockhub-Fault`` / ``X-Mockhub-Delay`` (for browser apps)."""
    if fault is None and delay is None:
        return None
    decision = Decision()
    if delay is not None:
        delay_ms = small_integer(delay)
        if delay_ms is None or delay_ms > MAX_DELAY_MS:
            raise ValidationFailed(problems=(Problem(
                206, f"Header {DELAY_HEADER} must be milliseconds from 0 to {MAX_DELAY_MS}, not '{delay[:32]}'."),))
        decision.delay_ms = delay_ms
        decision.label = f"delay {decision.delay_ms}ms"
    if fault is not None:
        value = fault.strip().lower()
        status = small_integer(value, 3)
        if status is not None and status in ERROR_STATUSES:
            decision.status = status
            decision.label = str(status)
        elif value in CONNECTION_FAULTS:
            decision.connection = value
            decision.label = value
        else:
            options = f"a status from 400 to 599, {' or '.join(CONNECTION_FAULTS)}"
            raise ValidationFailed(problems=(Problem(
                206, f"Header {FAULT_HEADER} must be {options}, not '{fault[:32]}'."),))
    return decision
