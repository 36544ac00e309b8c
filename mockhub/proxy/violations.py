"""What the proxy found off-contract: one :class:`Violation` per side of an exchange, and their log.

Everything a violation keeps is bounded (:class:`ViolationLimits`), since a client sends what it
likes: a body with 300,000 unknown properties is 300,000 problems. A violation keeps its first
``problems`` problems, each cut to :data:`PROBLEM_CHARS`, and counts the rest; the log keeps the
latest ``count`` violations within ``total_bytes`` (each counted in memory or rendered as JSON,
whichever is more); a log line lists what fits in :data:`LINE_CHARS`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Literal

from mockhub.kernel.clock import portal_time
from mockhub.kernel.jsonio import dumps, stored_bytes
from mockhub.kernel.text import xml_safe

Side = Literal["request", "response"]
NO_OPERATION = "(no operation)"
"""The JUnit testcase of requests to no operation of the contract (an unknown route or method)."""
PROBLEM_CHARS = 1024
"""Characters kept of a problem's ``at`` and of its message (a property's name may be a megabyte long)."""
LINE_CHARS = 2048
"""Characters of a violation's log line at most: the problems that fit, then how many more there are."""
PATH_CHARS = 256
"""Characters of the path a log line shows."""
COUNTED = 10_000
"""Problems a check of one side of an exchange counts at most: past them it stops (a body of millions of
problems would block the proxy for seconds); ``more_problems`` then says how many were counted."""
OBJECT_BYTES = 200
"""Bytes a violation or a problem takes in memory besides its strings (the objects, their slots)."""


@dataclass(frozen=True)
class ViolationLimits:
    """How much of what it finds off-contract the proxy keeps."""

    count: int = 1000
    """Violations ``GET /__mockhub/violations`` keeps (the oldest go first); JUnit counts them all."""
    problems: int = 100
    """Problems each violation keeps; the rest are counted (``more_problems``)."""
    total_bytes: int = 8 * 1024 * 1024
    """Bytes the kept violations hold together; past it the oldest go first."""


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 3] + "..."


@dataclass(frozen=True)
class Finding:
    """One thing off-contract: in which part of the message (``body``, ``header``, ``query``, ``path``,
    ``status``, ``route``), where in it (a JSON path such as ``$.errors[0].code``, a header's or a
    parameter's name; empty when the part says it all) and what."""

    part: str
    at: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"in": self.part, "at": self.at, "message": self.message}

    def cut(self) -> Finding:
        """The problem with its ``at`` and message at most :data:`PROBLEM_CHARS` characters each."""
        if len(self.at) <= PROBLEM_CHARS and len(self.message) <= PROBLEM_CHARS:
            return self
        return Finding(self.part, _cut(self.at, PROBLEM_CHARS), _cut(self.message, PROBLEM_CHARS))

    def shown(self) -> str:
        """As a log line says it."""
        return f"{self.message} (at {self.at})" if self.part == "body" and self.at != "$" else self.message


@dataclass(frozen=True)
class Findings:
    """What a check found on one side of an exchange: the first problems, cut, and how many more there were."""

    problems: tuple[Finding, ...] = ()
    more: int = 0

    @classmethod
    def of(cls, found: Iterable[Finding], most: int) -> Findings:
        """The first ``most`` of ``found`` (each cut), counting the rest up to :data:`COUNTED` problems in all;
        ``found`` is read no further (a check that yields its problems one by one stops there)."""
        seen = iter(found)
        kept = tuple(problem.cut() for problem in islice(seen, most))
        return cls(kept, sum(1 for _ in islice(seen, max(COUNTED - most, 0))))


