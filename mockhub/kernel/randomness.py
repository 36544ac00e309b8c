"""The one seeded random source behind every generated id, token, key and fault draw."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_HEX = "0123456789abcdef"
_DIGIT_OF_TOP_BYTE = bytes(ord(_HEX[top >> 3]) if top < 128 else 0 for top in range(256))
_DRAWN_AGAIN = bytes(range(128, 256))
"""Top bytes of a word whose top 5 bits are 16 or more: ``choice`` draws again."""
_UUID_KEEP = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (4 << 76)
"""The variant (RFC 4122) and version (4) bits, as ``uuid.UUID(version=4)`` sets them."""


class SeededRandom:
    """A seeded source; copies continue from the same point, so sessions and resets repeat exactly."""

    __slots__ = ("_random",)

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    @property
    def generator(self) -> random.Random:
        """The underlying generator, for libraries (Faker) that take one."""
        return self._random

    def copy(self) -> SeededRandom:
        clone = SeededRandom()
        clone._random.setstate(self._random.getstate())
        return clone

    def uuid(self) -> str:
        """A random (version 4) UUID in lower case."""
        # uuid.UUID(int=..., version=4) and its str(), without the object (a third of the cost); the 16 bytes
        # written 4, then 2, 2 and 2 (hex with a dash each 2 bytes), then 6: fewer steps than slicing the hex
        octets = ((self._random.getrandbits(128) & _UUID_KEEP) | _UUID_SET).to_bytes(16, "big")
        return f"{octets[:4].hex()}-{octets[4:10].hex('-', 2)}-{octets[10:].hex()}"

    def hex(self, length: int, upper: bool = False) -> str:
        """``length`` random hex digits: the digits ``choice("0123456789abcdef")`` would draw, faster.

        ``choice`` of 16 takes the top 5 bits of the generator's next 32-bit word, drawing again
        when they are 16 or more. Here the words come in bulk, never more than are sure to be used
        (one per digit still missing), and their top bytes are turned into digits in C.
        """
        digits = b""
        while (missing := length - len(digits)) > 0:
            words = self._random.getrandbits(32 * missing).to_bytes(4 * missing, "little")
            digits += words[3::4].translate(_DIGIT_OF_TOP_BYTE, _DRAWN_AGAIN)
        text = digits.decode("ascii")
        return text.upper() if upper else text

    def digits(self, length: int) -> str:
        """``length`` random decimal digits, the first not zero."""
        first = str(self._random.randint(1, 9))
        return first + "".join(str(self._random.randint(0, 9)) for _ in range(length - 1))

    def alnum(self, length: int) -> str:
        """``length`` random letters (either case) and digits, as client secrets look."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self._random.choice(alphabet) for _ in range(length))

    def alnum_upper(self, length: int) -> str:
        """``length`` random upper-case letters and digits."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return "".join(self._random.choice(alphabet) for _ in range(length))

    def choice(self, options: Sequence[T]) -> T:
        return self._random.choice(options)

    def random(self) -> float:
        """A float in [0, 1), for probabilities."""
        return self._random.random()
