"""Which ``Host`` names the control API (``/__mockhub/``) answers, and which pages may drive it.

A web page on another site can point a host name of its own at 127.0.0.1 and then read a
mock on localhost as if it were its own origin; the browser sends that name as ``Host``.
So the control API, which can read every tenant's token, answers only names that cannot be
rebound: ``localhost`` and ``*.localhost``, IP addresses, and the names allowed with
``--allowed-host`` (``*`` allows any). Health answers any name (probes use pod IPs and
service names), and the API routes are not checked: they are the mock a browser app calls.

A page is another matter: one served from someone's own address or name is a foreign site
however it is reached, so only pages on this machine (:func:`is_local_origin`) may drive the
control API, besides the origins listed with ``--cors-origin``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from yarl import URL


class HostPolicy:
    """The host names the control API answers."""

    __slots__ = ("_allowed", "_any")

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        names = {name.strip().lower().rstrip(".") for name in allowed if name.strip()}
        self._any = "*" in names
        self._allowed = frozenset(names)

    def allows(self, host: str | None) -> bool:
        """Whether a ``Host`` header's value (with or without a port) may reach the control API."""
        if self._any:
            return True
        name = host_name(host or "")
        if not name:
            return False
        return _is_loopback_name(name) or name in self._allowed or _address(name) is not None


def is_local_origin(origin: str) -> bool:
    """Whether a browser ``Origin`` is a page on this machine: ``localhost``, ``*.localhost``, 127.0.0.0/8
    or ``::1`` (an IP address of another machine is no more local than a name is)."""
    name = origin_name(origin)
    if not name:
        return False
    if _is_loopback_name(name):
        return True
    address = _address(name)
    if address is None:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def origin_name(origin: str) -> str:
    """The host name of a browser ``Origin`` (lower case; ``""`` when it has none)."""
    try:
        name = URL(origin).raw_host
    except ValueError:
        return ""
    return (name or "").lower().rstrip(".")


def host_name(host: str) -> str:
    """The name of a ``Host`` header's value, without its port or brackets (lower case)."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


def _is_loopback_name(name: str) -> bool:
    return name == "localhost" or name.endswith(".localhost")


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None
