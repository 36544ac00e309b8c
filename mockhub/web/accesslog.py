"""The access log: one line per request, written once per event-loop turn.

Python's logging costs several microseconds a line and flushes each one; a test double
under load writes thousands a second. What a line says is gathered as it comes, and the
lines are made and written together when the loop next runs its callbacks, so a burst of
requests costs one write.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

LINE = '%s "%s %s" %s %.2fms%s'
"""A line: the client's address, the method and request target, the status (``-``: none was sent), the
milliseconds taken, and what else is said of the request (`` fault=503``...)."""


class AccessLog:
    """Buffered access log lines to a stream (standard error by default)."""

    __slots__ = ("_lines", "_stream", "_scheduled")

    def __init__(self, stream: TextIO | None = None) -> None:
        self._lines: list[tuple[str | None, str, str, int | str, float, str]] = []
        self._stream = stream
        self._scheduled = False

    def write(self, remote: str | None, method: str, target: str, status: int, took_ms: float, more: str = "") -> None:
        """Queue the line of one request (:data:`LINE`); it is written within this loop turn."""
        self._lines.append((remote, method, target, status or "-", took_ms, more))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._lines:
            stream = self._stream or sys.stderr
            stream.write("\n".join([LINE % line for line in self._lines]) + "\n")
            stream.flush()
            self._lines.clear()
