"""Webhook deliveries (Webhooks guide; decisions.md, Webhooks): each accepted activity's payloads POSTed, signed and
retried, on the server's event loop, and every attempt kept in the session's delivery log.

The store says what goes where (:class:`~mockhub.store.webhooks.Delivery`); an :class:`Outbox`, one per
session, sends it: the JSON body signed with the integration's private key
(:mod:`mockhub.kernel.signing`) and the documented headers, one attempt at once and then after 2, 4,
6, 8 and 10 minutes (:data:`SCHEDULE`, compressed by ``--webhook-time-scale``) while an attempt
gets no 2xx within ``--webhook-timeout``, then a "tenant notified" record. Only loopback and
the hosts ``--webhook-allow-host`` names are contacted: another URL is a refused attempt, kept
and never sent. A Direct integration without a webhookUrl takes activities by websocket, which
mockhub does not serve: the log says so. Each delivery is a task the session owns: a reset, the
session's end and the server's stop cancel it.

This module knows no HTTP library: the server gives :class:`Courier` the function that sends one
attempt (:data:`Post`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from mockhub.kernel import jsonio
from mockhub.kernel.clock import Clock, portal_time
from mockhub.kernel.jsonio import rendered_bytes
from mockhub.kernel.matching import RequestFacts
from mockhub.kernel.signing import PUBLIC_KEY_HEADER, SIGNATURE_HEADER, signature
from mockhub.services.delivery_faults import (
    BAD_SIGNATURE,
    DUPLICATE,
    FAIL,
    MISSING_HEADER,
    DeliveryFaultEngine,
    Misdelivery,
)
from mockhub.services.journal import ENTRY_OVERHEAD, HEADER_OVERHEAD, EntryLog, JournalBudget, JournalLimits
from mockhub.services.rulesets import RuleLimits
from mockhub.settings import Settings
from mockhub.store.webhooks import Delivery

SCHEDULE = (0, 120, 240, 360, 480, 600)
"""Seconds each attempt waits after the one before failed (Webhooks guide, Retry Policy: 0, 2, 4, 6, 8 and 10
minutes)."""
SOURCE_SYSTEM = "engine.hubster.io"
"""The ``x-source-system`` of every delivery."""
ANSWER_BYTES = 1024
"""Bytes of a receiver's answer a record keeps."""
ATTEMPT, REFUSED, WEBSOCKET, NOTIFIED, DROPPED = "attempt", "refused", "websocket", "tenant-notified", "dropped"
"""The kinds of record: an attempt sent; one refused (its host is not allowed); an activity for a websocket; the
notice after the last attempt failed; a delivery the full queue could not take."""
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class DeliveryLimits:
    """How a server's sessions deliver (a server's are its settings': :meth:`of`)."""

    time_scale: float
    """Each wait of :data:`SCHEDULE` is multiplied by it (0.001: ten minutes take 0.6 s)."""
    timeout: float
    """Seconds an attempt waits for an answer."""
    allowed_hosts: frozenset[str]
    """Host names (lower case) deliveries may go to besides loopback."""
    queue: int
    """Deliveries one session has under way at once; past it a delivery is dropped (and recorded)."""
    queue_bytes: int
    """Bytes of payload they hold together."""
    total: int
    """Deliveries the whole server has under way at once (every session's)."""
    total_bytes: int
    """Bytes of payload those hold together."""
    log: JournalLimits
    """How many records a session keeps (``size``), what a record keeps of a body and how much a read renders."""

    @classmethod
    def of(cls, settings: Settings, log: JournalLimits) -> DeliveryLimits:
        return cls(settings.webhook_time_scale, settings.webhook_timeout,
                   frozenset(host.lower() for host in settings.webhook_allow_hosts), settings.webhook_queue,
                   settings.webhook_queue_bytes, settings.webhook_queue_total, settings.webhook_queue_total_bytes,
                   replace(log, size=settings.webhook_records))


@dataclass(frozen=True)
class DeliveryAnswer:
    """A receiver's answer: its status and the first :data:`ANSWER_BYTES` of its body."""

    status: int
    body: bytes


