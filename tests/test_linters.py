"""The contract passes the OpenAPI linters teams run on it: Spectral and Redocly, no error, no warning.

The rulesets are the committed ``.spectral.yaml`` (``spectral:oas``) and ``redocly.yaml``
(``recommended``, with each change and its reason). The linters are npm packages, pinned in
``.ci/package-lock.json`` and installed by ``.ci/run`` (``npm ci --prefix .ci``). Without Node.js
(no ``npx``) these tests skip and say why; CI installs Node.js's packages and always runs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".ci" / "node_modules" / ".bin"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
"""Redocly sends no usage data and checks for no update."""


def run_linter(name: str, *args: str) -> str:
    """Run a linter installed by ``npm ci --prefix .ci`` from the repository root; its standard output."""
    tool = BIN / name
    if not tool.exists():
        if shutil.which("npx") is None and not os.environ.get("CI"):
            pytest.skip(f"{name} not run: npx is missing (install Node.js 20.19+, then `npm ci --prefix .ci`)")
        pytest.fail(f"{name} is not installed: run `npm ci --prefix .ci` (as .ci/run does)")
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
