"""Testing against mockhub: the pytest fixture's :class:`Mockhub`, and helpers for in-process servers.

``mockhub`` (the pytest fixture) is a :class:`Mockhub` on a server in a background thread;
each of its methods is one call of the server's control plane (:class:`~mockhub.services.control.Control`,
the object the control API calls too), run on the server's loop between two requests.

``await aiohttp_client(MockhubTestServer(create_app()))`` (pytest-aiohttp) serves the app
exactly as ``mockhub serve`` does, custom verbs (LOOKUP) included.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mockhub.kernel.clock import parse_duration, parse_instant
from mockhub.kernel.matching import Matcher
from mockhub.services.control import Control
from mockhub.services.sessions import Session
from mockhub.settings import Settings
from mockhub.web.aiohttp_private import MockhubTestServer
from mockhub.web.app import create_app
from mockhub.web.keys import CONTROL
from mockhub.web.server import BackgroundServer

__all__ = ["Mockhub", "MockhubServerError", "MockhubTestServer", "Tenant", "start_server"]


def start_server(settings: Settings) -> BackgroundServer:
    """A mockhub server serving from a background thread (``settings.port`` 0 picks a free port)."""
    server = BackgroundServer(create_app(settings), settings.host, settings.port)
    server.start()
    return server


@dataclass(frozen=True)
class Tenant:
    """One tenant of the loaded data, as ``mockhub.tenants`` lists it."""

    id: str
    """The tenant id, e.g. ``00000000-0000-0000-0000-000000000001``."""
    name: str
    tokens: tuple[str, ...]
    """Every bearer token of the tenant (the fixture format allows several)."""

    @property
    def token(self) -> str:
        """The tenant's first token."""
        if not self.tokens:
            raise LookupError(f"tenant {self.id} has no token")
        return self.tokens[0]

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` for this tenant, ready for any client."""
        return {"Authorization": f"Bearer {self.token}"}


class MockhubServerError(AssertionError):
    """The server raised an unexpected exception while the test ran; the message has its traceback."""


class Mockhub:
    """What a test gets as ``mockhub``: the server's URL and token, and its state to arrange and inspect.

    It works on the server's default session. Raises
    :class:`mockhub.ValidationFailed` for a bad fault rule or override (also when
    ``faults`` or ``overrides``, the marker's, are bad) and :class:`mockhub.FixtureError`
    for bad data.
    """

    def __init__(self, server: BackgroundServer, faults: Sequence[Mapping[str, Any]] = (),
                 overrides: Sequence[Mapping[str, Any]] = (), *, reset: bool = False) -> None:
        """``reset``: start from the start-up state (as :meth:`reset`), in the same trip to the server."""
        self._server = server
        self._control: Control = server.app[CONTROL]
        self._marker_faults = tuple(faults)
        self._marker_overrides = tuple(overrides)
        self._session = server.call(self._start, reset)  # one trip to the server's thread: each test pays for each
        self.url = server.url
        """Base URL, e.g. ``http://127.0.0.1:40213``."""

    def _start(self, reset: bool) -> Session:
        """The default session, once the marker's rules are checked, reset if asked (on the server's loop)."""
        control = self._control
        if self._marker_faults:
            control.check_faults(self._marker_faults)
        if self._marker_overrides:
            control.check_overrides(self._marker_overrides)
        self._session = control.session()
        if reset:
            self._reset()
        return self._session

    @property
    def token(self) -> str:
        """The default tenant's bearer token (the first token of the first tenant)."""
        token = self._server.call(self._control.default_token, self._session)
        if token is None:
            raise LookupError("the loaded fixtures define no tenant with a token")
        return token

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` for the default tenant, ready for any client."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def tenants(self) -> list[Tenant]:
        """Every tenant of the current state in load order, the default one first.

        With the built-in dataset, ``mockhub.tenants[1]`` is tenant B (token
        ``mockhub-other-token``): its hub and integration answer 403 to the default tenant.
        """
        return [Tenant(*t) for t in self._server.call(self._control.tenants, self._session)]

    def reset(self) -> None:
        """Back to the start-up state (data, random sequence, clock, faults, overrides) with an empty journal."""
        self._server.call(self._reset)

    def _reset(self) -> None:
        control = self._control
        control.reset(self._session)
        control.drop_named_sessions()
        if self._marker_faults:
            control.add_faults(self._session, self._marker_faults)
        if self._marker_overrides:
            control.add_overrides(self._session, self._marker_overrides)
        control.server_errors(clear=True)

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Add a fault rule (its shape is ``FaultRule`` in the control API's contract); returns it with
        its id and counters."""
        return self._server.call(self._control.add_faults, self._session, [_one_rule(rule, "add_fault")])[0]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._server.call(self._control.clear_faults, self._session)

    def override(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Add an override, an answer on demand (its shape is ``Override`` in the control API's contract),
        checked against the APIs' contract; returns it with its id and counters.

        Raises :class:`mockhub.ValidationFailed` listing every problem, each with its JSON path.
        """
        given = _one_rule(rule, "override")
        return self._server.call(lambda: self._control.add_overrides(self._session, [given], listed=False)[0])

    def clear_overrides(self) -> None:
        """Remove every override."""
        self._server.call(self._control.clear_overrides, self._session)

    def advance_clock(self, by: timedelta | float | str) -> dict[str, Any]:
        """Move the clock of the test's session on by ``by``: a ``timedelta``, a number of seconds or an ISO 8601
        duration (``"P30D"``, ``"PT1H"``), as ``POST /__mockhub/clock`` does. An access token past its
        ``expires_in`` then gets 401, without waiting; new records and journal entries take the later time.
        Returns the clock as ``GET /__mockhub/clock`` shows it; :meth:`reset` puts it back.

        Raises ``ValueError`` for a text that is not a duration and
        :class:`~mockhub.kernel.errors.ValidationFailed` for a move back or past the year 9999.
        """
        if isinstance(by, timedelta):
            delta = by
        elif isinstance(by, str):
            delta = parse_duration(by)
        elif isinstance(by, int | float) and not isinstance(by, bool):
            delta = timedelta(seconds=by)
        else:
            raise TypeError(f"advance_clock() takes a timedelta, seconds or an ISO 8601 duration, not "
                            f"{type(by).__name__}")
        return self._server.call(self._control.advance_clock, self._session, delta)

    def set_clock(self, instant: datetime | str) -> dict[str, Any]:
        """Make ``instant`` the current time of the test's session: a ``datetime`` (a naive one is UTC) or an ISO
        8601 instant (``"2021-01-31T00:00:00Z"``), as ``POST /__mockhub/clock`` with ``set`` does. It may go
        back as well as forward; a pinned clock stays pinned there, a real one runs on from it. Returns the
        clock as ``GET /__mockhub/clock`` shows it; :meth:`reset` puts it back.

        Raises ``ValueError`` for a text that is not an ISO 8601 instant.
        """
        if isinstance(instant, datetime):
            instant = instant.isoformat()  # read as the control API reads it: in UTC, a naive time taken as UTC
        elif not isinstance(instant, str):
            raise TypeError(f"set_clock() takes a datetime or an ISO 8601 instant, not {type(instant).__name__}")
        return self._server.call(self._control.set_clock, self._session, parse_instant(instant))

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request journal, oldest first (as ``GET /__mockhub/requests`` gives it)."""
        return self._server.call(self._control.requests, self._session)

    def customer_message(self, integration_id: str, message: str | Mapping[str, Any], *, binding: str | None = None,
                         conversation_id: str | None = None, external_id: str | None = None,
                         properties: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
        """A customer's message arrives on the customer integration ``integration_id`` (as ``POST
        /__mockhub/activities``): into ``conversation_id``, or the integration's conversation of ``binding``
        (established, with ``properties``, when new). ``message`` is an activity message, or a text for a text
        message. It is stored and delivered to the hub's webhooks like any activity; returns the conversation, the
        activity and each delivery started.

        Raises :class:`mockhub.ValidationFailed` (or another :class:`~mockhub.kernel.errors.ApiError`: no such
        integration, no agent in its hub) saying why it cannot arrive.
        """
        body: dict[str, Any] = {"integrationId": integration_id,
                                "message": {"type": "text", "text": message} if isinstance(message, str) else message}
        for key, value in (("binding", binding), ("conversationId", conversation_id), ("externalId", external_id),
                           ("properties", properties)):
            if value is not None:
                body[key] = value
        return self._server.call(self._control.customer_message, self._session, body)

    def deliveries(self, *, kind: str | None = None, integration_id: str | None = None) -> list[dict[str, Any]]:
        """The webhook delivery log, oldest first, as ``GET /__mockhub/deliveries`` gives it: each attempt (its
        ``url``, ``headers``, ``body``, the receiver's ``status`` and ``answer``, or the ``error``), each refusal,
        websocket delivery and ``tenant-notified`` record; only those of ``kind`` and of ``integration_id``
        when given."""
        records = self._server.call(self._control.deliveries, self._session)
        return [r for r in records if (kind is None or r["kind"] == kind)
                and (integration_id is None or r["integrationId"] == integration_id.lower())]

    def wait_for_deliveries(self, count: int = 1, *, kind: str | None = "attempt", integration_id: str | None = None,
                            timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the delivery log holds ``count`` records of ``kind`` (attempts by default; ``None``: any) and
        of ``integration_id`` if given, and return them. Raises ``AssertionError`` listing the log if they have
        not come within ``timeout`` seconds.

        It blocks its thread: a test whose receiver runs on the test's own event loop waits with
        ``await asyncio.to_thread(mockhub.wait_for_deliveries, ...)``, so that the receiver can answer meanwhile.
        """
        __tracebackhide__ = True
        deadline = time.monotonic() + timeout
        while True:
            found = self.deliveries(kind=kind, integration_id=integration_id)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(WAIT_STEP)
        listing = "".join(f"\n  {r['delivery']} {r['kind']} {r['url']} -> {r['status'] or r['error']}"
                          for r in self.deliveries()) or "\n  (nothing was delivered)"
        wanted = f"{count} {kind or 'record'}{'s' * (count != 1)}" + (
            f" to integration {integration_id}" if integration_id else "")
        raise AssertionError(f"expected {wanted} in the delivery log within {timeout:g} s, found {len(found)}; the "
                             f"log:{listing}")

    def add_delivery_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Add a delivery fault (its shape is ``DeliveryFault`` in the control API's contract): what the webhook
        deliveries of the test do wrong on purpose (``bad-signature``, ``missing-header``, ``duplicate``, ``fail``,
        ``delay_ms``), checked against the webhooks the APIs' contract declares; returns it with its id and
        counters.

        Raises :class:`mockhub.ValidationFailed` listing every problem, each with its JSON path.
        """
        given = _one_rule(rule, "add_delivery_fault")
        return self._server.call(lambda: self._control.add_delivery_faults(self._session, [given], listed=False)[0])

    def clear_delivery_faults(self) -> None:
        """Remove every delivery fault."""
        self._server.call(self._control.clear_delivery_faults, self._session)

    def load(self, data: Mapping[str, Any] | str | Path) -> None:
        """Add fixture-format data (a dict or a file) to the current state, validated like a fixture file.

        All or nothing: a bad record leaves the state as it was. The data is copied, so
        changing the dict afterwards changes nothing in the server. What the session held
        before becomes its base, as the start-up data is: ``--max-session-records`` and
        ``--max-session-bytes`` count what it holds beyond that from then on.
        """
        self._server.call(self._control.load, self._session, data)

    def state(self) -> dict[str, Any]:
        """The current state in the fixture format: a copy, which the test may change freely."""
        return self._server.call(self._control.state, self._session)

    def assert_called(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                      json: Any = None, headers: Mapping[str, str] | None = None,
                      times: int | None = None) -> list[dict[str, Any]]:
        """Assert that a request arrived (``times`` times, if given) and return the journal entries that match.

        ``path`` may be a glob; ``query`` and ``headers`` (names in any case) must be among the
        request's, and ``json`` contained in its JSON body (objects as subsets, recursively). On
        failure the message lists the other requests, closest first, each with what differed.
        """
        __tracebackhide__ = True
        wanted: dict[str, Any] = {"method": method, "path": path, "query": query, "headers": headers}
        if json is not None:
            wanted["body"] = json
        matcher = Matcher.from_json(wanted)
        found, missed = self._server.call(self._control.search_requests, self._session, matcher)
        if (times is None and found) or (times is not None and len(found) == times):
            return [entry.to_json() for entry in found]
        conditions = [f"{name} {value!r}" for name, value in (("query", query), ("headers", headers), ("json", json))
                      if value is not None]
        expected = "at least once" if times is None else f"{times} time{'s' * (times != 1)}"
        lines = [f"  {e.method} {e.path}{'?' + e.query if e.query else ''} -> {e.status}\n"
                 + "".join(f"      {difference}\n" for difference in differences) for e, differences in missed]
        listing = "".join(lines).rstrip("\n") if lines else "  (no other requests arrived)"
        raise AssertionError(
            f"expected {matcher.method} {path}{' with ' + ', '.join(conditions) if conditions else ''} {expected}, "
            f"it arrived {len(found)} time{'s' * (len(found) != 1)}; other requests, closest first:\n{listing}")

    def raise_server_errors(self) -> None:
        """Raise :class:`MockhubServerError` if the server failed unexpectedly since the last reset."""
        if not self._control.has_server_errors():  # the usual case, seen without a trip to the server's thread
            return
        errors = self._server.call(self._control.server_errors)  # cleared at every reset: all are this test's
        if errors:
            raise MockhubServerError("mockhub raised while serving this test:\n" + "\n".join(errors))


WAIT_STEP = 0.01
"""Seconds between two looks at the delivery log while :meth:`Mockhub.wait_for_deliveries` waits."""


def _one_rule(rule: Any, method: str) -> Mapping[str, Any]:
    """``rule`` if it is one rule (a mapping); a clear TypeError otherwise (the control API would speak of a
    request body, which a test never sent)."""
    if not isinstance(rule, Mapping):
        raise TypeError(f"Mockhub.{method}() takes one rule, a dict, not {type(rule).__name__}"
                        f"{' (call it once per rule)' if isinstance(rule, list | tuple) else ''}")
    return rule
