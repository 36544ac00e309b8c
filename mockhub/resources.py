"""Where the packaged contract and built-in fixtures are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(kind: str, name: str) -> Path:
    # A wheel carries contracts/ and fixtures/ inside the package (pyproject force-include);
    # a source checkout or an editable install has them beside the package.
    for base in (_PACKAGE / "_data" / kind, _PACKAGE.parent / kind):
        candidate = base / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"mockhub's {kind}/{name} is missing from the installation")


def contract_path() -> Path:
    """The OpenAPI document of both APIs."""
    return _find("contracts", "openapi.json")


def admin_contract_path() -> Path:
    """The OpenAPI document of the /__mockhub/ control API."""
    return _find("contracts", "admin.json")


def fixture_schema_path() -> Path:
    """The JSON schema of the fixture format."""
    return _find("contracts", "fixtures.schema.json")


def default_fixtures_path() -> Path:
    """The built-in dataset."""
    return _find("fixtures", "default.json")