class NoAnswer(Exception):
    """An attempt got no answer (no connection, a timeout...): the message says why."""


Post = Callable[[str, Mapping[str, str], bytes, float], Awaitable[DeliveryAnswer]]
"""Sends one attempt (URL, headers, body, timeout in seconds) and returns the answer, or raises :class:`NoAnswer`."""


def host_allowed(url: str, allowed: frozenset[str]) -> str | None:
    """Why ``url`` may not be contacted (``None``: it may): an http(s) URL to a loopback address, ``localhost``
    (or a name under it), or a host ``allowed`` names."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return "the URL cannot be read"
    if parts.scheme not in ("http", "https"):
        return f"the scheme {parts.scheme or '(none)'} is not http or https"
    if host in allowed or host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (f"the host {host or '(none)'} is neither loopback nor allowed by --webhook-allow-host; the mock "
            "contacts no other host")


@dataclass(slots=True, eq=False)
class DeliveryRecord:
    """One record of the delivery log: an attempt, a refusal, a websocket delivery, a notice or a drop."""

    seq: int
    delivery: str
    kind: str
    time: datetime
    delivered: Delivery
    attempt: int | None = None
    after_seconds: int = 0
    """The documented wait before this attempt (not compressed)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    status: int | None = None
    answer: bytes | None = None
    error: str | None = None
    duration_ms: float | None = None
    fault: str | None = None
    cut: tuple[str, ...] = ()
    size: int = 0

    def to_json(self) -> dict[str, Any]:
        delivered = self.delivered
        return {
            "seq": self.seq,
            "delivery": self.delivery,
            "kind": self.kind,
            "time": portal_time(self.time),
            "integrationId": delivered.integration_id,
            "hubId": delivered.hub_id,
            "conversationId": delivered.conversation_id,
            "payload": delivered.kind,
            "url": delivered.url,
            "attempt": self.attempt,
            "after_seconds": self.after_seconds,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace"),
            "status": self.status,
            "answer": None if self.answer is None else self.answer.decode("utf-8", "replace"),
            "error": self.error,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
            "fault": self.fault,
            "cut": list(self.cut),
        }


def _shown_bytes(data: bytes) -> int:
    """What bytes cost kept (their length) or rendered as JSON text, whichever is more."""
    return max(len(data), rendered_bytes(data.decode("utf-8", "replace"))) if data else 0


class DeliveryLog(EntryLog[DeliveryRecord]):
    """A session's delivery records, oldest first, bounded like its journal (and sharing the server's budget)."""

    __slots__ = ()

    def add(self, record: DeliveryRecord) -> DeliveryRecord:
        """Keep ``record`` (its body cut to the limit), numbered next."""
        limits = self._limits
        if len(record.body) > limits.body_bytes:
            record.body, record.cut = record.body[:limits.body_bytes], ("body",)
        record.seq = self.next_seq()
        text = "".join((*record.headers.keys(), *record.headers.values(), record.delivered.url or "",
                        record.error or ""))
        record.size = (ENTRY_OVERHEAD + _shown_bytes(record.body) + _shown_bytes(record.answer or b"")
                       + rendered_bytes(text) + HEADER_OVERHEAD * len(record.headers))
        if limits.size > 0:
            self.keep(record)
        return record


