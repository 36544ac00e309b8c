"""What the proxy found off-contract: one :class:`Violation` per side of an exchange, and their log."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mockhub.engine.clock import portal_time
from mockhub.engine.text import xml_safe

Side = Literal["request", "response"]
NO_OPERATION = "(no operation)"
"""The JUnit testcase of requests to no operation of the contract (an unknown route or method)."""


@dataclass(frozen=True)
class Problem:
    """One thing off-contract: in which part of the message (``body``, ``header``, ``query``, ``path``,
    ``status``, ``route``), where in it (a JSON path such as ``$.errors[0].code``, a header's or a
    parameter's name; empty when the part says it all) and what."""

    part: str
    at: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"in": self.part, "at": self.at, "message": self.message}


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
    problems: tuple[Problem, ...]

    def line(self) -> str:
        """The log line: side, operation, exchange, then each problem."""
        problems = "; ".join(f"{p.message} (at {p.at})" if p.part == "body" and p.at != "$" else p.message
                             for p in self.problems)
        return (f"violation ({self.side}) {self.operation or NO_OPERATION} "
                f"{self.method} {self.path} -> {self.status}: {problems}")

    def to_json(self) -> dict[str, Any]:
        return {"time": portal_time(self.time), "method": self.method, "path": self.path, "status": self.status,
                "side": self.side, "operation": self.operation,
                "problems": [p.to_json() for p in self.problems]}


class ViolationLog:
    """The latest violations (bounded), and per operation seen how many exchanges and how many violated."""

    def __init__(self, size: int) -> None:
        self._latest: deque[Violation] = deque(maxlen=size)
        self._seen: dict[str, list[int]] = {}
        self._failures: dict[str, list[str]] = {}

    def exchange(self, operation: str | None, violations: list[Violation]) -> None:
        """Count one exchange of ``operation`` and keep its violations."""
        counts = self._seen.setdefault(operation or NO_OPERATION, [0, 0])
        counts[0] += 1
        if violations:
            counts[1] += 1
            self._latest.extend(violations)
            failures = self._failures.setdefault(operation or NO_OPERATION, [])
            if len(failures) < 20:  # the JUnit failure text quotes the first ones
                failures.extend(v.line() for v in violations)

    def latest(self) -> list[Violation]:
        return list(self._latest)

    def clear(self) -> None:
        """Forget the violations kept for ``GET /__mockhub/violations`` (JUnit still counts them)."""
        self._latest.clear()

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
