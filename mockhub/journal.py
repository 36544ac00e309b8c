"""The request journal: what arrived, what was answered, bounded so a server cannot grow."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mockhub.clock import portal_time
from mockhub.matching import Matcher, RequestFacts

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-mockhub-admin-token"})
MAX_BODY_SHOWN = 64 * 1024


def mask_secret(value: str) -> str:
    """``Bearer mock****``: the scheme and four characters, enough to tell tokens apart."""
    scheme, sep, secret = value.partition(" ")
    if not sep:
        scheme, secret = "", value
    hidden = secret[:4] + "****" if len(secret) > 4 else "****"
    return f"{scheme} {hidden}" if scheme else hidden


@dataclass(slots=True)
class Entry:
    """One request as the journal keeps it. Headers and body are kept raw and rendered on read."""

    seq: int
    session: str
    time: datetime
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    status: int
    duration_ms: float
    fault: str | None = None
    override: str | None = None
    """The id of the override that gave the answer, if one did."""
    off_contract: bool = False
    """Whether that override was let through the contract check on purpose (``off_contract``)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "session": self.session,
            "time": portal_time(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": {
                name: mask_secret(value) if name.lower() in SECRET_HEADERS else value
                for name, value in self.headers.items()
            },
            "body": self.body.decode("utf-8", "replace"),
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "fault": self.fault,
        }
        if self.override is not None:
            out["override"] = self.override
        if self.off_contract:
            out["off_contract"] = True
        return out


class Journal:
    """The last ``size`` requests of a session, oldest first."""

    __slots__ = ("_entries", "_seq", "_session")

    def __init__(self, size: int, session: str = "default") -> None:
        self._entries: deque[Entry] = deque(maxlen=max(size, 0))
        self._seq = 0
        self._session = session

    def record(self, time: datetime, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes, status: int, duration_ms: float, fault: str | None = None, override: str | None = None,
               off_contract: bool = False) -> None:
        """Keep one exchange. ``headers`` must be immutable (a request's are); it is rendered on read."""
        self._seq += 1
        self._entries.append(Entry(self._seq, self._session, time, method, path, query, headers,
                                   body[:MAX_BODY_SHOWN], status, duration_ms, fault, override, off_contract))

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def search(self, matcher: Matcher, closest: int = 20) -> tuple[list[Entry], list[tuple[Entry, list[str]]]]:
        """The entries ``matcher`` matches, and up to ``closest`` others, closest first, each with what differed.

        Closest means fewest differences, then the method and path most alike.
        """
        matching: list[Entry] = []
        missed: list[tuple[Entry, list[str]]] = []
        for entry in self._entries:
            facts = RequestFacts(entry.method, entry.path, entry.query, entry.headers, entry.body)
            differences = list(matcher.differences(facts))
            if differences:
                missed.append((entry, differences))
            else:
                matching.append(entry)
        wanted = f"{matcher.method} {matcher.path}"
        missed.sort(key=lambda miss: (len(miss[1]), -difflib.SequenceMatcher(
            None, wanted, f"{miss[0].method} {miss[0].path}").ratio()))
        return matching, missed[:closest]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
