"""Every option of a mockhub server, shared by the CLI, the pytest plugin and docker.

:class:`Settings` is the one place each default is written: the command line's defaults and help
and the Limits table of docs/limits-and-security.md are read from it (a test holds them equal), and the parts of a
server get their bounds from it (:meth:`~mockhub.services.sessions.SessionLimits.of`), with no defaults of their
own. It imports nothing of mockhub: every layer may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_TOKEN = "mockhub-dev-token"
"""The built-in dataset's tenant A token: what ``--token`` defaults to, so verifying the mock needs none."""
DEFAULT_CLIENT_ID = "hubster.portal.api.00000000000000000000000000000001"
DEFAULT_CLIENT_SECRET = "mockhub-dev-portal-secret"
"""The built-in dataset's tenant A Portal client: what ``verify --client-id`` and ``--client-secret`` default to."""
APIS = ("identity", "portal", "engine", "era")


@dataclass(frozen=True)
class Settings:
    """How one mockhub server behaves. Immutable: a server is built from one."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: int = 0
    fixtures: tuple[Path | Mapping[str, Any], ...] = ()
    """Fixture files (or fixture data) to load; empty means the built-in dataset (unless ``empty``)."""
    empty: bool = False
    """Start with no data at all (no tenants, so no Portal token is accepted)."""
    fake: str = ""
    """Bulk fake data added to the loaded fixtures: ``hubs=50,integrations=5,commands=4,points=200`` (decisions.md,
    Data)."""
    clock: str | None = None
    """ISO instant that pins the clock; ``None`` uses real time."""
    token_lifetime: int = 2_592_000
    """Seconds an access token from ``POST /connect/token`` is valid (its ``expires_in``; documented: 30 days)."""
    faults: tuple[Mapping[str, Any], ...] = ()
    """Fault rules in force from start-up (and after every reset); see decisions.md, Faults."""
    overrides: tuple[Mapping[str, Any], ...] = ()
    """Overrides in force from start-up (and after every reset), checked against the contract."""
    journal_size: int = 1000
    """How many requests each session's journal keeps (the oldest go first)."""
    journal_headers: int = 64
    """Headers a journal entry keeps; the rest are cut (and the entry says so)."""
    journal_header_bytes: int = 1024
    """Characters a journal entry keeps of each header name and value."""
    journal_body_bytes: int = 64 * 1024
    """Bytes a journal entry keeps of the request body."""
    journal_total_bytes: int = 64 * 1024 * 1024
    """Bytes every session's journal together may hold; past it the oldest entries of any session go first."""
    journal_page_bytes: int = 1024 * 1024
    """Bytes one read of a journal (``GET /__mockhub/requests``) renders at most; the rest is on the next page."""
    max_sessions: int = 100
    """Most sessions at once, the default one included (at least 2); the least recently used goes first."""
    session_idle_seconds: float = 3600.0
    """A named session unused this long is dropped."""
    session_busy_seconds: float = 60.0
    """A session used this recently is never evicted to make room; a new session is refused (503) instead."""
    max_fault_rules: int = 100
    """Most fault rules one session holds; more are refused (400)."""
    max_fault_bytes: int = 1024 * 1024
    """Bytes in memory (estimated) one session's fault rules may hold together; more are refused (400)."""
    max_override_bytes: int = 1024 * 1024
    """Bytes in memory (estimated) one session's overrides may hold together; more are refused (400)."""
    max_session_records: int = 10_000
    """Records a session holds of its own (created, or start-up ones it changed); more are refused (429)."""
    max_session_bytes: int = 4 * 1024 * 1024
    """Bytes in memory a session's own records take together (estimated); more are refused (429)."""
    max_json_depth: int = 64
    """Deepest nesting of arrays and objects a request body may have; deeper is refused (400)."""
    admin_token: str | None = None
    """When set, every /__mockhub/ call but health needs ``X-Mockhub-Admin-Token: <it>``."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body; larger is refused (413)."""
    max_pending_body_bytes: int = 32 * 1024 * 1024
    """Bytes the request bodies being received and handled hold together; a body past it is refused (503)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed by CORS; empty allows any origin (echoed back, credentials allowed)."""
    access_log: bool = False
    """Write one line per request to standard error, gathered into one write per event-loop turn
    (:class:`~mockhub.web.accesslog.AccessLog`: the logging module would cost several microseconds a line)."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names the control API answers besides localhost, ``*.localhost`` and IP addresses (``*``: any)."""
    head_timeout: float = 10.0
    """Seconds a connection has to send a whole request head (0: no limit)."""
    body_timeout: float = 30.0
    """Seconds a request body has to arrive whole once its head has come (0: no limit); time the server
    itself stops reading (a client ahead of its answers) is not counted."""
    keep_alive: float = 15.0
    """Seconds an idle keep-alive connection stays open."""
    max_connections: int = 1000
    """Open connections at most; past it the one that has waited longest on its client (silent, sending a body
    slowly, or not reading its answers) is closed to make room, or else a new one gets a 503 (or health) and is
    closed."""
    webhook_time_scale: float = 1.0
    """Each wait of the webhook retry schedule (0, 2, 4, 6, 8 and 10 minutes) is multiplied by it (0.001: ten
    minutes take 0.6 s), so a test sees every attempt in seconds."""
    webhook_allow_hosts: tuple[str, ...] = ()
    """Host names webhooks may be delivered to besides loopback (``localhost``, 127.0.0.0/8, ::1); any other URL
    is a refused attempt, never contacted."""
    webhook_queue: int = 100
    """Webhook deliveries one session has under way at once; past it a delivery is dropped (and recorded)."""
    webhook_queue_bytes: int = 1024 * 1024
    """Bytes of payload one session's deliveries under way hold together; past it as for ``webhook_queue``."""
    webhook_queue_total: int = 1000
    """Webhook deliveries the whole server has under way at once, every session's counted; past it as for
    ``webhook_queue``."""
    webhook_queue_total_bytes: int = 16 * 1024 * 1024
    """Bytes of payload the whole server's deliveries under way hold together; past it as for ``webhook_queue``."""
    webhook_records: int = 1000
    """Records (attempts, refusals, notices) each session's delivery log keeps; the oldest go first. They draw
    on ``journal_total_bytes`` with the journals."""
    shutdown_grace: float = 5.0
    """Seconds a stop waits for the requests received to be answered (a body still arriving, say)."""
    verify_answer_bytes: int = 8 * 1024 * 1024
    """Bytes ``mockhub verify`` reads of one answer at most; an answer that goes on past them fails its check."""
    webhook_timeout: float = 10.0
    """Seconds a webhook receiver has to answer one delivery, as the platform waits (documented: 10 s): the
    mock's own deliveries (``--webhook-timeout``) and ``mockhub verify-webhook --timeout``."""
    webhook_answer_bytes: int = 64 * 1024
    """Bytes ``mockhub verify-webhook`` reads of a receiver's answer at most; the rest is left unread."""
    dashboard_streams: int = 4
    """Dashboard event streams (``GET /__mockhub/ui/stream``) open at once; one more is refused (503)."""
    dashboard_queue_bytes: int = 8 * 1024 * 1024
    """Bytes of requests waiting to be sent to one dashboard that reads slowly; past it the oldest waiting are
    dropped, and the stream says how many."""
