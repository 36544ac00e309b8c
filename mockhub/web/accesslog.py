"""The access log: one line per request, written once per event-loop turn.

Python's logging costs several microseconds a line and flushes each one; a test double
under load writes thousands a second. Lines are gathered and written together when the
loop next runs its callbacks, so a burst of requests costs one write.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO


class AccessLog:
    """Buffered access log lines to a stream (standard error by default)."""

    __slots__ = ("_lines", "_stream", "_scheduled")

    def __init__(self, stream: TextIO | None = None) -> None:
        self._lines: list[str] = []
        self._stream = stream
        self._scheduled = False

    def write(self, line: str) -> None:
        """Queue one line (without its newline); it is written within this loop turn."""
        self._lines.append(line)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._lines:
            stream = self._stream or sys.stderr
            stream.write("\n".join(self._lines) + "\n")
            stream.flush()
            self._lines.clear()