class Courier:
    """What every session of a server delivers with: the limits, and the server's sender (:data:`Post`), given
    once the server runs (none before: a delivery then records that nothing could be sent)."""

    def __init__(self, limits: DeliveryLimits, budget: JournalBudget, fault_limits: RuleLimits) -> None:
        self.limits = limits
        self.budget = budget
        self.fault_limits = fault_limits
        """How many delivery faults, and bytes of them, a session holds (as for its fault rules)."""
        self.post: Post | None = None
        self.under_way = 0
        """Deliveries under way in every session of the server."""
        self.pending_bytes = 0
        """Bytes of payload they hold."""

    def full(self, outbox: Outbox, size: int) -> str | None:
        """Why a delivery of ``size`` bytes cannot be taken into ``outbox`` now (its session's queue or the
        server's is full), or ``None``."""
        limits = self.limits
        if outbox.under_way >= limits.queue or outbox.pending_bytes + size > limits.queue_bytes:
            return (f"this session has {outbox.under_way} deliveries under way holding {outbox.pending_bytes} bytes, "
                    f"the most allowed (--webhook-queue {limits.queue}, --webhook-queue-bytes {limits.queue_bytes})")
        if self.under_way >= limits.total or self.pending_bytes + size > limits.total_bytes:
            return (f"the server has {self.under_way} deliveries under way holding {self.pending_bytes} bytes, the "
                    f"most allowed (--webhook-queue-total {limits.total}, --webhook-queue-total-bytes "
                    f"{limits.total_bytes})")
        return None

    def outbox(self, session: str) -> Outbox:
        """A new session's outbox, without delivery faults."""
        return Outbox(self, DeliveryLog(self.limits.log, self.budget, session),
                      DeliveryFaultEngine((), self.fault_limits))


@dataclass(eq=False)
class _Sending:
    """A delivery under way: its number, its signed body and headers, and the clock its records are timed by."""

    number: str
    delivery: Delivery
    headers: dict[str, str]
    body: bytes
    clock: Clock


