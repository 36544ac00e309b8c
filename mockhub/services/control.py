"""The control plane: every control operation on a server's sessions, written once.

The control API (:mod:`mockhub.web.admin`) is a thin HTTP skin on :class:`Control`, and the
pytest fixture calls it directly, on the server's loop through
:meth:`~mockhub.web.server.BackgroundServer.call`. Its methods run between two requests, never
during one, so none needs a lock.

Another kind of per-session rules (overrides) plugs in as the fault rules do: a field of
:class:`~mockhub.services.sessions.Session` that :meth:`~mockhub.services.sessions.Sessions.reset` rebuilds,
its methods here (list, add, remove, clear), and one thin handler each in ``admin.py``.
A server-wide record (the proxy's violations) is held here, beside the server errors.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mockhub.contract.contracts import Contract
from mockhub.contract.problems import collect_problems
from mockhub.dataset.fixtures import FixtureError, FixtureLoader, FixtureSource, dump
from mockhub.kernel.clock import parse_duration, parse_instant, portal_time
from mockhub.kernel.errors import NotFound, ValidationFailed
from mockhub.kernel.matching import Matcher
from mockhub.services.faults import FaultEngine
from mockhub.services.journal import Entry
from mockhub.services.override_check import OverrideChecker, check_delivery_faults, check_overrides
from mockhub.services.sessions import Session, Sessions
from mockhub.store.conversations import established

CUSTOMER_MESSAGE = "CustomerActivityMessage"
"""The APIs' contract's schema of a message a customer sends."""
MAX_SERVER_ERRORS = 100
"""Most tracebacks of unexpected server errors kept between two reads."""


def check_fault_rules(admin_contract: Contract, rules: Sequence[Mapping[str, Any]]) -> None:
    """Check rules as the control API does (the FaultRule schema, then the combinations: the rule sets'
    one shape check, :meth:`~mockhub.services.rulesets.RuleSet.check`).

    Raises :class:`~mockhub.kernel.errors.ValidationFailed`.
    """
    FaultEngine.check(rules, admin_contract.check)


class Control:
    """Reset, state, fault rules, overrides, the journal and the sessions of one server."""

    def __init__(self, sessions: Sessions, fixtures: FixtureLoader, admin_contract: Contract,
                 override_checker: OverrideChecker) -> None:
        self._sessions = sessions
        self._fixtures = fixtures
        self._admin_contract = admin_contract
        self._override_checker = override_checker
        self._server_errors: deque[str] = deque(maxlen=MAX_SERVER_ERRORS)

    # --- sessions

    def session(self, name: str | None = None) -> Session:
        """The named session (made on first use); the default one without a name."""
        return self._sessions.default if name is None else self._sessions.get(name)

    def sessions(self) -> list[dict[str, Any]]:
        """Each session: its name, journal size, fault rules and idle time, the default first."""
        return self._sessions.describe()

    def drop_named_sessions(self) -> None:
        """Forget every named session (the pytest fixture's fresh start: no test sees another's)."""
        self._sessions.drop_all()

    def drop_session(self, name: str) -> None:
        """Forget a named session: 404 if there is none, 400 for the default one."""
        if not self._sessions.drop(name):
            raise NotFound(f"No session '{name}'.")

    # --- state

    def reset(self, session: Session) -> None:
        """Back to the start-up state: data, random sequence, clock, fault rules; an empty journal."""
        self._sessions.reset(session)

    def state(self, session: Session) -> dict[str, Any]:
        """The session's state in the fixture format: a copy the caller may change freely."""
        return copy.deepcopy(dump(session.store))

    def replace_state(self, session: Session, data: Any, origin: str) -> dict[str, int]:
        """Replace the session's data (400 naming the bad record); the random sequence and clock go on.

        Returns how many records each section now holds.
        """
        try:
            store = self._fixtures.replace(session.store, FixtureSource(origin, data))
        except FixtureError as exc:
            raise ValidationFailed(str(exc)) from None
        session.store = store
        return {section: len(records) for section, records in dump(store).items()}

    def load(self, session: Session, data: Mapping[str, Any] | str | Path) -> None:
        """Add fixture-format data (a dict, copied, or a file) to the session's data, all or nothing.

        Raises :class:`~mockhub.dataset.fixtures.FixtureError` naming the bad record.
        """
        source = (FixtureSource.read(Path(data)) if isinstance(data, (str, Path))
                  else FixtureSource.of("load()", data))
        store = session.store.copy()  # a bad record part-way leaves the session as it was
        # Copying made the session's data so far a base both copies share, as the start-up data is to a new
        # session: from here each quota counts what its store holds beyond it (deleting those frees nothing).
        quota = session.store.ctx.quota
        session.store.ctx.quota, store.ctx.quota = quota.fresh(), quota.fresh()
        self._fixtures.load_into(store, [source])
        session.store = store

    def startup_state(self) -> dict[str, Any]:
        """The start-up data, which every session starts from, in the fixture format."""
        return dump(self._sessions.startup)

    def default_token(self, session: Session) -> str | None:
        """The bearer token of the session's first tenant, if it has one."""
        return session.store.tenants.default_token

    def tenants(self, session: Session) -> list[tuple[str, str, tuple[str, ...]]]:
        """The session's tenants in load order, the default one first: (id, name, tokens) each."""
        return [(t["tenantId"], t.get("name", ""), tuple(t["tokens"])) for t in session.store.tenants.by_id.values()]

    # --- the clock

    def clock(self, session: Session) -> dict[str, Any]:
        """The session's clock: its current time and whether it is pinned."""
        clock = session.store.ctx.clock
        return {"session": session.name, "now": portal_time(clock.now()), "pinned": clock.pinned}

    def set_clock(self, session: Session, instant: datetime) -> dict[str, Any]:
        """Make ``instant`` the session's current time (a pinned clock stays pinned, a real one runs on from it)."""
        session.store.ctx.clock.set(instant)
        return self.clock(session)

    def advance_clock(self, session: Session, by: timedelta) -> dict[str, Any]:
        """Move the session's clock on by ``by`` (400 for a move back or past the year 9999): access tokens
        expire, and the times of new records and journal entries follow it."""
        if by < timedelta(0):
            raise ValidationFailed("The clock moves forward only; set it to an earlier instant instead.")
        try:
            session.store.ctx.clock.advance(by)
        except ValueError as exc:
            raise ValidationFailed(f"{exc}.") from None
        return self.clock(session)

    def change_clock(self, session: Session, change: Mapping[str, str]) -> dict[str, Any]:
        """``{"set": ISO instant}`` or ``{"advance": ISO duration}`` (the control API's ClockChange)."""
        try:
            if "set" in change:
                return self.set_clock(session, parse_instant(change["set"]))
            return self.advance_clock(session, parse_duration(change["advance"]))
        except ValueError as exc:
            raise ValidationFailed(f"{exc}.") from None

    # --- fault rules

    def faults(self, session: Session) -> list[dict[str, Any]]:
        """The session's fault rules with their counters, in the order they apply."""
        return session.faults.to_json()

    def check_faults(self, rules: Sequence[Mapping[str, Any]]) -> None:
        """Raise :class:`~mockhub.kernel.errors.ValidationFailed` unless every rule is valid."""
        check_fault_rules(self._admin_contract, rules)

    def add_faults(self, session: Session, rules: Sequence[Mapping[str, Any]], *,
                   listed: bool = True) -> list[dict[str, Any]]:
        """Add rules, all or none (400 naming the problem); returns them with their ids and counters. (``listed``
        is the other rule sets' way of naming a problem's rule by its index: a fault rule's problems always are.)"""
        self.check_faults(rules)
        return session.faults.add(rules)

    def remove_fault(self, session: Session, rule_id: str) -> None:
        """Remove one rule by id, or 404."""
        if not session.faults.remove(rule_id):
            raise NotFound(f"No fault rule '{rule_id}'.")

    def clear_faults(self, session: Session) -> None:
        session.faults.clear()

    # --- overrides

    def overrides(self, session: Session) -> list[dict[str, Any]]:
        """The session's overrides with their counters, in the order they are tried."""
        return session.overrides.to_json()

    def check_overrides(self, overrides: Sequence[Mapping[str, Any]], *, listed: bool = True) -> None:
        """Raise :class:`~mockhub.kernel.errors.ValidationFailed` listing every problem of the overrides (their shape,
        then the APIs' contract unless ``off_contract``); ``listed`` prefixes each path with the index."""
        check_overrides(self._admin_contract, self._override_checker, overrides, listed)

    def add_overrides(self, session: Session, overrides: Sequence[Mapping[str, Any]], *,
                      listed: bool = True) -> list[dict[str, Any]]:
        """Check and add overrides, all or none; returns them with their ids and counters."""
        self.check_overrides(overrides, listed=listed)
        return session.overrides.add(overrides)

    def remove_override(self, session: Session, override_id: str) -> None:
        """Remove one override by id, or 404."""
        if not session.overrides.remove(override_id):
            raise NotFound(f"No override '{override_id}'.")

    def clear_overrides(self, session: Session) -> None:
        session.overrides.clear()

    # --- the request journal

    def requests(self, session: Session) -> list[dict[str, Any]]:
        """The session's whole request journal, oldest first."""
        return [entry.to_json() for entry in session.journal.entries()]

    def requests_page(self, session: Session, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the session's journal: up to ``limit`` entries numbered after ``after`` within the page's
        bytes; and the number to read on from (``None``: that was the last)."""
        return session.journal.page(after, limit)

    def search_requests(self, session: Session, matcher: Matcher) -> tuple[list[Entry], list[tuple[Entry, list[str]]]]:
        """The journal entries ``matcher`` matches, and the closest others with what differed (closest first)."""
        return session.journal.search(matcher)

    def clear_requests(self, session: Session) -> None:
        session.journal.clear()

    # --- the Engine: activities from customer channels, and webhook deliveries

    def check_activity(self, body: Mapping[str, Any]) -> None:
        """Raise :class:`~mockhub.kernel.errors.ValidationFailed` unless ``body`` is a control call's customer
        activity (the control API's ``CustomerActivity``)."""
        self._admin_contract.check("CustomerActivity", body)

    def customer_message(self, session: Session, body: Mapping[str, Any]) -> dict[str, Any]:
        """A message arriving from a customer channel (``POST /__mockhub/activities``): stored in the conversation
        named (or the integration's of the binding, established if new) and delivered like any activity."""
        self.check_activity(body)
        problems = collect_problems(self._override_checker.contract.schema(CUSTOMER_MESSAGE), body["message"], "body",
                                    "message")
        if problems:
            raise ValidationFailed(problems=tuple(problems))
        accepted, is_new = session.store.conversations.customer_message(body)
        deliveries = session.outbox.send(accepted.deliveries, session.store.ctx.clock)
        return {"conversation": established(accepted.conversation, is_new), "activity": accepted.activity,
                "deliveries": deliveries}

    def deliveries(self, session: Session) -> list[dict[str, Any]]:
        """The session's whole delivery log, oldest first."""
        return [record.to_json() for record in session.outbox.log.entries()]

    def deliveries_page(self, session: Session, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the session's delivery log (as :meth:`requests_page` reads the journal)."""
        return session.outbox.log.page(after, limit)

    def clear_deliveries(self, session: Session) -> None:
        """Forget the delivery log (deliveries under way go on, and their next attempts are recorded)."""
        session.outbox.log.clear()

    # --- delivery faults

    def delivery_faults(self, session: Session) -> list[dict[str, Any]]:
        """The session's delivery faults with their counters, in the order they apply."""
        return session.outbox.faults.to_json()

    def check_delivery_faults(self, rules: Sequence[Mapping[str, Any]], *, listed: bool = True) -> None:
        """Raise :class:`~mockhub.kernel.errors.ValidationFailed` listing every problem of the rules: their shape,
        then the webhooks of the APIs' contract."""
        check_delivery_faults(self._admin_contract, self._override_checker, rules, listed)

    def add_delivery_faults(self, session: Session, rules: Sequence[Mapping[str, Any]], *,
                            listed: bool = True) -> list[dict[str, Any]]:
        """Check and add delivery faults, all or none; returns them with their ids and counters."""
        self.check_delivery_faults(rules, listed=listed)
        return session.outbox.faults.add(rules)

    def remove_delivery_fault(self, session: Session, rule_id: str) -> None:
        """Remove one delivery fault by id, or 404."""
        if not session.outbox.faults.remove(rule_id):
            raise NotFound(f"No delivery fault '{rule_id}'.")

    def clear_delivery_faults(self, session: Session) -> None:
        session.outbox.faults.clear()

    # --- unexpected server errors

    def server_error(self, traceback: str) -> None:
        """Keep the traceback of an unexpected exception, for the pytest plugin to raise in the test."""
        self._server_errors.append(traceback)

    def has_server_errors(self) -> bool:
        """Whether any is kept; safe from any thread (a deque's length is read at once)."""
        return len(self._server_errors) > 0

    def server_errors(self, *, clear: bool = False) -> list[str]:
        """The tracebacks kept since the last clear, oldest first."""
        errors = list(self._server_errors)
        if clear:
            self._server_errors.clear()
        return errors
