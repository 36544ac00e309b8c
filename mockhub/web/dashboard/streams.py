"""The dashboards' event streams: each request journaled is pushed to every open dashboard, as server-sent events.

A :class:`Streams` listens on the server's journal feed only while a stream is open, so a server
with no dashboard open pays one check per request for it. Everything a client can make it hold
is bounded:

- streams open at once (``limits.streams``): one more is refused with 503;
- each stream's queue (``limits.queue_bytes``, each request counted as its journal entry and the answer's body
  kept): past it the oldest waiting requests are dropped and the stream says how many (``event: dropped``);
- each answer's body, kept to its first ``limits.body_bytes``;
- a client that takes in nothing for :data:`STALLED_SECONDS` while events wait loses its stream (its slot is free
  again; the page reconnects when it reads again).

A stop ends every stream at once (:meth:`Streams.end_all`, the app's ``on_shutdown``): what waits is sent with
``event: bye`` and the answer ends, so the connection closes without making the stop wait its grace; a stream
whose client is not reading is cut.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from mockhub import __version__
from mockhub.kernel.errors import ApiError
from mockhub.kernel.jsonio import dumps
from mockhub.services.journal import Entry, JournalFeed
from mockhub.web.wire import WireTransport

HEARTBEAT_SECONDS = 10.0
"""Seconds between two comment lines on an idle stream: proxies keep it open, and a client that left is noticed."""
STALLED_SECONDS = 30.0
"""Seconds a write may wait on a client that does not read before its stream is closed."""
ENDING_SECONDS = 1.0
"""Seconds the last write of a stopping server may take."""
WRITE_BYTES = 256 * 1024
"""Bytes of events rendered and written at once (the loop serves requests between two writes)."""
SEEN_OVERHEAD = 400
"""Bytes a request waiting for a dashboard costs besides its entry's and its answer body's: objects, headers."""
KEEP_ALIVE = b": alive\n\n"
EVENT_STREAM_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                        "X-Content-Type-Options": "nosniff"}

log = logging.getLogger("mockhub")


@dataclass(frozen=True)
class StreamLimits:
    """What the dashboards' streams of one server may hold (a server's settings give them)."""

    streams: int
    """Streams open at once; one more is refused (503)."""
    queue_bytes: int
    """Bytes of requests waiting for one stream; past it the oldest waiting are dropped."""
    body_bytes: int
    """Bytes kept of each answer's body."""


@dataclass(frozen=True, slots=True)
class ShownAnswer:
    """What a request was answered, as a dashboard is shown it."""

    status: int
    headers: CIMultiDict[str]
    """The response's own headers, read when the event is written (by then they are the headers as sent)."""
    body: bytes
    """The body's first bytes (``body_cut`` says whether that is all of it)."""
    body_cut: bool

    def to_json(self) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():  # a field given twice (Vary) is shown once, its values joined
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return {"status": self.status, "headers": headers, "body": self.body.decode("utf-8", "replace"),
                "body_cut": self.body_cut}

    @classmethod
    def of(cls, response: web.StreamResponse, body: bytes, body_bytes: int) -> ShownAnswer:
        return cls(response.status, response.headers, body[:body_bytes], len(body) > body_bytes)


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the dashboards are sent it: the journal's entry, its answer, and on the proxy its violations."""

    entry: Entry
    answer: ShownAnswer | None
    """``None`` when nothing was answered (the connection was reset by a fault, or the client left)."""
    violations: tuple[Mapping[str, Any], ...] | None = None
    """The proxy's findings on the exchange (``None`` on ``serve``, which checks nothing as it answers)."""
    cost: int = 0
    """Bytes it holds while it waits for a dashboard."""

    @classmethod
    def of(cls, entry: Entry, answer: ShownAnswer | None, violations: tuple[Mapping[str, Any], ...] | None = None,
           extra_bytes: int = 0) -> Seen:
        cost = SEEN_OVERHEAD + entry.size + extra_bytes + (len(answer.body) if answer is not None else 0)
        return cls(entry, answer, violations, cost)

    def event(self) -> bytes:
        data = self.entry.to_json()
        data["answer"] = self.answer.to_json() if self.answer is not None else None
        if self.violations is not None:
            data["violations"] = list(self.violations)
        return event("request", data)


Snapshot = Callable[[Entry, Any, int], Seen]
"""What a server's dashboards are sent of a journaled request: from the entry, the answer as the server passed it
to the journal, and the bytes of a body to keep."""


def seen_on_serve(entry: Entry, response: Any, body_bytes: int) -> Seen:
    """A request of ``mockhub serve``: ``response`` is the aiohttp response (``None``: the connection is gone)."""
    if not isinstance(response, web.StreamResponse):
        return Seen.of(entry, None)
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
    return Seen.of(entry, ShownAnswer.of(response, body, body_bytes))


def event(name: str, data: Any) -> bytes:
    """One server-sent event (compact JSON has no line break, so ``data`` is one line)."""
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


class TooManyDashboards(ApiError):
    """503: every dashboard stream the server allows is open."""

    status, code = 503, 104

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} dashboards are open already (--dashboard-streams); close one, or allow more.")
        self.headers = {"Retry-After": "5"}


