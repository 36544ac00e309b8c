"""What every resource store draws on: the session's seeded random source and clock."""

from __future__ import annotations

from dataclasses import dataclass

from mockhub.clock import Clock
from mockhub.randomness import SeededRandom


@dataclass(slots=True)
class Context:
    random: SeededRandom
    clock: Clock

    def copy(self) -> Context:
        return Context(self.random.copy(), self.clock.copy())
