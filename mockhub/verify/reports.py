"""What a verify run found: one :class:`Check` per step, gathered in a :class:`Report` that reads as text,
as JUnit XML and as an exit status."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import ClassVar

from mockhub.kernel.text import xml_safe


@dataclass(frozen=True)
class Check:
    """One named result: what was sent, what the contract expects, what came back, what is wrong."""

    group: str
    name: str
    request: str = ""
    expected: str = ""
    got: str = ""
    problems: tuple[str, ...] = ()
    skipped: str = ""
    seconds: float = 0.0

    @property
    def outcome(self) -> str:
        return "skipped" if self.skipped else "failed" if self.problems else "passed"


@dataclass
class Report:
    """Every check of a run, in order; its text, its JUnit XML and its exit status."""

    COMMAND: ClassVar[str] = "mockhub verify"
    """The command whose report it is: the text's first word, the JUnit XML's name."""

    base_url: str
    run_id: str
    checks: list[Check] = field(default_factory=list)
    unreachable: str = ""
    left_behind: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.checks if c.outcome == outcome)

    @property
    def exit_status(self) -> int:
        """0 when every check passed (or was skipped), 1 on any mismatch, 2 when the server is unreachable."""
        return 2 if self.unreachable else 1 if self.count("failed") else 0

    @property
    def heading(self) -> str:
        """The text's first line: the command, what it checked and which run it was."""
        return f"{self.COMMAND} {self.base_url} (run {self.run_id})"

    def text(self) -> str:
        lines = [self.heading]
        for c in self.checks:
            label = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[c.outcome]
            if c.skipped:
                lines.append(f"{label}  {c.group}: {c.name}: {c.skipped}")
                continue
            lines.append(f"{label}  {c.group}: {c.name}  ({c.request})")
            if c.problems:
                lines += [f"        expected: {c.expected}", f"        got:      {c.got}"]
                lines += [f"        - {p}" for p in c.problems]
        if self.unreachable:
            lines.append(f"stopped: cannot reach {self.base_url}: {self.unreachable}")
        lines += [f"left behind: {what}" for what in self.left_behind]
        count = len(self.checks)
        lines.append(f"{count} check{'s' * (count != 1)}{' before it stopped' * bool(self.unreachable)}: "
                     f"{self.count('passed')} passed, {self.count('failed')} failed, {self.count('skipped')} skipped")
        return "\n".join(lines)

    def junit(self) -> str:
        """JUnit XML for CI: a suite per group, a testcase per check."""
        root = ET.Element("testsuites", name=self.COMMAND, tests=str(len(self.checks)),
                          failures=str(self.count("failed")), skipped=str(self.count("skipped")),
                          time=f"{sum(c.seconds for c in self.checks):.3f}")
        suites: dict[str, ET.Element] = {}
        package = self.COMMAND.replace(" ", ".").replace("-", "_")  # mockhub.verify, mockhub.verify_webhook
        for c in self.checks:
            suite = suites.get(c.group)
            if suite is None:
                suite = suites[c.group] = ET.SubElement(root, "testsuite", name=c.group)
                ET.SubElement(ET.SubElement(suite, "properties"), "property", name="base_url", value=self.base_url)
            case = ET.SubElement(suite, "testcase", classname=f"{package}.{c.group.replace(' ', '_')}",
                                 name=c.name, time=f"{c.seconds:.3f}")
            if c.skipped:
                ET.SubElement(case, "skipped", message=c.skipped)
            elif c.problems:
                failure = ET.SubElement(case, "failure", message=c.problems[0], type="ContractMismatch")
                failure.text = "\n".join([f"request:  {c.request}", f"expected: {c.expected}", f"got:      {c.got}",
                                          *c.problems])
        for suite in suites.values():
            cases = suite.findall("testcase")
            suite.set("tests", str(len(cases)))
            suite.set("failures", str(sum(1 for t in cases if t.find("failure") is not None)))
            suite.set("skipped", str(sum(1 for t in cases if t.find("skipped") is not None)))
            suite.set("time", f"{sum(float(t.get('time', '0')) for t in cases):.3f}")
        return xml_safe(ET.tostring(root, encoding="unicode", xml_declaration=True))
