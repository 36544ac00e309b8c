"""The pytest plugin (decisions.md, The pytest fixture): a ``mockhub`` fixture, registered by installing mockhub.

One real server per start-up configuration runs in a background thread for the whole
test session (any HTTP client works, sync or async); each test gets it reset to the
start-up state, so a test pays one reset, not a server start. Under pytest-xdist each
worker process has its own servers on free ports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockhub.settings import Settings

# The server modules (aiohttp, jsonschema) load on first use of the fixture, not when pytest
# loads the plugin: installing mockhub must not slow down test runs that never use it.
if TYPE_CHECKING:
    from mockhub.testing import Mockhub
    from mockhub.web.server import BackgroundServer

MARKER = "mockhub"
_SERVERS = pytest.StashKey[dict[tuple[Any, ...], "BackgroundServer"]]()
_FIXTURE = pytest.StashKey["Mockhub"]()
WEBHOOK_OPTIONS = ("webhook_time_scale", "webhook_timeout")
"""The marker's webhook settings: the factor of the retry schedule's waits, an attempt's timeout in seconds."""


def __getattr__(name: str) -> object:
    # ``from mockhub.pytest_plugin import Mockhub`` without loading the server when pytest loads the plugin.
    if name in ("Mockhub", "MockhubServerError"):
        from mockhub import testing

        return getattr(testing, name)
    raise AttributeError(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockhub")
    group.addoption("--mockhub-seed", type=int, default=None,
                    help=f"default seed of the mockhub fixture's random source (default {Settings.seed})")
    group.addoption("--mockhub-fixtures", action="append", default=[], metavar="FILE",
                    help="default fixture files of the mockhub fixture (repeatable; default: the built-in dataset)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(seed=None, fixtures=None, faults=None, overrides=None, clock=None, token_lifetime=None, "
        "webhook_time_scale=None, webhook_timeout=None): configure the mockhub fixture (seed of the random source, "
        "fixture files or dicts, fault rules, overrides, a pinned ISO clock, the seconds an access token is valid, "
        "the factor of the webhook retry schedule's waits, the seconds a webhook attempt waits for an answer)")
    config.stash[_SERVERS] = {}


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in config.stash.get(_SERVERS, {}).values():
        server.stop()


def _settings_for(config: pytest.Config, marker: pytest.Mark | None) -> tuple[Settings, tuple[Any, ...]]:
    options = dict(marker.kwargs) if marker else {}
    unknown = set(options) - {"seed", "fixtures", "faults", "overrides", "clock", "token_lifetime", *WEBHOOK_OPTIONS}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.mockhub does not take {', '.join(sorted(unknown))}")
    seed = options.get("seed")
    if seed is None:  # not given, or given as None: the command line's
        seed = config.getoption("mockhub_seed")
    if seed is not None and (type(seed) is not int):
        raise pytest.UsageError(f"@pytest.mark.mockhub(seed=...) takes an int, not {seed!r}")
    fixtures = options.get("fixtures") or config.getoption("mockhub_fixtures") or ()
    if isinstance(fixtures, (str, Path, Mapping)):
        fixtures = (fixtures,)
    given = tuple(Path(f) if isinstance(f, str) else f for f in fixtures)
    clock = options.get("clock")
    if isinstance(clock, datetime):
        clock = (clock if clock.tzinfo is not None else clock.replace(tzinfo=UTC)).isoformat()
    elif clock is not None and not isinstance(clock, str):
        raise pytest.UsageError(f"@pytest.mark.mockhub(clock=...) takes an ISO instant or a datetime, not {clock!r}")
    for name in ("faults", "overrides"):
        if not isinstance(options.get(name) or [], list | tuple):
            raise pytest.UsageError(f"@pytest.mark.mockhub({name}=...) takes a list of rules, not {options[name]!r}")
    token_lifetime = options.get("token_lifetime")
    if token_lifetime is None:
        token_lifetime = Settings.token_lifetime
    elif type(token_lifetime) is not int or token_lifetime < 1:  # as --token-lifetime takes it
        raise pytest.UsageError(f"@pytest.mark.mockhub(token_lifetime=...) takes a number of seconds above 0 (an "
                                f"int), not {token_lifetime!r}")
    webhooks: dict[str, Any] = {}
    for name in WEBHOOK_OPTIONS:
        value = options.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
            raise pytest.UsageError(f"@pytest.mark.mockhub({name}=...) takes a number >= 0, not {value!r}")
        webhooks[name] = float(value)
    settings = replace(Settings(port=0, seed=seed or 0, fixtures=given, clock=clock, token_lifetime=token_lifetime),
                       **webhooks)
    key = (settings.seed, repr(given), settings.clock, settings.token_lifetime, settings.webhook_time_scale,
           settings.webhook_timeout)
    return settings, key


@pytest.fixture
def mockhub(request: pytest.FixtureRequest) -> Iterator[Mockhub]:
    """A running mockhub server in its start-up state (shared by the session, reset per test)."""
    from mockhub import testing  # the server's modules load here, on the fixture's first use
    from mockhub.kernel.errors import ValidationFailed
    from mockhub.web.keys import CONTROL

    marker = request.node.get_closest_marker(MARKER)
    settings, key = _settings_for(request.config, marker)
    servers = request.config.stash[_SERVERS]
    server = servers.get(key)
    if server is None:
        server = servers[key] = testing.start_server(settings)
    faults = tuple(marker.kwargs.get("faults") or ()) if marker else ()
    overrides = tuple(marker.kwargs.get("overrides") or ()) if marker else ()
    if overrides:
        try:
            server.call(server.app[CONTROL].check_overrides, overrides)
        except ValidationFailed as exc:
            raise pytest.UsageError(f"@pytest.mark.mockhub(overrides=...): {exc}") from None
    try:
        fixture = testing.Mockhub(server, faults=faults, overrides=overrides, reset=True)
    except ValidationFailed as exc:
        raise pytest.UsageError(f"@pytest.mark.mockhub(faults=...): {exc}") from None
    request.node.stash[_FIXTURE] = fixture
    yield fixture


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test with the server-side traceback if the server raised while it ran."""
    result = yield
    fixture = item.stash.get(_FIXTURE, None)
    if fixture is not None:
        fixture.raise_server_errors()
    return result