@dataclass(frozen=True)
class Violation:
    """One side of one exchange that broke the contract, with every problem found on that side."""

    time: datetime
    method: str
    path: str
    status: int
    side: Side
    operation: str | None
    """The contract's operationId; ``None`` for a route or method the contract does not have."""
    problems: tuple[Finding, ...]
    more_problems: int = 0
    """Problems found past those kept."""

    @classmethod
    def of(cls, time: datetime, method: str, path: str, status: int, side: Side, operation: str | None,
           found: Findings) -> Violation:
        return cls(time, method, path, status, side, operation, found.problems, found.more)

    def line(self) -> str:
        """The log line: side, operation, exchange, then the problems that fit in :data:`LINE_CHARS`."""
        head = (f"violation ({self.side}) {self.operation or NO_OPERATION} "
                f"{self.method} {_cut(self.path, PATH_CHARS)} -> {self.status}: ")
        said: list[str] = []
        room = LINE_CHARS - len(head) - 32  # 32: room for the count of the rest
        for problem in self.problems:
            text = problem.shown()
            if said and len(text) + 2 > room:
                break
            said.append(_cut(text, room))  # the first alone may be cut
            room -= len(said[-1]) + 2
        unsaid = len(self.problems) + self.more_problems - len(said)
        return head + "; ".join(said) + (f"; and {unsaid} more" if unsaid else "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"time": portal_time(self.time), "method": self.method, "path": self.path,
                               "status": self.status, "side": self.side, "operation": self.operation,
                               "problems": [p.to_json() for p in self.problems]}
        if self.more_problems:
            out["more_problems"] = self.more_problems
        return out

    def size(self) -> int:
        """Bytes the violation holds: in memory or rendered as JSON, whichever is more."""
        stored = sum(stored_bytes(p.at) + stored_bytes(p.message) + OBJECT_BYTES for p in self.problems)
        return OBJECT_BYTES + len(self.path) + max(stored, len(dumps(self.to_json())))


class ViolationLog:
    """The latest violations (within ``limits``), and per operation seen how many exchanges and how many violated."""

    def __init__(self, limits: ViolationLimits) -> None:
        self.limits = limits
        self._latest: deque[tuple[Violation, int]] = deque()
        self._used = 0
        self._seen: dict[str, list[int]] = {}
        self._failures: dict[str, list[str]] = {}

    def exchange(self, operation: str | None, violations: list[Violation]) -> None:
        """Count one exchange of ``operation`` and keep its violations, the oldest going past the limits."""
        counts = self._seen.setdefault(operation or NO_OPERATION, [0, 0])
        counts[0] += 1
        if not violations:
            return
        counts[1] += 1
        for violation in violations:
            size = violation.size()
            self._latest.append((violation, size))
            self._used += size
        latest = self._latest
        while len(latest) > self.limits.count or self._used > self.limits.total_bytes:
            self._used -= latest.popleft()[1]
        failures = self._failures.setdefault(operation or NO_OPERATION, [])
        if len(failures) < 20:  # the JUnit failure text quotes the first ones
            failures.extend(v.line() for v in violations)

    def latest(self) -> list[Violation]:
        return [violation for violation, _ in self._latest]

    def clear(self) -> None:
        """Forget the violations kept for ``GET /__mockhub/violations`` (JUnit still counts them)."""
        self._latest.clear()
        self._used = 0

    def junit(self, target: str) -> str:
        """JUnit XML: one testcase per operation seen, failed when any of its exchanges violated the contract."""
        failed = sum(1 for _, bad in self._seen.values() if bad)
        root = ET.Element("testsuites", name="mockhub proxy", tests=str(len(self._seen)), failures=str(failed))
        suite = ET.SubElement(root, "testsuite", name="mockhub proxy", tests=str(len(self._seen)),
                              failures=str(failed), skipped="0")
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="target", value=target)
        for operation, (exchanges, bad) in sorted(self._seen.items()):
            case = ET.SubElement(suite, "testcase", classname="mockhub.proxy", name=operation)
            ET.SubElement(case, "system-out").text = f"{exchanges} exchange{'s' * (exchanges != 1)}, {bad} off-contract"
            if bad:
                lines = self._failures[operation]
                failure = ET.SubElement(case, "failure", type="ContractViolation",
                                        message=f"{bad} of {exchanges} exchanges broke the contract")
                failure.text = "\n".join(lines)
        return xml_safe(ET.tostring(root, encoding="unicode", xml_declaration=True))
