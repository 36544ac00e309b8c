"""The pytest plugin (SPEC section 7): a ``mockhub`` fixture, registered by installing mockhub.

One real server per start-up configuration runs in a background thread for the whole
test session (any HTTP client works, sync or async); each test gets it reset to the
start-up state, so a test pays one reset, not a server start. Under pytest-xdist each
worker process has its own servers on free ports.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# The server modules (aiohttp, jsonschema) load on first use of the fixture, not when pytest
# loads the plugin: installing mockhub must not slow down test runs that never use it.
if TYPE_CHECKING:
    from mockhub.server import BackgroundServer
    from mockhub.sessions import Session
    from mockhub.settings import Settings

MARKER = "mockhub"
_SERVERS = pytest.StashKey["dict[tuple[Any, ...], BackgroundServer]"]()


class MockhubServerError(AssertionError):
    """The server raised an unexpected exception while the test ran; the message has its traceback."""


class Mockhub:
    """What a test gets as ``mockhub``: the server's URL and token, and its state to arrange and inspect."""

    def __init__(self, server: BackgroundServer, faults: Sequence[Mapping[str, Any]] = ()) -> None:
        self._server = server
        self._marker_faults = tuple(faults)
        self.url = server.url
        """Base URL, e.g. ``http://127.0.0.1:40213``."""

    @property
    def _session(self) -> Session:
        from mockhub.keys import SESSIONS

        return self._server.app[SESSIONS].default

    @property
    def token(self) -> str:
        """The default tenant's bearer token (the first token of the first tenant)."""
        token = self._server.call(lambda: self._session.store.tenants.default_token)
        if token is None:
            raise LookupError("the loaded fixtures define no tenant with a token")
        return token

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` for the default tenant, ready for any client."""
        return {"Authorization": f"Bearer {self.token}"}

    def reset(self) -> None:
        """Back to the start-up state (data, random sequence, clock, faults) with an empty journal."""
        from mockhub.keys import SERVER_ERRORS, SESSIONS

        def reset() -> None:
            sessions = self._server.app[SESSIONS]
            sessions.reset(sessions.default)
            if self._marker_faults:
                sessions.default.faults.add(self._marker_faults)
            self._server.app[SERVER_ERRORS].clear()

        self._server.call(reset)

    def add_fault(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        """Add a fault rule (SPEC section 4); returns it with its id and counters."""
        from mockhub.faults import check_rules
        from mockhub.keys import ADMIN_CONTRACT

        def add() -> dict[str, Any]:
            check_rules(self._server.app[ADMIN_CONTRACT], [rule])
            return self._session.faults.add([rule])[0]

        return self._server.call(add)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._server.call(lambda: self._session.faults.clear())

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request journal, oldest first (as ``GET /__mockhub/requests`` gives it)."""
        return self._server.call(lambda: [e.to_json() for e in self._session.journal.entries()])

    def load(self, data: Mapping[str, Any] | str | Path) -> None:
        """Add fixture-format data (a dict or a file) to the current state, validated like a fixture file.

        All or nothing: a bad record leaves the state as it was. The data is copied, so
        changing the dict afterwards changes nothing in the server.
        """
        from mockhub.fixtures import FixtureSource
        from mockhub.keys import FIXTURES

        source = FixtureSource.read(Path(data)) if isinstance(data, (str, Path)) else FixtureSource.of("load()", data)

        def load() -> None:
            session = self._session
            store = session.store.copy()
            self._server.app[FIXTURES].load_into(store, [source])
            session.store = store

        self._server.call(load)

    def state(self) -> dict[str, Any]:
        """The current state in the fixture format: a copy, which the test may change freely."""
        from mockhub.fixtures import dump

        return self._server.call(lambda: copy.deepcopy(dump(self._session.store)))

    def assert_called(self, method: str, path: str, times: int | None = None) -> list[dict[str, Any]]:
        """Assert that ``method path`` arrived (``times`` times, if given); ``path`` may be a glob.

        Returns the matching journal entries. On failure the message lists the requests
        that did arrive, closest first.
        """
        method = method.upper()
        entries = self.requests
        matching = [e for e in entries if e["method"] == method and fnmatch.fnmatchcase(e["path"], path)]
        if (times is None and matching) or (times is not None and len(matching) == times):
            return matching
        wanted = f"{method} {path}"
        expected = "at least once" if times is None else f"{times} time{'s' * (times != 1)}"
        arrived = sorted(entries, key=lambda e: -difflib.SequenceMatcher(
            None, wanted, f"{e['method']} {e['path']}").ratio())
        lines = [f"  {e['method']} {e['path']}{'?' + e['query'] if e['query'] else ''} -> {e['status']}"
                 for e in arrived[:20]]
        more = f"\n  ... and {len(arrived) - 20} more" if len(arrived) > 20 else ""
        listing = "\n".join(lines) + more if lines else "  (no requests arrived)"
        raise AssertionError(f"expected {wanted} {expected}, it arrived {len(matching)} time"
                             f"{'s' * (len(matching) != 1)}; requests that arrived, closest first:\n{listing}")

    def raise_server_errors(self) -> None:
        """Raise :class:`MockhubServerError` if the server failed unexpectedly since the last reset."""
        from mockhub.keys import SERVER_ERRORS

        app = self._server.app

        def collected() -> list[str]:
            errors = app[SERVER_ERRORS]
            return [*errors]

        errors = self._server.call(collected)  # cleared at every reset, so all are this test's
        if errors:
            raise MockhubServerError("mockhub raised while serving this test:\n" + "\n".join(errors))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockhub")
    group.addoption("--mockhub-seed", type=int, default=None,
                    help="default seed of the mockhub fixture's random source (default 0)")
    group.addoption("--mockhub-fixtures", action="append", default=[], metavar="FILE",
                    help="default fixture files of the mockhub fixture (repeatable; default: the built-in dataset)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(seed=None, fixtures=None, faults=None, clock=None): configure the mockhub fixture "
        "(seed of the random source, fixture files or dicts, fault rules, a pinned ISO clock)")
    config.stash[_SERVERS] = {}


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in config.stash.get(_SERVERS, {}).values():
        server.stop()


def _settings_for(config: pytest.Config, marker: pytest.Mark | None) -> tuple[Settings, tuple[Any, ...]]:
    from mockhub.settings import Settings

    options = dict(marker.kwargs) if marker else {}
    unknown = set(options) - {"seed", "fixtures", "faults", "clock"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.mockhub does not take {', '.join(sorted(unknown))}")
    seed = options.get("seed", config.getoption("mockhub_seed"))
    fixtures = options.get("fixtures") or config.getoption("mockhub_fixtures") or ()
    if isinstance(fixtures, (str, Path, Mapping)):
        fixtures = (fixtures,)
    given = tuple(Path(f) if isinstance(f, str) else f for f in fixtures)
    settings = Settings(port=0, seed=seed or 0, fixtures=given, clock=options.get("clock"))
    key = (settings.seed, repr(given), settings.clock)
    return settings, key


@pytest.fixture
def mockhub(request: pytest.FixtureRequest) -> Iterator[Mockhub]:
    """A running mockhub server in its start-up state (shared by the session, reset per test)."""
    from mockhub.app import create_app
    from mockhub.errors import ValidationFailed
    from mockhub.faults import check_rules
    from mockhub.keys import ADMIN_CONTRACT
    from mockhub.server import BackgroundServer

    marker = request.node.get_closest_marker(MARKER)
    settings, key = _settings_for(request.config, marker)
    servers = request.config.stash[_SERVERS]
    server = servers.get(key)
    if server is None:
        server = BackgroundServer(create_app(settings))
        server.start()
        servers[key] = server
    faults = tuple(marker.kwargs.get("faults") or ()) if marker else ()
    try:
        check_rules(server.app[ADMIN_CONTRACT], faults)
    except ValidationFailed as exc:
        raise pytest.UsageError(f"@pytest.mark.mockhub(faults=...): {exc}") from None
    fixture = Mockhub(server, faults=faults)
    fixture.reset()
    yield fixture


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test with the server-side traceback if the server raised while it ran."""
    result = yield
    fixture = getattr(item, "funcargs", {}).get("mockhub")
    if isinstance(fixture, Mockhub):
        fixture.raise_server_errors()
    return result
