"""The request journal: what arrived, what was answered, bounded so a server cannot grow.

Each entry is cut as it is recorded: at most ``headers`` headers, each at most
``header_bytes`` long, and the first ``body_bytes`` of the body; an entry that lost
anything says what in ``cut``. Each session's journal keeps its last ``size`` entries,
and every journal of a server draws on one :class:`JournalBudget` of bytes: past it, the
oldest entries of any session go first. An entry counts the larger of what it takes in
memory and what it takes rendered as JSON (a byte 0x01 of a body is six, ``\u0001``), so
the budget bounds both; a read renders one page of at most ``page_bytes``.

A journal keeps each entry as one piece of compact JSON (its text as UTF-8, escaped as it
renders), so what it takes in memory and rendered is that length, known as it is made; and it
holds no object of the request (its headers' mapping goes with it). An :class:`Entry` is made
from it when the journal is read. Text that is not Unicode (a header's invalid UTF-8, which
aiohttp decodes with ``surrogateescape``; a body that is not UTF-8) is kept as Python has it
instead, and counted string by string.

Whoever watches requests as they come (an open dashboard) listens on the server's
:class:`JournalFeed`: each entry recorded is handed to its listeners with the answer it got.
With no listener, recording pays one check for it.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from multidict import CIMultiDict, CIMultiDictProxy, istr

from mockhub.kernel.clock import instant_of, portal_time
from mockhub.kernel.jsonio import exact_dumps, loads_own, rendered_bytes, stored_bytes
from mockhub.kernel.matching import Matcher, RequestFacts
from mockhub.settings import Settings

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-mockhub-admin-token"})
_FORM_SECRET = re.compile(rb"(^|&)(client(?:_|%5[Ff])secret=)[^&]*")
"""A client secret in a form body (a token request): its value is never shown."""
ENTRY_OVERHEAD = 400
"""Bytes an entry costs besides its headers, body, path and query (objects, numbers, strings), in memory
and rendered (its other fields, the session's name of 64 characters at most included)."""
HEADER_OVERHEAD = 160
"""Bytes a header kept as Python strings costs besides its characters: the string objects and their pair."""
MASK_GROWTH = 4
"""Bytes a header's value may grow by when shown with its secret masked (``Bearer x`` is ``Bearer ****``); a
cookie header grows by one more for each of its cookies (each ``;`` is shown ``; ``), a form body by as much
for each client secret."""
_COOKIE = istr("Cookie")
_SEQ = attrgetter("seq")
_SIZE = attrgetter("size")

Kept = bytes | tuple[Any, ...]
"""What a journal keeps of an entry: its fields as a compact JSON array without its closing ``]`` (so a copy of
its own length: what orjson makes holds a buffer of 4 KiB at least), or, when text is not Unicode, as a tuple.
The fields are :meth:`Clock.stamp`'s time, method, path, query, headers (name and value pairs), body (text in
JSON, else bytes), status, duration in milliseconds, fault, override, off_contract and what was cut."""


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
    """One request as the journal shows it: made from what the journal keeps when it is read (:meth:`of`)."""

    seq: int
    session: str
    time: datetime
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    """Name and value pairs as the request had them (a name as often as it came), or as cut."""
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
    size: int = 0
    """Bytes counted against the budget."""

    @classmethod
    def of(cls, kept: Kept, size: int, seq: int, session: str) -> Entry:
        """The entry numbered ``seq`` of ``session``'s journal, from what the journal keeps of it."""
        if isinstance(kept, bytes):
            (time, method, path, query, headers, body, status, duration_ms, fault, override, off_contract,
             cut) = loads_own(kept + b"]")
            instant = datetime.fromisoformat(time) if isinstance(time, str) else instant_of(time)
            return cls(seq, session, instant, method, path, query, tuple((name, value) for name, value in headers),
                       body.encode(), status, duration_ms, fault, override, off_contract, tuple(cut), size)
        time, method, path, query, headers, body, status, duration_ms, fault, override, off_contract, cut = kept
        return cls(seq, session, instant_of(time), method, path, query, headers, body, status, duration_ms, fault,
                   override, off_contract, cut, size)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "session": self.session,
            "time": portal_time(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": {name: _masked(name, value) for name, value in self.headers},
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
    """What a log of objects keeps of each entry: its number, its size against the budget, and its JSON."""

    seq: int
    size: int
    """Bytes counted against the budget."""

    def to_json(self) -> dict[str, Any]: ...


E = TypeVar("E", bound=Logged)


class BudgetedLog:
    """A log whose entries a server's :class:`JournalBudget` counts: numbered from 1, its oldest going first (past
    its own size, or the budget), read a page at a time."""

    __slots__ = ("stale", "_seq", "_session", "_limits", "_budget")

    def __init__(self, limits: JournalLimits, budget: JournalBudget | None = None, session: str = "default") -> None:
        """``budget`` is shared by the logs of one server; without one, the log has its own."""
        self.stale = 0
        """Entries of this log that left it on their own (past its size, cleared) while the budget still has
        their turn to come: the budget skips that many of this log's first turns."""
        self._seq = 0
        self._session = session
        self._limits = limits
        self._budget = budget if budget is not None else JournalBudget(limits.total_bytes)

    def evict_oldest(self) -> int:
        """Forget the oldest entry, for the budget; the bytes it counted."""
        raise NotImplementedError


class JournalBudget:
    """The bytes every journal (and delivery log) of a server holds together; past ``limit``, the oldest entries go
    first."""

    __slots__ = ("limit", "used", "_order", "_stale")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._order: deque[BudgetedLog] = deque()
        """The log of each entry counted, in arrival order: a turn for each entry a log holds, after the turns of
        those that left it on their own (its ``stale`` count), which are skipped."""
        self._stale = 0
        """The turns of entries that left their logs on their own, in all."""

    def take(self, log: BudgetedLog, size: int) -> None:
        """Count a new entry of ``log``, the oldest entries of any log leaving until all fit."""
        self.used += size
        self._order.append(log)
        if self.used > self.limit:
            self._make_room()

    def give_back(self, log: BudgetedLog, size: int) -> None:
        """``log``'s oldest entry left it on its own: its bytes are free again."""
        self.used -= size
        order = self._order
        if order and order[0] is log and not log.stale:  # its turn is the first (one busy session): forgotten now
            order.popleft()
            return
        log.stale += 1
        self._stale += 1
        if self._stale > (len(order) - self._stale) // 4 + 8:
            # a fifth of the turns at most are stale: forget them now and then (each pass is paid for by as
            # many departures as it forgets)
            self._forget_stale()

    def _make_room(self) -> None:
        order = self._order
        while self.used > self.limit and order:
            oldest = order.popleft()
            if oldest.stale:
                oldest.stale -= 1
                self._stale -= 1
            else:
                self.used -= oldest.evict_oldest()

    def _forget_stale(self) -> None:
        order: deque[BudgetedLog] = deque()
        for log in self._order:
            if log.stale:
                log.stale -= 1
            else:
                order.append(log)
        self._order = order
        self._stale = 0


def _page_length(sizes: Iterable[int], limit: int, room: int) -> tuple[int, bool]:
    """How many of the entries of ``sizes`` (in turn) one page holds: up to ``limit``, as many as fit in ``room``
    bytes (one at least); and whether any is left after them."""
    count = 0
    for size in sizes:
        if count == limit or (count and size > room):
            return count, True
        count += 1
        room -= size
    return count, False


class EntryLog(BudgetedLog, Generic[E]):
    """The last ``limits.size`` entries of a session, oldest first, numbered from 1, counted against a server's
    byte budget and read a page at a time (:meth:`page`)."""

    __slots__ = ("_entries",)

    def __init__(self, limits: JournalLimits, budget: JournalBudget | None = None, session: str = "default") -> None:
        super().__init__(limits, budget, session)
        self._entries: deque[E] = deque()

    def keep(self, entry: E) -> None:
        """Add an entry (numbered with :meth:`next_seq`, its ``size`` set), the oldest going past the limits."""
        entries = self._entries
        entries.append(entry)
        if len(entries) > self._limits.size:
            self._budget.give_back(self, entries.popleft().size)
        self._budget.take(self, entry.size)

    def next_seq(self) -> int:
        """The number of the next entry."""
        self._seq += 1
        return self._seq

    def evict_oldest(self) -> int:
        return self._entries.popleft().size

    def entries(self) -> list[E]:
        return list(self._entries)

    def page(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` entries numbered after ``after``, oldest first, rendered, as many as fit in
        ``page_bytes`` (one at least); and the number to read on from, ``None`` when none is left."""
        entries = self._entries
        start = bisect_right(entries, after, key=_SEQ)
        count, more = _page_length(map(_SIZE, islice(entries, start, None)), limit, self._limits.page_bytes)
        return ([entry.to_json() for entry in islice(entries, start, start + count)],
                entries[start + count - 1].seq if more else None)

    def clear(self) -> None:
        """Forget every entry; the next is number 1 again (a reset session starts over)."""
        for entry in self._entries:
            self._budget.give_back(self, entry.size)
        self._entries.clear()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)


def _cookie_growth(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> int:
    """Bytes the cookie headers may grow by when shown masked, besides :data:`MASK_GROWTH` each: five a cookie."""
    return (MASK_GROWTH + 1) * sum(value.count(";") + 1 for value in headers.getall(_COOKIE, ()))


def _loose_size(method: str, path: str, query: str, headers: tuple[tuple[str, str], ...], body: bytes) -> int:
    """What text kept as Python has it costs: each string in memory (as wide as its widest character, a header
    with its objects) or rendered, whichever is more, and the body kept or shown, whichever is more."""
    strings = (method, path, query, *chain.from_iterable(headers))
    shown_body = mask_form_secrets(body).decode("utf-8", "replace")
    return (max(sum(map(stored_bytes, strings)), sum(map(rendered_bytes, strings)))
            + HEADER_OVERHEAD * (len(headers) + 1) + max(len(body), rendered_bytes(shown_body)))


def _has_longer(items: Iterable[tuple[str, str]], most: int) -> bool:
    """Whether a name or a value of the pairs ``items`` is longer than ``most`` characters."""
    return any(len(name) > most or len(value) > most for name, value in items)


def _kept_unusual(time: int | datetime, method: str, path: str, query: str,
              headers: CIMultiDictProxy[str] | CIMultiDict[str], body: bytes, status: int, duration_ms: float,
              fault: str | None, override: str | None, off_contract: bool, cut: tuple[str, ...],
              limits: JournalLimits) -> tuple[Kept, int]:
    """What a journal keeps of an entry whose headers may have to be cut or whose text is not Unicode, and its
    size."""
    most = limits.header_bytes
    items = tuple(headers.items())
    if len(items) > limits.headers or _has_longer(items, most):
        # secrets masked by their whole names now: cut names would no longer be known as secret when shown
        items = tuple({name[:most]: _masked(name, value)[:most] for name, value in islice(items, limits.headers)}
                      .items())
        cut = ("headers", *cut)
    growth = MASK_GROWTH * len(items) + _cookie_growth(headers)
    try:
        text = body.decode()
        kept = exact_dumps((time, method, path, query, items, text, status, duration_ms, fault, override,
                            off_contract, cut))[:-1]  # (see Kept)
    except (UnicodeDecodeError, TypeError):  # text that is not Unicode: as Python has it
        return ((time, method, path, query, items, body, status, duration_ms, fault, override, off_contract, cut),
                ENTRY_OVERHEAD + _loose_size(method, path, query, items, body) + growth)
    return kept, ENTRY_OVERHEAD + len(kept) + growth + MASK_GROWTH * text.count("secret=")


class Journal(BudgetedLog):
    """The last ``limits.size`` requests of a session, oldest first, each cut to ``limits``."""

    __slots__ = ("feed", "_listeners", "_kept", "_sizes")

    def __init__(self, limits: JournalLimits, budget: JournalBudget | None = None, session: str = "default",
                 feed: JournalFeed | None = None) -> None:
        """``budget`` and ``feed`` are shared by the journals of one server; without them, the journal has its own."""
        super().__init__(limits, budget, session)
        self.feed = feed if feed is not None else JournalFeed()
        self._listeners = self.feed.listeners
        self._kept: deque[Kept] = deque()
        """What is kept of each entry, oldest first (numbered in turn: the newest is ``_seq``)."""
        self._sizes: deque[int] = deque()
        """The bytes each counts."""

    def record(self, time: int | datetime, method: str, path: str, query: str,
               headers: CIMultiDictProxy[str] | CIMultiDict[str], body: bytes, status: int, duration_ms: float,
               fault: str | None = None, override: str | None = None, off_contract: bool = False,
               answer: Any = None) -> None:
        """Keep one exchange, cut to the limits, and hand it to the feed's listeners with ``answer`` (what was
        answered, as the server has it). ``time`` is a :meth:`Clock.stamp` (or an instant)."""
        limits = self._limits
        self._seq += 1
        if limits.size <= 0:
            return
        cut: tuple[str, ...] = ()
        if len(body) > limits.body_bytes:
            body, cut = body[:limits.body_bytes], ("body",)
        # Every request passes here: one piece of JSON, made in C, is what is kept and what is counted.
        items: tuple[tuple[str, str], ...] | None = None  # the headers kept, when they are the request's own
        try:
            text = body.decode()
            items = tuple(headers.items())
            kept: Kept = exact_dumps((time, method, path, query, items, text, status, duration_ms,
                                      fault, override, off_contract, cut))[:-1]  # (see Kept)
        except (UnicodeDecodeError, TypeError):  # text that is not Unicode: kept as Python has it
            items = None
        else:
            # no header is longer than its cut when all the text but the body is not
            if len(headers) > limits.headers or (len(kept) - len(body) > limits.header_bytes
                                                 and _has_longer(items, limits.header_bytes)):
                items = None
        if items is None:  # headers to cut, or text that is not Unicode
            kept, size = _kept_unusual(time, method, path, query, headers, body, status, duration_ms, fault,
                                       override, off_contract, cut, limits)
        else:
            size = ENTRY_OVERHEAD + len(kept) + MASK_GROWTH * len(headers)
            if _COOKIE in headers:
                size += _cookie_growth(headers)
            if "secret=" in text:
                size += MASK_GROWTH * text.count("secret=")
        kept_entries, sizes, budget = self._kept, self._sizes, self._budget
        kept_entries.append(kept)
        sizes.append(size)
        if len(sizes) > limits.size:
            kept_entries.popleft()
            budget.give_back(self, sizes.popleft())
        budget.take(self, size)
        if self._listeners:  # a dashboard is open (the list is the feed's own: one check when none is)
            # what was kept, as the values in hand when they are what was written (no need to read it back)
            entry = Entry.of(kept, size, self._seq, self._session) if items is None else Entry(
                self._seq, self._session, instant_of(time), method, path, query, items, body, status, duration_ms,
                fault, override, off_contract, cut, size)
            for listener in self._listeners:
                listener(entry, answer)

    def evict_oldest(self) -> int:
        self._kept.popleft()
        return self._sizes.popleft()

    def entries(self) -> list[Entry]:
        return list(self._shown(0, None))

    def page(self, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` entries numbered after ``after``, oldest first, rendered, as many as fit in
        ``page_bytes`` (one at least); and the number to read on from, ``None`` when none is left."""
        sizes = self._sizes
        start = min(max(after - (self._seq - len(sizes)), 0), len(sizes))  # the oldest kept is _seq - len + 1
        count, more = _page_length(islice(sizes, start, None), limit, self._limits.page_bytes)
        return [entry.to_json() for entry in self._shown(start, start + count)], (
            self._seq - len(sizes) + start + count if more else None)

    def _shown(self, start: int, stop: int | None) -> Iterator[Entry]:
        """The entries kept from ``start`` to ``stop`` (positions, oldest first), made to be shown."""
        number = self._seq - len(self._sizes) + start
        for kept, size in islice(zip(self._kept, self._sizes, strict=True), start, stop):
            number += 1
            yield Entry.of(kept, size, number, self._session)

    def clear(self) -> None:
        """Forget every entry; the next is number 1 again (a reset session starts over)."""
        for size in self._sizes:
            self._budget.give_back(self, size)
        self._kept.clear()
        self._sizes.clear()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._sizes)

    def search(self, matcher: Matcher, closest: int = 20) -> tuple[list[Entry], list[tuple[Entry, list[str]]]]:
        """The entries ``matcher`` matches, and up to ``closest`` others, closest first, each with what differed.

        Closest means fewest differences, then the method and path most alike.
        """
        matching: list[Entry] = []
        missed: list[tuple[Entry, list[str]]] = []
        for entry in self.entries():
            facts = RequestFacts(entry.method, entry.path, entry.query, CIMultiDict(entry.headers), entry.body)
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
