"""How much data one session may hold beyond the start-up state it shares with every other session.

A session's own records (those it created, and its versions of start-up records it
changed) are counted, and their size in memory is estimated. A write that would take
either past its bound is refused before anything changes, so nothing is lost and
later answers are unaffected; deleting a record or resetting the session frees its share.
"""

from __future__ import annotations

from typing import Any

from mockhub.kernel.errors import DataLimitReached
from mockhub.kernel.jsonio import footprint

RECORD_OVERHEAD = 400
"""Bytes a record costs besides its value: its slots in the id map, the creation order and the name indexes."""
RETRY_AFTER = 60
"""Seconds a refused write suggests waiting: the data stays until deleted, so this is a pause, not a promise."""

class Quota:
    """The bounds of one session's own records, and what it holds now."""

    __slots__ = ("max_records", "max_bytes", "records", "bytes")

    def __init__(self, max_records: int | None = None, max_bytes: int | None = None) -> None:
        self.max_records = max_records
        """``None``: no bound (the start-up state, which the server's operator loads)."""
        self.max_bytes = max_bytes
        self.records = 0
        self.bytes = 0
        """Estimated size of the records held; not counted (0) with no ``max_bytes``."""

    def fresh(self) -> Quota:
        """The same bounds with nothing held."""
        return Quota(self.max_records, self.max_bytes)

    def copy(self) -> Quota:
        clone = Quota(self.max_records, self.max_bytes)
        clone.records, clone.bytes = self.records, self.bytes
        return clone

    def charge(self, new: Any | None, old: Any | None, owned: bool) -> None:
        """Account for replacing ``old`` (``None``: a create) by ``new`` (``None``: a delete), or raise
        :class:`~mockhub.kernel.errors.DataLimitReached` and change nothing. Call it before the write, once the
        write can no longer fail otherwise.

        ``owned``: ``old`` is this session's own record (not one it shares with the start-up state).
        """
        freed = old is not None and owned
        records = (new is not None) - freed
        if self.max_records is not None and records > 0 and self.records + records > self.max_records:
            raise DataLimitReached(
                f"This session holds {self.records} records of its own, the most allowed (--max-session-records "
                f"{self.max_records}); delete some or reset the session (POST /__mockhub/reset).",
                retry_after=RETRY_AFTER)
        if self.max_bytes is not None:  # unbounded (the start-up state): sizes are not worth measuring
            size = (footprint(new) + RECORD_OVERHEAD if new is not None else 0) - (
                footprint(old) + RECORD_OVERHEAD if freed else 0)
            if size > 0 and self.bytes + size > self.max_bytes:
                raise DataLimitReached(
                    f"This session's own records would take {self.bytes + size} bytes, more than allowed "
                    f"(--max-session-bytes {self.max_bytes}); delete some, send less or reset the session "
                    f"(POST /__mockhub/reset).", retry_after=RETRY_AFTER)
            self.bytes += size
        self.records += records
