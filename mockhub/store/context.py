"""What every resource store draws on: the session's seeded random source, clock and data quota, and the
server's access tokens."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from mockhub.kernel.clock import Clock
from mockhub.kernel.randomness import SeededRandom
from mockhub.store.quota import Quota
from mockhub.store.tokens import AccessTokens


@dataclass(slots=True)
class Context:
    random: SeededRandom
    clock: Clock
    quota: Quota
    tokens: AccessTokens = field(default_factory=lambda: AccessTokens.for_seed(0))
    """Signs and reads access tokens: the server's, the same in every session."""

    def copy(self) -> Context:
        return Context(self.random.copy(), self.clock.copy(), self.quota.copy(), self.tokens)

    def new_id(self, *taken: Container[str]) -> str:
        """A random (version 4) UUID in none of ``taken``: the ids of a state dumped and loaded again are the
        ones the same seed goes on to make."""
        while True:
            new = self.random.uuid()
            for ids in taken:  # a loop, not any() over a generator: this runs on every create
                if new in ids:
                    break
            else:
                return new
