"""Every default is written once, in the settings (``Settings``, ``ProxySettings``): the command line's
defaults, its help and each default the documentation gives (the README and the docs site's pages: the
Limits table, the option tables, the prose) say the same. A default given explicitly, as the help or the
documentation says it, must change nothing."""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

import pytest

from mockhub.cli import build_parser, proxy_settings_from, settings_from
from mockhub.proxy.settings import ProxySettings
from mockhub.settings import Settings
from tests.pages import DOCS, ROOT, page, sections

PAGES = (ROOT / "README.md", *sorted(DOCS.glob("*.md")))
TARGET = "http://127.0.0.1:9"
PROXY_SECTION = "Checking real traffic"
"""The section on ``mockhub proxy`` (in docs/conformance.md): its defaults are the proxy's."""
WEBHOOK_SECTION = "Checking a webhook receiver"
"""The section on ``mockhub verify-webhook`` (in docs/conformance.md): its defaults are that command's."""
OTHER_COMMANDS = ("Checking the real API",)
"""Sections whose options belong to none of ``serve``, ``proxy`` and ``verify-webhook`` (``verify``)."""
SAID = (
    re.compile(r"^\| `(--[a-z-]+)` \(`MOCKHUB_\w+`\) \| (\d+)", re.M),  # the Limits table: | `--x` (`MOCKHUB_X`) | 1000
    re.compile(r"`(--[a-z-]+)(?: [A-Z]+)?`[^`()]*?\(default ([\w.]+)"),  # `--journal-size N` | ... (default 1000)
    re.compile(r"`(--[a-z-]+)`, default ([\w.]+)"),  # (`--seed`, default 0)
    re.compile(r"`(--[a-z-]+)` \|[^`|\n]*`([^`]+)` by default"),  # | `--host` | address to bind; `127.0.0.1` by default
    re.compile(r"\[(--[a-z-]+) (\d[\d.]*)\]"),  # the synopsis: [--port 8080]
)
"""The ways the documentation gives an option's default."""
LIMIT_OF_A_COMMAND = re.compile(r"^\| `(--[a-z-]+)`(?: \(`MOCKHUB_\w+`\))?, `mockhub ([a-z-]+)` \| (\d+)", re.M)
"""A Limits row of another command than ``serve``: | `--timeout`, `mockhub verify-webhook` | 10 |"""


def serve(*args: str) -> Settings:
    return settings_from(build_parser({}).parse_args(["serve", *args]))


def proxy(*args: str) -> ProxySettings:
    return proxy_settings_from(build_parser({}).parse_args(["proxy", "--target", TARGET, *args]))


def verify_webhook(*args: str) -> argparse.Namespace:
    return build_parser({}).parse_args(["verify-webhook", TARGET, "--public-key", "P", "--private-key", "K", *args])


def verify(*args: str) -> argparse.Namespace:
    return build_parser({}).parse_args(["verify", "--base-url", TARGET, *args])


RUN = {"serve": serve, "proxy": proxy, "verify": verify, "verify-webhook": verify_webhook}
"""Each command that has defaults: its options parsed from the given arguments."""


def documented_defaults() -> dict[str, list[tuple[str, str]]]:
    """The (option, default) pairs the pages give, by command (``serve``, ``proxy``, ``verify-webhook``),
    section by section (each page's title and each of its ``##`` sections)."""
    said: dict[str, list[tuple[str, str]]] = {command: [] for command in RUN}
    for title, section in (part for path in PAGES for part in sections(path.read_text())):
        if title in OTHER_COMMANDS:
            continue
        command = {PROXY_SECTION: "proxy", WEBHOOK_SECTION: "verify-webhook"}.get(title, "serve")
        said[command] += [match.groups() for pattern in SAID for match in pattern.finditer(section)]
        for flag, other_command, value in LIMIT_OF_A_COMMAND.findall(section):
            said[other_command].append((flag, value))
    return said


def help_defaults(command: str, capsys: pytest.CaptureFixture[str],
                  monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (option, default) pairs ``mockhub COMMAND --help`` gives (each help unwrapped: on the option's
    line, or on the next when the option's name and value are long)."""
    monkeypatch.setenv("COLUMNS", "1000")
    with pytest.raises(SystemExit):
        build_parser({}).parse_args([command, "--help"])
    return re.findall(r"^ +(--[a-z-]+)[^\n]*?(?:\n(?! *-)[^\n]*?)?\(default ([^;,)\s]+)", capsys.readouterr().out,
                      flags=re.M)


def test_serve_and_proxy_without_options_take_the_settings_defaults() -> None:
    assert serve() == replace(Settings(), access_log=True)  # serve logs each request unless --quiet
    assert proxy() == ProxySettings(target=TARGET, access_log=True)


@pytest.mark.parametrize("command", list(RUN))
def test_each_default_the_help_gives_is_the_settings(command: str, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    given = help_defaults(command, capsys, monkeypatch)
    assert len(given) >= {"serve": 20, "proxy": 6, "verify": 1, "verify-webhook": 3}[command]
    run = RUN[command]
    drifted = [(flag, value) for flag, value in given if run(flag, value) != run()]
    assert drifted == []


def test_each_default_the_documentation_gives_is_the_settings() -> None:
    said = documented_defaults()
    limits = re.search(r"^## Limits\n(.*?)^## ", page("limits-and-security.md"), flags=re.M | re.S)
    assert limits is not None
    rows = re.findall(r"^\| `--", limits.group(1), flags=re.M)
    assert len(rows) >= 16 and len(said["serve"]) >= len(rows) + 10 and len(said["proxy"]) >= 5
    assert len(said["verify-webhook"]) >= 5  # the options' table and the two Limits rows
    drifted = [(flag, value) for command, run in RUN.items() for flag, value in said[command]
               if run(flag, value) != run()]
    assert drifted == [], "the documentation gives these defaults; the settings say otherwise"


def test_a_default_that_drifts_is_caught() -> None:
    """The check above, on a Limits line that says another default than the settings."""
    [(flag, value)] = SAID[0].findall("| `--journal-size` (`MOCKHUB_JOURNAL_SIZE`) | 2000 | entries |")
    assert serve(flag, value) != serve()
