"""Every option of ``mockhub proxy``: one frozen dataclass, as ``serve`` has."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mockhub.proxy.violations import ViolationLimits
from mockhub.settings import DEFAULT_HOST, DEFAULT_PORT, Settings


@dataclass(frozen=True)
class ProxySettings:
    """How one proxy behaves. Immutable: a proxy is built from one."""

    target: str
    """The server every request is forwarded to: ``https://portal.example.com`` (no trailing slash)."""
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    record: Path | None = None
    """Where the hubs, integrations and points seen in answers are written, as fixture data."""
    junit: Path | None = None
    """Where the JUnit XML of the operations seen is written at shutdown."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection to the target before answering 504."""
    read_timeout: float = 30.0
    """Seconds to wait for the target's next bytes before answering 504 (or cutting a started answer)."""
    seed: int = 0
    """Seed of the random source behind the tokens and secrets that replace real ones in ``record``."""
    journal_size: int = Settings.journal_size
    """How many requests the journal keeps (the oldest go first); as many as a server's session keeps."""
    max_violations: int = ViolationLimits.count
    """How many violations ``GET /__mockhub/violations`` keeps (the oldest go first); JUnit counts them all."""
    violation_problems: int = ViolationLimits.problems
    """Problems each violation keeps; the rest are counted (``more_problems``)."""
    violations_total_bytes: int = ViolationLimits.total_bytes
    """Bytes the kept violations hold together (in memory or rendered, whichever is more); the oldest go first."""
    max_body_bytes: int = 16 * 1024 * 1024
    """Largest request body forwarded (it is read whole, to be checked); a larger one is 413."""
    max_pending_body_bytes: int = 64 * 1024 * 1024
    """Bytes the request bodies being forwarded hold together; a body past it is 503 with Retry-After."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed on the control API besides pages on this machine (forwarded answers keep the
    target's CORS headers)."""
    allowed_hosts: tuple[str, ...] = ()
    """``Host`` names the control API answers besides localhost, ``*.localhost`` and IP addresses, as on ``serve``."""
    admin_token: str | None = None
    """When set, every /__mockhub/ call but health needs ``X-Mockhub-Admin-Token: <it>``, as on ``serve``."""
    dashboard_streams: int = Settings.dashboard_streams
    """Dashboard event streams open at once, as on ``serve``."""
    dashboard_queue_bytes: int = Settings.dashboard_queue_bytes
    """Bytes of exchanges waiting for one slow dashboard before the oldest are dropped, as on ``serve``."""
    access_log: bool = False