class Outbox:
    """One session's deliveries: those under way (tasks of the server's loop) and the log of every attempt."""

    def __init__(self, courier: Courier, log: DeliveryLog, faults: DeliveryFaultEngine) -> None:
        self._courier = courier
        self.log = log
        self.faults = faults
        """The session's delivery faults."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.pending_bytes = 0
        """Bytes of payload the deliveries under way hold."""
        self._numbered = 0
        self.closed = False

    def send(self, deliveries: tuple[Delivery, ...], clock: Clock) -> list[dict[str, Any]]:
        """Start each delivery (or record it as a websocket one, or dropped); what became of each, in a line."""
        return [self._start(delivery, clock) for delivery in deliveries]

    def _start(self, delivery: Delivery, clock: Clock) -> dict[str, Any]:
        self._numbered += 1
        number = f"delivery-{self._numbered}"
        body = jsonio.dumps_kept(delivery.payload)  # kept until delivered, and in the log
        headers = {"Content-Type": "application/json", "x-source-system": SOURCE_SYSTEM,
                   "x-hub-id": delivery.hub_id, "x-integration-id": delivery.integration_id,
                   "x-conversation-id": delivery.conversation_id, PUBLIC_KEY_HEADER: delivery.public_key,
                   SIGNATURE_HEADER: signature(body, delivery.private_key)}
        sending = _Sending(number, delivery, headers, body, clock)
        summary = {"delivery": number, "integrationId": delivery.integration_id, "payload": delivery.kind,
                   "url": delivery.url}
        if self.closed:  # a request that began before its session's reset or end
            self._record(sending, DROPPED, error="the session was reset or has ended")
            return {**summary, "state": DROPPED}
        if delivery.url is None:
            self._record(sending, WEBSOCKET, error="a Direct integration without a webhookUrl takes activities by "
                                                  "websocket, which mockhub does not serve")
            return {**summary, "state": WEBSOCKET}
        limits = self._courier.limits
        refused = host_allowed(delivery.url, limits.allowed_hosts)
        if refused is not None:
            self._record(sending, REFUSED, attempt=1, error=refused)
            return {**summary, "state": REFUSED}
        full = self._courier.full(self, len(body))
        if full is not None:
            self._record(sending, DROPPED, error=full)
            return {**summary, "state": DROPPED}
        if self._courier.post is None:  # before the server runs, or once it stops: no task may outlive it
            self._record(sending, DROPPED, error="the server is not running")
            return {**summary, "state": DROPPED}
        task = asyncio.get_running_loop().create_task(self._deliver(sending), name=f"mockhub {number}")
        self._tasks.add(task)
        self.pending_bytes += len(body)
        courier = self._courier
        courier.under_way += 1
        courier.pending_bytes += len(body)
        task.add_done_callback(lambda done: self._finished(done, len(body)))
        return {**summary, "state": "sending"}

    def _finished(self, task: asyncio.Task[None], size: int) -> None:
        self._tasks.discard(task)
        self.pending_bytes -= size
        courier = self._courier
        courier.under_way -= 1
        courier.pending_bytes -= size

    @property
    def under_way(self) -> int:
        """How many deliveries are still being tried."""
        return len(self._tasks)

    async def _deliver(self, sending: _Sending) -> None:
        """Every attempt of one delivery, by the schedule, until one gets a 2xx; then the tenant notified."""
        limits = self._courier.limits
        last = ""
        for attempt, wait in enumerate(SCHEDULE, 1):
            if wait:
                await asyncio.sleep(wait * limits.time_scale)
            done, last = await self._attempt(sending, attempt, wait)
            if done:
                return
        self._record(sending, NOTIFIED, attempt=len(SCHEDULE), error=(
            f"all {len(SCHEDULE)} attempts failed, the last: {last}; the tenant account holder is notified"))

    async def _attempt(self, sending: _Sending, attempt: int, wait: int) -> tuple[bool, str]:
        """One attempt, as the session's delivery faults have it; whether it was answered 2xx, and what went wrong
        if not."""
        headers = sending.headers
        misdelivery = self._misdelivery(sending) if self.faults else None
        if misdelivery is None:
            return await self._send(sending, attempt, wait, headers, None)
        if misdelivery.delay_ms:
            await asyncio.sleep(misdelivery.delay_ms / 1000)
        if misdelivery.fault == BAD_SIGNATURE:
            headers = {**headers, SIGNATURE_HEADER: signature(b"not the body" + sending.body,
                                                              sending.delivery.private_key)}
        elif misdelivery.fault == MISSING_HEADER:
            headers = {name: value for name, value in headers.items() if name.lower() != misdelivery.header}
        done, why = await self._send(sending, attempt, wait, headers, misdelivery.label)
        if misdelivery.fault == DUPLICATE:
            await self._send(sending, attempt, wait, headers, misdelivery.label)
        if misdelivery.fault == FAIL:
            return False, "counted failed by a delivery fault"
        return done, why

    def _misdelivery(self, sending: _Sending) -> Misdelivery | None:
        parts = urllib.parse.urlsplit(sending.delivery.url or "")
        facts = RequestFacts("POST", parts.path or "/", parts.query, sending.headers, sending.body)
        return self.faults.decide(facts, sending.delivery.kind)

    async def _send(self, sending: _Sending, attempt: int, wait: int, headers: Mapping[str, str],
                    fault: str | None) -> tuple[bool, str]:
        """POST the delivery with ``headers`` once and record it; whether it was answered 2xx, and why not."""
        post = self._courier.post
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer: DeliveryAnswer | None = None
        error: str | None = None
        if post is None:
            error = "the server is not running"
        else:
            try:
                answer = await post(sending.delivery.url or "", headers, sending.body, self._courier.limits.timeout)
            except NoAnswer as exc:
                error = str(exc)
        duration = (loop.time() - started) * 1000
        self._record(sending, ATTEMPT, attempt=attempt, after_seconds=wait, headers=headers,
                     status=None if answer is None else answer.status, answer=None if answer is None else answer.body,
                     error=error, duration_ms=duration, fault=fault)
        if answer is not None and 200 <= answer.status < 300:
            return True, ""
        return False, error or f"answered {answer.status if answer is not None else 'nothing'}"

    def _record(self, sending: _Sending, kind: str, **fields: Any) -> None:
        with_request = kind in (ATTEMPT, REFUSED)
        fields.setdefault("headers", sending.headers if with_request else {})
        self.log.add(DeliveryRecord(0, sending.number, kind, sending.clock.now(), sending.delivery,
                            body=sending.body if with_request or kind == WEBSOCKET else b"", **fields))

    def close(self) -> list[asyncio.Task[None]]:
        """Cancel every delivery under way (a reset, the session's end, the server's stop); the tasks, to await."""
        self.closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks
