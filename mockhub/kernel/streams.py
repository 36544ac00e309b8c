"""The start of a byte stream, read through any library's ``read(n)``: the webhook sender's receivers' answers
and the conformance client's servers' answers are both kept to their first bytes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable


async def first_bytes(read: Callable[[int], Awaitable[bytes]], most: int) -> bytes:
    """The first ``most`` bytes of a stream, or all of a shorter one. ``read(n)`` gives at most ``n`` bytes, what
    has come so far, and ``b""`` at the end, so the stream is read until ``most`` bytes or its end."""
    kept = bytearray()
    while len(kept) < most and (piece := await read(most - len(kept))):
        kept += piece
    return bytes(kept)
