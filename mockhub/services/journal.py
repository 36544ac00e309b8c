"""The request journal: what arrived, what was answered, bounded so a server cannot grow.

Each entry is cut as it is recorded: at most ``headers`` headers, each at most
``header_bytes`` long, and the first ``body_bytes`` of the body; an entry that lost
anything says what in ``cut``. Each session's journal keeps its last ``size`` entries,
and every journal of a server draws on one :class:`JournalBudget` of bytes: past it, the
oldest entries of any session go first. An entry counts the larger of what it takes in
memory and what it takes rendered as JSON (a byte 0x01 of a body is six, ``\u0001``), so
the budget bounds both; a read renders one page of at most ``page_bytes``.

Whoever watches requests as they come (an open dashboard) listens on the server's
:class:`JournalFeed`: each entry recorded is handed to its listeners with the answer it got.
With no listener, recording pays one check for it.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from mockhub.kernel.clock import portal_time
from mockhub.kernel.jsonio import rendered_bytes, stored_bytes
from mockhub.kernel.matching import Matcher, RequestFacts
from mockhub.settings import Settings

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-mockhub-admin-token"})
_FORM_SECRET = re.compile(rb"(^|&)(client(?:_|%5[Ff])secret=)[^&]*")
"""A client secret in a form body (a token request): its value is never shown."""
ENTRY_OVERHEAD = 400
"""Bytes an entry costs besides its headers, body, path and query (objects, numbers, strings), in memory
and rendered (its other fields, the session's name of 64 characters at most included)."""
HEADER_OVERHEAD = 160
"""Bytes a kept header costs besides its characters (counted twice for the name, which a request's headers
also keep in lower case): the string objects and a slot in the mapping."""
_SEQ = attrgetter("seq")


@dataclass(frozen=True)
class JournalLimits:
    """How much of each request an entry keeps, and how many bytes all journals together may hold (a server's
    are its settings': :meth:`of`)."""

    size: int
    """Entries per session (the oldest go first)."""
    headers: int
    """Headers kept per entry; the rest are cut."""
    header_bytes: int
    """Characters kept of each header name and value."""
    body_bytes: int
    """Bytes kept of each body."""
    total_bytes: int
    """Bytes all sessions' journals may hold together; past it, the oldest entries of any session go first."""
    page_bytes: int
    """Bytes one read of a journal renders at most (at least one entry); the rest is on the next page."""

    @classmethod
    def of(cls, settings: Settings) -> JournalLimits:
        """What a server with these settings keeps of each request, and in all journals together."""
        return cls(settings.journal_size, settings.journal_headers, settings.journal_header_bytes,
                   settings.journal_body_bytes, settings.journal_total_bytes, settings.journal_page_bytes)


def mask_secret(value: str) -> str:
    """``Bearer mock****``: the scheme (a plain word) and four characters, enough to tell tokens apart;
    anything else, ``****`` after its first four characters."""
    scheme, sep, secret = value.strip().partition(" ")
    if not sep or not scheme.isalpha():  # no scheme: the whole value is the secret
        scheme, secret = "", value
    hidden = secret.strip()[:4] + "****" if len(secret.strip()) > 4 else "****"
    return f"{scheme} {hidden}" if scheme else hidden


def _masked(name: str, value: str) -> str:
    """A header's value as the journal shows it: secrets masked."""
    lowered = name.lower()
    if lowered == "cookie":
        return mask_cookies(value)
    return mask_secret(value) if lowered in SECRET_HEADERS else value


def mask_form_secrets(body: bytes) -> bytes:
    """``grant_type=client_credentials&client_secret=****``: a form body with its client secret masked."""
    return _FORM_SECRET.sub(rb"\1\2****", body) if b"secret=" in body else body


def mask_cookies(value: str) -> str:
    """``session=****; theme=****``: every cookie's name, none of their values."""
    return "; ".join(f"{name.strip()}=****" if sep else "****"
                     for name, sep, _ in (part.partition("=") for part in value.split(";") if part.strip()))


@dataclass(slots=True, eq=False)
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
    cut: tuple[str, ...] = ()
    """What was cut to keep the entry small: ``headers``, ``body`` or both."""
    size: int = field(default=0)
    """Bytes counted against the budget; 0 once the entry has left its journal."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "session": self.session,
            "time": portal_time(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": {name: _masked(name, value) for name, value in self.headers.items()},
            "body": mask_form_secrets(self.body).decode("utf-8", "replace"),
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "fault": self.fault,
            "cut": list(self.cut),
        }
        if self.override is not None:
            out["override"] = self.override
        if self.off_contract:
            out["off_contract"] = True
        return out


Listener = Callable[["Entry", Any], None]
"""Called with each entry as it is recorded and the answer it got, as the server passed it (on ``serve``
the aiohttp response, ``None`` for a dropped connection; on the proxy, the exchange and its violations)."""


class JournalFeed:
    """The listeners of a server's journals: every entry any of them records is handed to each, in turn.

    Usually there is none (no dashboard is open), and a journal pays one check. A listener must be quick and
    must not raise: it runs on the request's own path.
    """

    __slots__ = ("listeners",)

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        """The list journals read (the same object for as long as the feed lives)."""

    def listen(self, listener: Listener) -> None:
        """Hand ``listener`` every entry from now on (once, however often it asks)."""
        if listener not in self.listeners:
            self.listeners.append(listener)

    def stop_listening(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)


class Logged(Protocol):
    """What a log keeps of each entry: its number, its size against the budget, and its JSON."""

    seq: int
    size: int
    """Bytes counted against the budget; 0 once the entry has left its log."""

    def to_json(self) -> dict[str, Any]: ...


E = TypeVar("E", bound=Logged)


class JournalBudget:
    """The bytes every journal (and delivery log) of a server holds together; past ``limit``, the oldest entries go
    first."""

    __slots__ = ("limit", "used", "_live", "_order")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._live = 0
        self._order: deque[tuple[EntryLog[Any], Logged]] = deque()
        """Entries of every journal in arrival order; those already gone (size 0) are skipped."""

    def __len__(self) -> int:
        return len(self._order)

    def take(self, journal: EntryLog[Any], entry: Logged) -> None:
        """Count a new entry, dropping the oldest entries of any journal until all fit."""
        self.used += entry.size
        self._live += 1
        self._order.append((journal, entry))
        while self.used > self.limit and self._order:
            owner, oldest = self._order.popleft()
            if oldest.size:
                owner.drop_oldest()
        if len(self._order) > self._live + self._live // 4 + 8:
            # entries their journals dropped, held only here: forget them now and then (they are a
            # quarter of the budget at most, and the cost of each pass is spread over as many drops)
            self._order = deque(pair for pair in self._order if pair[1].size)

    def give_back(self, entry: Logged) -> None:
        """An entry left its journal: its bytes are free again."""
        self.used -= entry.size
        self._live -= 1
        entry.size = 0
        order = self._order
        if order and order[0][1] is entry:  # the oldest of all (one busy session): nothing left to skip later
            order.popleft()


def _headers_size(headers: Mapping[str, str], names: str, values: str) -> int:
    """What headers cost in memory (names twice: a request's headers keep them in lower case too) or
    rendered, whichever is more; ``names`` and ``values`` are their names and values, each joined."""
    text = names + values
    if text.isascii() and text.isprintable():  # the usual headers: flags and counts in C, no call per string
        stored, rendered = len(text) + len(names), len(text) + text.count('"') + text.count("\\")
    else:  # each string is as wide as its own widest character
        rendered = rendered_bytes(names) + rendered_bytes(values)
        stored = (len(text) + len(names) if text.isascii() else
                  2 * sum(map(stored_bytes, headers.keys())) + sum(map(stored_bytes, headers.values())))
    return max(stored, rendered) + HEADER_OVERHEAD * len(headers)


def _cut_headers(headers: Mapping[str, str], limits: JournalLimits) -> tuple[Mapping[str, str], int, bool]:
    """The headers as kept (the request's own when nothing is cut), their size, and whether any was cut."""
    cut = limits.header_bytes
    # every request passes here: names and values are joined once (no Python loop), for the cut and the size;
    # when all headers together are shorter than the cut, none is longer
    names, values = "".join(headers.keys()), "".join(headers.values())
    if len(headers) <= limits.headers and (len(names) + len(values) <= cut
                                           or all(len(n) <= cut and len(v) <= cut for n, v in headers.items())):
        return headers, _headers_size(headers, names, values), False
    # secrets masked by their whole names now: cut names would no longer be known as secret when shown
    kept = {name[:cut]: _masked(name, value)[:cut] for name, value in islice(headers.items(), limits.headers)}
    return kept, _headers_size(kept, "".join(kept.keys()), "".join(kept.values())), True


def _body_size(body: bytes) -> int:
    """What a body costs in memory (its bytes) or rendered (as text, invalid UTF-8 replaced), whichever is more."""
    return max(len(body), rendered_bytes(body.decode("utf-8", "replace"))) if body else 0


class EntryLog(Generic[E]):
    """The last ``limits.size`` entries of a session, oldest first, numbered from 1, counted against a server's
    byte budget and read a page at a time (:meth:`page`)."""

    __slots__ = ("_entries", "_seq", "_session", "_limits", "_budget")

    def __init__(self, limits: JournalLimits, budget: JournalBudget | None = None, session: str = "default") -> None:
        """``budget`` is shared by the logs of one server; without one, the log has its own."""
        self._entries: deque[E] = deque()
        self._seq = 0
        self._session = session
        self._limits = limits
        self._budget = budget if budget is not None else JournalBudget(limits.total_bytes)

    def keep(self, entry: E) -> None:
        """Add an entry (numbered with :meth:`next_seq`, its ``size`` set), the oldest going past the limits."""
        entries = self._entries
        entries.append(entry)
        if len(entries) > self._limits.size:
            self._budget.give_back(entries.popleft())
        self._budget.take(self, entry)

    def next_seq(self) -> int:
        """The number of the next entry."""
        self._seq += 1
        return self._seq

    def drop_oldest(self) -> None:
        """Forget the oldest entry (to stay within the size or the server's byte budget)."""
        self._budget.give_back(self._entries.popleft())

    def entries(self) -> list[E]:
        return list(self._entries)

    def page(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` entries numbered after ``after``, oldest first, rendered, as many as fit in
        ``page_bytes`` (one at least); and the number to read on from, ``None`` when none is left."""
        entries = self._entries
        page: list[E] = []
        room = self._limits.page_bytes
        for entry in islice(entries, bisect_right(entries, after, key=_SEQ), None):
            if len(page) == limit or (page and entry.size > room):
                return [kept.to_json() for kept in page], page[-1].seq
            page.append(entry)
            room -= entry.size
        return [kept.to_json() for kept in page], None

    def clear(self) -> None:
        """Forget every entry; the next is number 1 again (a reset session starts over)."""
        for entry in self._entries:
            self._budget.give_back(entry)
        self._entries.clear()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)


class Journal(EntryLog[Entry]):
    """The last ``limits.size`` requests of a session, oldest first, each cut to ``limits``."""

    __slots__ = ("feed", "_listeners")

    def __init__(self, limits: JournalLimits, budget: JournalBudget | None = None, session: str = "default",
                 feed: JournalFeed | None = None) -> None:
        """``budget`` and ``feed`` are shared by the journals of one server; without them, the journal has its own."""
        super().__init__(limits, budget, session)
        self.feed = feed if feed is not None else JournalFeed()
        self._listeners = self.feed.listeners

    def record(self, time: datetime, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes, status: int, duration_ms: float, fault: str | None = None, override: str | None = None,
               off_contract: bool = False, answer: Any = None) -> None:
        """Keep one exchange, cut to the limits, and hand it to the feed's listeners with ``answer`` (what was
        answered, as the server has it). ``headers`` must be immutable (a request's are)."""
        limits = self._limits
        self._seq += 1
        if limits.size <= 0:
            return
        kept, headers_size, headers_cut = _cut_headers(headers, limits)
        cut = ("headers",) if headers_cut else ()
        if len(body) > limits.body_bytes:
            body, cut = body[:limits.body_bytes], (*cut, "body")
        entry = Entry(self._seq, self._session, time, method, path, query, kept, body, status, duration_ms,
                      fault, override, off_contract, cut)
        target = path + query
        entry.size = (ENTRY_OVERHEAD + headers_size + (_body_size(body) if body else 0)
                      + (len(target) + target.count('"') + target.count("\\")  # rendered: as stored, and escapes
                         if target.isascii() and target.isprintable() else
                         max(stored_bytes(target), rendered_bytes(target))))
        entries = self._entries
        entries.append(entry)
        if len(entries) > limits.size:
            self._budget.give_back(entries.popleft())  # (drop_oldest, inlined: every request passes here)
        self._budget.take(self, entry)
        if self._listeners:  # a dashboard is open (the list is the feed's own: one check when none is)
            for listener in self._listeners:
                listener(entry, answer)

    def search(self, matcher: Matcher, closest: int = 20) -> tuple[list[Entry], list[tuple[Entry, list[str]]]]:
        """The entries ``matcher`` matches, and up to ``closest`` others, closest first, each with what differed.

        Closest means fewest differences, then the method and path most alike.
        """
        matching: list[Entry] = []
        missed: list[tuple[Entry, list[str]]] = []
        for entry in self._entries:
            facts = RequestFacts(entry.method, entry.path, entry.query, entry.headers, entry.body)
            differences = list(matcher.differences(facts))
            if differences and entry.cut:  # "expected X, got X..." would say nothing without this
                differences.append(f"the journal kept this request's {' and '.join(entry.cut)} cut short "
                                   f"(--journal-body-bytes, --journal-header-bytes, --journal-headers), so it "
                                   f"matches only within what was kept")
            if differences:
                missed.append((entry, differences))
            else:
                matching.append(entry)
        wanted = f"{matcher.method} {matcher.path}"
        missed.sort(key=lambda miss: (len(miss[1]), -difflib.SequenceMatcher(
            None, wanted, f"{miss[0].method} {miss[0].path}").ratio()))
        return matching, missed[:closest]
