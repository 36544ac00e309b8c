"""Sessions: a store, fault rules, overrides, a journal and webhook deliveries per client of one server.

``X-Mockhub-Session: NAME`` (or the ``mockhub_session`` cookie, which a browser app sets
once) selects a session; no header means the default session, which is just a session.
Each starts as a copy of the start-up state, so every session starts identical. They are
bounded (:class:`SessionLimits`): at most ``max_sessions`` and none idle longer than
``idle_seconds``. To make room for a new one the least recently used is evicted, but never
one used within the last ``busy_seconds``: then the new session is refused (503) rather
than another client's data lost mid-test. The default session is never evicted.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mockhub.kernel.errors import Problem, TooManySessions, ValidationFailed
from mockhub.services.deliveries import Courier, DeliveryLimits, Outbox
from mockhub.services.faults import FaultEngine, FaultRule
from mockhub.services.journal import Journal, JournalBudget, JournalFeed, JournalLimits
from mockhub.services.overrides import MAX_OVERRIDES, Override, OverrideEngine
from mockhub.services.rulesets import RuleLimits
from mockhub.settings import Settings
from mockhub.store import Store
from mockhub.store.quota import Quota

DEFAULT_SESSION = "default"
SESSION_HEADER = "X-Mockhub-Session"
SESSION_COOKIE = "mockhub_session"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
SWEEP_INTERVAL = 1.0
"""Most seconds between two sweeps for idle sessions (on a timer, and on a named session's lookup)."""

log = logging.getLogger("mockhub")


def check_name(name: str) -> str:
    """The session name, or 400 naming the header: 1 to 64 letters, digits, ``_.:-``."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationFailed(problems=(Problem(
            206, f"Session name '{name[:64]}' is not valid: use 1 to 64 letters, digits, '_', '.', ':' or '-' "
                 f"(header {SESSION_HEADER} or cookie {SESSION_COOKIE})."),))
    return name


class Disposal:
    """Frees stores nothing uses any more a slice at a time between requests, so that a reset after
    thousands of writes answers at once and no later request waits for the whole store to be freed."""

    SLICE = 500
    """Records freed in one step (some 0.3 ms)."""

    def __init__(self) -> None:
        self._stores: deque[Store] = deque()

    def add(self, store: Store) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving: the caller's reference is the last one, freed as usual
            return
        self._stores.append(store)
        if len(self._stores) == 1:
            loop.call_soon(self._step, loop)

    def _step(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._stores[0].release(self.SLICE):
            self._stores.popleft()
        if self._stores:
            loop.call_soon(self._step, loop)


@dataclass(frozen=True)
class SessionLimits:
    """Every bound of a server's sessions, in one place (a server's are its settings': :meth:`of`)."""

    max_sessions: int
    """Sessions at once, the default one included (at least 2 are allowed)."""
    idle_seconds: float
    """A named session unused this long is dropped."""
    busy_seconds: float
    """A session used this recently is never evicted to make room."""
    journal: JournalLimits
    faults: RuleLimits
    """Fault rules one session holds (the start-up ones always fit)."""
    overrides: RuleLimits
    max_records: int
    """Records a session holds of its own (created, or start-up ones it changed)."""
    max_record_bytes: int
    """Bytes in memory (estimated) a session's own records take together."""
    deliveries: DeliveryLimits
    """How a session delivers webhooks, how many at once, and what its delivery log keeps."""

    @classmethod
    def of(cls, settings: Settings) -> SessionLimits:
        """Every bound of the sessions of a server with these settings: how many, how long, what each may hold."""
        journal = JournalLimits.of(settings)
        return cls(
            max_sessions=settings.max_sessions, idle_seconds=settings.session_idle_seconds,
            busy_seconds=settings.session_busy_seconds, journal=journal,
            faults=RuleLimits(settings.max_fault_rules, settings.max_fault_bytes),
            overrides=RuleLimits(MAX_OVERRIDES, settings.max_override_bytes),
            max_records=settings.max_session_records, max_record_bytes=settings.max_session_bytes,
            deliveries=DeliveryLimits.of(settings, journal))


class Session:
    """One isolated world: its own state, fault rules, overrides, request journal and webhook deliveries."""

    __slots__ = ("name", "store", "faults", "overrides", "journal", "outbox", "last_used", "dropped", "generation")

    def __init__(self, name: str, store: Store, faults: FaultEngine, overrides: OverrideEngine, journal: Journal,
                 outbox: Outbox, now: float) -> None:
        self.name = name
        self.store = store
        self.faults = faults
        self.overrides = overrides
        self.journal = journal
        self.outbox = outbox
        """Its webhook deliveries under way and their log."""
        self.last_used = now
        self.dropped = False
        """Dropped or evicted: its store is being freed, and its name makes a new session."""
        self.generation = 0
        """Counts its resets and its drop: a request that waited across one is not journaled."""


class Sessions:
    """Every session of a server, each started from the same start-up state."""

    def __init__(self, startup: Store, limits: SessionLimits, *, startup_faults: tuple[FaultRule, ...] = (),
                 startup_overrides: tuple[Override, ...] = (),
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``startup_faults`` and ``startup_overrides`` (checked already) are every session's from its start."""
        self._startup = startup
        self._limits = limits
        self._quota = Quota(limits.max_records, limits.max_record_bytes)
        """The bounds of each session's own records."""
        self._startup_faults = startup_faults
        self._fault_limits = replace(limits.faults, max_rules=max(limits.faults.max_rules, len(startup_faults)))
        self._startup_overrides = startup_overrides
        self.journal_budget = JournalBudget(limits.journal.total_bytes)
        """The bytes every session's journal and delivery log draw on."""
        self.journal_feed = JournalFeed()
        """Who watches every session's requests as they are recorded (open dashboards)."""
        self.courier = Courier(limits.deliveries, self.journal_budget, limits.faults)
        """What every session delivers webhooks with (the server gives it its sender when it runs)."""
        self._max = max(limits.max_sessions, 2)  # the default and at least one named session
        self._idle = limits.idle_seconds
        self._busy = limits.busy_seconds
        self._monotonic = monotonic
        self._named: OrderedDict[str, Session] = OrderedDict()
        """Sessions other than the default, least recently used first."""
        self._sweep_every = min(SWEEP_INTERVAL, self._idle / 2)
        self._next_sweep = monotonic() + self._sweep_every
        self._disposal = Disposal()
        self.default = self._new(DEFAULT_SESSION)

    @property
    def startup(self) -> Store:
        """The state every session starts from and resets to. Never changed."""
        return self._startup

    @property
    def named_count(self) -> int:
        """How many sessions other than the default one there are."""
        return len(self._named)

    def get(self, name: str) -> Session:
        """The named session, made from the start-up state on first use."""
        if name == DEFAULT_SESSION:
            return self.default
        now = self._monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        session = self._named.get(name)
        if session is None:
            check_name(name)
            if len(self._named) + 1 >= self._max:  # the default session counts towards the maximum
                self._make_room(now)
            session = self._named[name] = self._new(name)
        else:
            self._named.move_to_end(name)
        session.last_used = now
        return session

    def drop(self, name: str) -> bool:
        """Forget a named session; the default one cannot be dropped (reset it instead)."""
        if name == DEFAULT_SESSION:
            raise ValidationFailed(problems=(Problem(206, "The default session cannot be dropped; reset it."),))
        session = self._named.pop(name, None)
        if session is None:
            return False
        self._retire(session)
        return True

    def reset(self, session: Session) -> None:
        """Back to the start-up state: data, random sequence, clock, fault rules, overrides and their counters;
        an empty journal; no webhook delivery under way and an empty delivery log."""
        self._disposal.add(session.store)
        session.generation += 1
        session.store = self._startup.session_copy(self._quota)
        session.faults = self._faults()
        session.overrides = self._overrides()
        session.journal.clear()
        session.outbox.close()
        session.outbox.log.clear()
        session.outbox = self.courier.outbox(session.name)

    @property
    def sweep_every(self) -> float:
        """Seconds between two sweeps."""
        return self._sweep_every

    def sweep(self) -> None:
        """Drop the named sessions idle past the limit, when a sweep is due (the server calls it on a timer, so
        they go on time whatever requests come)."""
        now = self._monotonic()
        if now >= self._next_sweep:
            self._sweep(now)

    def describe(self) -> list[dict[str, Any]]:
        """Each session: its name, journal size, fault rules, overrides and idle time, the default first."""
        self.sweep()
        now = self._monotonic()
        return [{"name": s.name, "requests": len(s.journal), "faults": len(s.faults.rules),
                 "overrides": len(s.overrides.rules),
                 "idle_seconds": round(max(now - s.last_used, 0.0), 3)}
                for s in (self.default, *self._named.values())]

    def _new(self, name: str) -> Session:
        return Session(name, self._startup.session_copy(self._quota), self._faults(), self._overrides(),
                       Journal(self._limits.journal, self.journal_budget, name, self.journal_feed),
                       self.courier.outbox(name), self._monotonic())

    def _faults(self) -> FaultEngine:
        return FaultEngine(self._startup_faults, self._fault_limits, self._monotonic)

    def _overrides(self) -> OverrideEngine:
        return OverrideEngine(self._startup_overrides, self._limits.overrides)

    def _make_room(self, now: float) -> None:
        """Evict the least recently used session, unless even it was used within ``busy_seconds``: then 503."""
        oldest = next(iter(self._named.values()))
        quiet = now - oldest.last_used
        if quiet < self._busy:
            raise TooManySessions(
                f"All {self._max} sessions (--max-sessions) are in use, each within the last {self._busy:g} s "
                f"(--session-busy); drop one (DELETE /__mockhub/sessions/NAME) or retry later.",
                retry_after=max(1, math.ceil(self._busy - quiet)))
        self._evict(oldest, "the most sessions are in use")

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_every
        for session in list(self._named.values()):  # least recently used first: stop at the first fresh one
            if now - session.last_used < self._idle:
                break
            self._evict(session, f"idle for {now - session.last_used:.0f} s")

    def _evict(self, session: Session, why: str) -> None:
        del self._named[session.name]
        self._retire(session)
        log.info("session '%s' evicted: %s (at most %d sessions, %g s idle)", session.name, why, self._max,
                 self._idle)

    def drop_all(self) -> None:
        """Forget every named session (the pytest fixture starts each test from the start-up state in all)."""
        for name in list(self._named):
            self.drop(name)

    def _retire(self, session: Session) -> None:
        """A dropped or evicted session: its journal emptied, its store freed; a request that was waiting
        meanwhile (a delay, a body still arriving) sees ``dropped`` and goes to the session of that name now."""
        session.dropped = True
        session.generation += 1
        session.journal.clear()
        session.outbox.close()
        session.outbox.log.clear()
        self._disposal.add(session.store)

    def stop_deliveries(self) -> list[asyncio.Task[None]]:
        """Cancel every session's webhook deliveries under way (the server stops); the tasks, to await."""
        return [task for session in (self.default, *self._named.values()) for task in session.outbox.close()]
