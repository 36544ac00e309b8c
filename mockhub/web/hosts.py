"""Which ``Host`` names the control API (``/__mockhub/``) answers: a guard against DNS rebinding.

A web page on another site can point a host name of its own at 127.0.0.1 and then read a
mock on localhost as if it were its own origin; the browser sends that name as ``Host``.
So the control API, which can read every tenant's token, answers only names that cannot be
rebound: ``localhost`` and ``*.localhost``, IP addresses, and the names allowed with
``--allowed-host`` (``*`` allows any). Health answers any name (probes use pod IPs and
service names), and the API routes are not checked: they are the mock a browser app calls.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from yarl import URL


class HostPolicy:
    """The host names the control API answers, and the browser origins it lets read its answers."""

    __slots__ = ("_allowed", "_any")

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        names = {name.strip().lower().rstrip(".") for name in allowed if name.strip()}
        self._any = "*" in names
        self._allowed = frozenset(names)

    def allows(self, host: str | None) -> bool:
        """Whether a ``Host`` header's value (with or without a port) may reach the control API."""
        if self._any:
            return True
        name = _name_of(host or "")
        if not name:
            return False
        return name == "localhost" or name.endswith(".localhost") or name in self._allowed or _is_address(name)

    def allows_origin(self, origin: str) -> bool:
        """Whether a browser ``Origin`` is on an allowed host (so its scripts may read the control API)."""
        try:
            host = URL(origin).raw_host
        except ValueError:
            return False
        return host is not None and self.allows(f"[{host}]" if ":" in host else host)


def _name_of(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
