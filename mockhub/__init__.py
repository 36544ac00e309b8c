"""mockhub: an in-memory mock server of Hubster Identity, the Hubster Portal API and Era integration_points.

What a user names is importable from here: ``from mockhub import ValidationFailed`` (what the
pytest fixture raises for a fault rule or override that is not valid), ``FixtureError`` (bad
fixture data), ``MockhubServerError`` (the server failed while a test ran), ``Settings`` and
``create_app``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers see; at run time each loads on first use
    from mockhub.dataset.fixtures import FixtureError
    from mockhub.kernel.errors import ValidationFailed
    from mockhub.settings import Settings
    from mockhub.testing import MockhubServerError
    from mockhub.web.app import create_app

_PUBLIC = {
    "create_app": "mockhub.web.app",
    "Settings": "mockhub.settings",
    "ValidationFailed": "mockhub.kernel.errors",
    "FixtureError": "mockhub.dataset.fixtures",
    "MockhubServerError": "mockhub.testing",
}
"""Each public name and the module that defines it."""

__all__ = ["__version__", "create_app", "Settings", "ValidationFailed", "FixtureError", "MockhubServerError"]


def __getattr__(name: str) -> object:
    # Lazy, so `import mockhub` (and the pytest plugin's entry point) stays cheap.
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mockhub' has no attribute {name!r}")
    return getattr(import_module(module), name)