class Stream:
    """One open dashboard: the requests waiting for it, and the loop that writes them."""

    __slots__ = ("_request", "_max_bytes", "_queue", "_bytes", "_dropped", "_wake", "_ending", "_writing")

    def __init__(self, request: web.BaseRequest, max_bytes: int) -> None:
        self._request = request
        self._max_bytes = max_bytes
        self._queue: deque[Seen] = deque()
        self._bytes = 0
        self._dropped = 0
        self._wake = asyncio.Event()
        self._ending = False
        self._writing = False

    def offer(self, seen: Seen) -> None:
        """Queue a request; past the queue's bytes the oldest waiting go (and are counted)."""
        queue = self._queue
        queue.append(seen)
        self._bytes += seen.cost
        while self._bytes > self._max_bytes and queue:
            self._bytes -= queue.popleft().cost
            self._dropped += 1
        self._wake.set()

    @property
    def gone(self) -> bool:
        """Whether its client has left: its connection is closed, or the client has sent its end (a page that
        leaves closes the connection, which the server sees as that end until it writes again)."""
        transport = self._request.transport
        if transport is None or transport.is_closing():
            return True
        return isinstance(transport, WireTransport) and transport.wire.client_done

    def end(self) -> None:
        """The server stops: send what waits and ``bye``, then end; a client not reading is cut at once."""
        self._ending = True
        self._wake.set()
        if self._writing:  # a write waits for room in the socket: its client is not reading
            self._hang_up()

    def _hang_up(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def run(self, hello: Mapping[str, Any]) -> web.StreamResponse:
        """Write events until the client leaves or the server stops; returns the (ended) response."""
        response = web.StreamResponse(headers=EVENT_STREAM_HEADERS)
        await response.prepare(self._request)
        try:
            await self._write(response, event("hello", hello))
            while not self._ending:
                self._wake.clear()
                if self._queue or self._dropped:
                    await self._write(response, self._take())
                    continue
                try:
                    await asyncio.wait_for(self._wake.wait(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    if self.gone:
                        return response
                    await self._write(response, KEEP_ALIVE)
            await self._write(response, self._take() + event("bye", {"reason": "the server is stopping"}))
        except (ConnectionError, TimeoutError):  # the client left, or reads nothing
            self._hang_up()
        return response

    def _take(self) -> bytes:
        """The waiting requests' events, about :data:`WRITE_BYTES` at most (after a ``dropped`` event if any
        were); when the server stops, all of them."""
        parts: list[bytes] = []
        if self._dropped:
            parts.append(event("dropped", {"dropped": self._dropped}))
            self._dropped = 0
        size = 0
        queue = self._queue
        while queue and (size < WRITE_BYTES or self._ending):
            seen = queue.popleft()
            self._bytes -= seen.cost
            part = seen.event()
            size += len(part)
            parts.append(part)
        return b"".join(parts)

    async def _write(self, response: web.StreamResponse, data: bytes) -> None:
        self._writing = True
        try:
            await asyncio.wait_for(response.write(data), ENDING_SECONDS if self._ending else STALLED_SECONDS)
        finally:
            self._writing = False


class Streams:
    """The open dashboards of one server, fed by its journals."""

    def __init__(self, feed: JournalFeed, limits: StreamLimits, server: str,
                 snapshot: Snapshot = seen_on_serve) -> None:
        """``server`` is ``serve`` or ``proxy`` (the page shows what each has); ``snapshot`` makes what a
        dashboard is sent of a journaled request and its answer."""
        self._feed = feed
        self._limits = limits
        self._server = server
        self._snapshot = snapshot
        self._open: dict[Stream, None] = {}

    def __len__(self) -> int:
        return len(self._open)

    async def serve(self, request: web.BaseRequest) -> web.StreamResponse:
        """One dashboard's stream, until it leaves or the server stops (503 past the limit)."""
        for stream in [stream for stream in self._open if stream.gone]:  # left, not noticed yet
            del self._open[stream]
            stream.end()
        limits = self._limits
        if len(self._open) >= limits.streams:
            raise TooManyDashboards(limits.streams)
        stream = Stream(request, limits.queue_bytes)
        if not self._open:
            self._feed.listen(self._offer)
        self._open[stream] = None
        hello = {"server": self._server, "version": __version__, "dashboards": len(self._open),
                 "max_dashboards": limits.streams, "queue_bytes": limits.queue_bytes, "body_bytes": limits.body_bytes}
        try:
            return await stream.run(hello)
        finally:
            self._open.pop(stream, None)
            if not self._open:
                self._feed.stop_listening(self._offer)

    def _offer(self, entry: Entry, answer: Any) -> None:
        """The journal's listener: one snapshot of the request, queued for every open stream. It never raises
        (it runs on the request's path)."""
        try:
            seen = self._snapshot(entry, answer, self._limits.body_bytes)
        except Exception:  # a bug here must not cost the request its answer
            log.exception("mockhub: the dashboard could not be sent %s %s", entry.method, entry.path)
            return
        for stream in self._open:
            stream.offer(seen)

    async def end_all(self, app: web.Application | None = None) -> None:
        """End every stream (the app's ``on_shutdown``: a stop does not wait for a dashboard)."""
        for stream in list(self._open):
            stream.end()
