"""Sessions: a store, a journal (and fault rules) per client. The default session is one of them."""

from __future__ import annotations

from mockhub.faults import FaultEngine, FaultRule
from mockhub.journal import Journal
from mockhub.store import Store

DEFAULT_SESSION = "default"


class Session:
    """One isolated world: its own state, fault rules and request journal."""

    __slots__ = ("name", "store", "faults", "journal")

    def __init__(self, name: str, store: Store, faults: FaultEngine, journal: Journal) -> None:
        self.name = name
        self.store = store
        self.faults = faults
        self.journal = journal


class Sessions:
    """Every session of a server, each started from the same start-up state."""

    def __init__(self, startup: Store, journal_size: int, startup_faults: tuple[FaultRule, ...] = ()) -> None:
        self._startup = startup
        self._startup_faults = startup_faults
        self._journal_size = journal_size
        self._sessions: dict[str, Session] = {}
        self.default = self.get(DEFAULT_SESSION)

    @property
    def startup(self) -> Store:
        """The state every session starts from and resets to. Never changed."""
        return self._startup

    def get(self, name: str) -> Session:
        """The named session, made from the start-up state on first use."""
        session = self._sessions.get(name)
        if session is None:
            session = Session(name, self._startup.copy(), FaultEngine(self._startup_faults),
                              Journal(self._journal_size))
            self._sessions[name] = session
        return session

    def reset(self, session: Session) -> None:
        """Back to the start-up state: data, random sequence, clock, fault rules and counters; empty journal."""
        session.store = self._startup.copy()
        session.faults = FaultEngine(self._startup_faults)
        session.journal.clear()
