"""Figures, their goals, and the table they are printed in."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Goal:
    """``ratio <= 1.5``, ``value >= 0.75``...: a bound on the figure's ratio to its reference, or on its value."""

    bound: float
    at_most: bool
    on_ratio: bool = True

    def met(self, value: float, ratio: float | None) -> bool:
        measured = ratio if self.on_ratio else value
        assert measured is not None, "a goal on the ratio needs a reference"
        return measured <= self.bound if self.at_most else measured >= self.bound

    def text(self, unit: str) -> str:
        sign = "<=" if self.at_most else ">="
        return f"{sign} {self.bound:g}x" if self.on_ratio else f"{sign} {self.bound:g} {unit}"


@dataclass(frozen=True)
class Figure:
    """One line of the table: mockhub's median, its reference's, and the goal."""

    name: str
    unit: str
    value: float
    goal: Goal | None
    """``None`` for a figure shown for understanding, with no goal of its own."""
    reference: float | None = None
    reference_name: str = ""
    ratio: float | None = None
    """How mockhub compares with the reference, in the goal's sense (a slowdown for the scale figure)."""
    samples: dict[str, list[float]] = field(default_factory=dict)
    """Every repeat, per side: the raw results."""
    note: str = ""

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.value, self.ratio) if self.goal is not None else None

    @property
    def result(self) -> str:
        return {True: "met", False: "NOT MET", None: "(no goal)"}[self.met]

    def to_json(self) -> dict[str, Any]:
        goal = self.goal.text(self.unit) if self.goal is not None else None
        return {**asdict(self), "goal": goal, "met": self.met}


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _amount(value: float, unit: str) -> str:
    if unit.startswith("req"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned text table (medians), one line each."""
    header = ("figure", "mockhub", "reference", "ratio", "goal", "result")
    rows = [header]
    for f in figures:
        reference = f"{_amount(f.reference, f.unit)} ({f.reference_name})" if f.reference is not None else "-"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        goal = f.goal.text(f.unit) if f.goal is not None else "-"
        rows.append((f.name, _amount(f.value, f.unit), reference, ratio, goal, f.result))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))
