"""mockhub: an in-memory mock server of Hubster Identity, the Hubster Portal API and Era integration_points."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "create_app", "Settings"]


def __getattr__(name: str) -> object:
    # Lazy, so `import mockhub` (and the pytest plugin's entry point) stays cheap.
    if name == "create_app":
        from mockhub.web.app import create_app

        return create_app
    if name == "Settings":
        from mockhub.settings import Settings

        return Settings
    raise AttributeError(name)
