"""The contract passes the OpenAPI linters teams run on it: Spectral and Redocly, no error, no warning.

The rulesets are the committed ``.spectral.yaml`` (``spectral:oas``) and ``redocly.yaml``
(``recommended``, with each change and its reason). The linters are npm packages, pinned in
``.ci/package-lock.json`` and installed by ``.ci/run`` (``npm ci --prefix .ci``). Where they are not
installed these tests skip and say how to install them, unless the ``CI`` environment variable is set
(as CI services set it): then a missing linter fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".ci" / "node_modules" / ".bin"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
"""Redocly sends no usage data and checks for no update."""


def in_ci() -> bool:
    """Whether the ``CI`` environment variable asks for every check (set, and not ``0`` or ``false``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def run_linter(name: str, *args: str) -> str:
    """Run a linter installed by ``npm ci --prefix .ci`` from the repository root; its standard output."""
    tool = BIN / name
    if not tool.exists():
        install = ("`npm ci --prefix .ci`" if shutil.which("npm") else
                   "Node.js 20.19 or later, then `npm ci --prefix .ci`")
        message = f"{name} is not installed: install {install} from the repository root"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so the linters must run)")
        pytest.skip(message)
    done = subprocess.run([str(tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **QUIET}, check=False)
    assert done.returncode == 0 or done.stdout.strip(), done.stderr  # findings are reported, not a crash
    return done.stdout


def json_objects(text: str) -> list[Any]:
    """The JSON values printed one after another (Redocly prints one report per API)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text := text.strip()):
        value, at = decoder.raw_decode(text, at)
        found.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def test_spectral_finds_nothing_in_either_form(tmp_path: Path) -> None:
    report = tmp_path / "spectral.json"
    run_linter("spectral", "lint", "--ruleset", ".spectral.yaml", "--format", "json", "--output", str(report),
               "contracts/openapi.json", "contracts/openapi-3.2.json")
    results = json.loads(report.read_text())
    assert results == [], "\n".join(
        f"{Path(r['source']).name} {r['code']} {'.'.join(map(str, r['path']))}: {r['message']}" for r in results)


def test_redocly_finds_nothing_in_either_form() -> None:
    reports = json_objects(run_linter("redocly", "lint", "--config", "redocly.yaml", "--format", "json"))
    assert len(reports) == 2  # api@3.1 and api@3.2
    for report in reports:
        problems = [f"{p['ruleId']} {p['location'][0]['pointer']}: {p['message']}" for p in report["problems"]]
        assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, "\n".join(problems)


@pytest.mark.parametrize("ci", [None, "true"])
def test_where_the_linters_are_not_installed_their_tests_skip_unless_ci_is_set(tmp_path: Path,
                                                                              ci: str | None) -> None:
    """This file run from a checkout without ``.ci/node_modules`` (a machine that has Node.js but has not
    run ``npm ci``): the linters' tests skip, saying what to install; under ``CI`` they fail, saying it too."""
    (tmp_path / "tests").mkdir()
    copy = tmp_path / "tests" / "test_linters.py"
    copy.write_text(Path(__file__).read_text())
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    if ci is not None:
        env["CI"] = ci
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-rsf",
                           "-k", "finds_nothing", str(copy)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    outcome = "2 failed" if ci else "2 skipped"
    assert outcome in done.stdout, done.stdout + done.stderr
    for name in ("spectral", "redocly"):
        assert f"{name} is not installed: install " in done.stdout
    assert "npm ci --prefix .ci" in done.stdout
