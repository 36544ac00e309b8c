"""The protocol in front of aiohttp: each connection's bytes framed, one request handed over at a time.

aiohttp's C parser knows a fixed table of methods and refuses any other (LOOKUP) before an
app sees it. mockhub does not change aiohttp: a :class:`Wire` is the asyncio protocol the
socket talks to, and aiohttp's own connection handler (what :class:`aiohttp.web.Server`
makes) sits behind it, given bytes through its public ``data_received`` and writing through
a :class:`WireTransport`. The wire

- frames every request itself (:mod:`mockhub.web.framing`): a head checked strictly, a body
  counted off by ``Content-Length`` or chunks, so the next request starts exactly after it
  however TCP cut the bytes; what could be read two ways is refused in the API's format;
- hands a custom method to aiohttp as ``POST`` and keeps the method sent (:attr:`Wire.custom_method`,
  the app reads it in :func:`mockhub.web.protocol.as_sent`): one request at a time is in aiohttp's hands;
- hands over one request at a time and holds the rest until its answer is written whole, so
  it always knows which request is owed an answer and which ones are merely received: a stop
  or a half-closed connection answers every request received, the last with
  ``Connection: close``;
- times what the client owes, never what the server does: a request head must come whole
  within ``head_timeout`` of its first byte (or of the connection's start) while nothing is
  being answered, and a body within ``body_timeout`` while it is being read;
- keeps to ``max_connections`` with :class:`Connections`: past it, the connection that has
  waited longest on its client (silent, trickling a body, or not reading its answers) makes
  room; with none, the newcomer is answered once and closed (health as usual, else ``503``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from mockhub.contract.dialects import HEALTH_PATH
from mockhub.web.framing import MAX_HEAD_BYTES, AnswerFramer, BadRequest, BodyFramer, Head, read_head

log = logging.getLogger("mockhub")

SPARE_CONNECTIONS = 16
"""Connections past the limit that still get their request read (so health is answered)."""
ADMISSION_DELAY = 0.05
"""Seconds a connection past the limit waits before one is closed to make room: requests already
sent on the open ones are read meanwhile, so a connection is never taken for silent while its
request waits in the socket."""
MAX_QUEUED_REQUESTS = 32
"""Requests received and held behind the one being answered before reading pauses (as aiohttp's queue)."""
MAX_QUEUED_BYTES = 1 << 20
"""Bytes of requests held behind the one being answered before reading pauses."""
HEALTH_REQUEST_LINE = f"GET {HEALTH_PATH} ".encode()
STALL_SECONDS = 1.0
"""Seconds without a byte after which a connection owing the rest of a head or a body counts as stalled."""


@dataclass(frozen=True)
class WireLimits:
    """The time a client may take, and how many connections it may hold."""

    head_timeout: float
    """Seconds a connection has to send a whole request head (0: no limit)."""
    body_timeout: float
    """Seconds a request body has to arrive whole while it is read (0: no limit)."""
    max_connections: int
    """Open connections at most."""


class _Request:
    """A request received on a connection: handed to the server, or held until the one before it is answered."""

    __slots__ = ("head", "parts", "complete", "handed", "answered", "refusal")

    def __init__(self, head: Head | None, complete: bool, refusal: bytes = b"") -> None:
        self.head = head
        """``None`` for a request refused while framing (``refusal`` is its answer)."""
        self.parts: list[bytes] = []
        """Its body's bytes not handed over yet."""
        self.complete = complete
        self.handed = False
        self.answered = False
        self.refusal = refusal


class WireTransport(asyncio.Transport):
    """The transport aiohttp's handler writes to: the socket's, with each answer's end noticed."""

    __slots__ = ("wire", "_transport")

    def __init__(self, wire: Wire, transport: asyncio.Transport) -> None:
        super().__init__()
        self.wire = wire
        self._transport = transport

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._transport.write(data)
        if self.wire.answers.waiting:
            self.wire.wrote(data if type(data) is bytes else bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        chunks = [chunk if type(chunk) is bytes else bytes(chunk) for chunk in list_of_data]
        self._transport.writelines(chunks)
        if self.wire.answers.waiting:
            self.wire.wrote(b"".join(chunks))

    def pause_reading(self) -> None:
        self.wire.pause_for_server(True)

    def resume_reading(self) -> None:
        self.wire.pause_for_server(False)

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def close(self) -> None:
        self._transport.close()

    def abort(self) -> None:
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        raise NotImplementedError("a mockhub connection keeps its protocol")

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.wire


class Wire(asyncio.Protocol):
    """One connection: frames its requests and hands them, one at a time, to aiohttp's handler behind it."""

    def __init__(self, handler_factory: Callable[[], asyncio.Protocol], connections: Connections) -> None:
        self._factory = handler_factory
        self._connections = connections
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._handler: Any = None
        self.answers = AnswerFramer()
        self._requests: deque[_Request] = deque()
        self._partial = b""
        self._body: BodyFramer | None = None
        self._held_bytes = 0
        self._no_more = False     # a request said Connection: close, was refused, or the client half-closed
        self._draining = False    # a stop: answer what was received, read nothing more
        self.client_done = False
        """The client has sent all it will (a half-close; a client that closed is seen so until a write fails)."""
        self._paused_by_server = False
        self._paused_here = False
        self._writing_paused = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._fresh = True
        self._over_limit = False
        self._admitted = True
        self.last_active = 0.0
        self.custom_method: str | None = None
        """The method its client sent the request in aiohttp's hands with, when it is a custom verb (handed
        over as ``POST``); requests are handed over one at a time, so this is the one aiohttp is handling."""

    # The socket's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport = cast(asyncio.Transport, transport)  # uvloop's is one, not a subclass
        self.last_active = self._loop.time()
        self._handler = self._factory()
        self._handler.connection_made(WireTransport(self, transport))
        self._connections.opened(self)
        self._time_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._stop_timers()
        self._requests.clear()
        self._connections.closed(self)
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._writing_paused = True
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._handler.resume_writing()

    def eof_received(self) -> bool:
        """The client sent all it will: answer what came whole, then close (an unfinished request is dropped)."""
        self._no_more = True
        self.client_done = True
        self._partial = b""
        if self._body is not None and self._drop_unfinished():  # the server waits for a body that will not come
            return False
        self._stop_timers()
        return self._finish_or_close()

    def data_received(self, data: bytes) -> None:
        self.last_active = self._loop.time()
        if (self._no_more or self._draining) and self._body is None:
            return  # after a request that closes the connection, or in a stop, only a body under way is read
        if self._partial:
            data, self._partial = self._partial + data, b""
        elif not self._requests and self._body is None and self._admitted:
            # The usual read: one whole request without a body, on a connection with nothing in hand.
            end = data.find(b"\r\n\r\n")
            # (empty lines before a request, and a head longer than the limit: _frame, as for any other read)
            if 0 < end <= MAX_HEAD_BYTES and end + 4 == len(data) and data[0] != 13:
                try:
                    head = read_head(data, end)
                except BadRequest as refused:
                    self._refuse(refused)
                    return
                if not head.body:
                    self._took(head)
                    return
            elif 0 < end <= MAX_HEAD_BYTES and data[0] != 13 and self._took_with_body(data, end):
                return
        try:
            self._frame(data)
        except BadRequest as refused:
            self._refuse(refused)
        self._after_reading()

    # Framing

    def _frame(self, data: bytes) -> None:
        pos, end = 0, len(data)
        requests = self._requests
        while pos < end:
            body = self._body
            if body is not None:
                taken = body.take(data, pos)
                if body.out is not None:  # chunked: handed over rewritten, without extensions or trailers
                    part, body.out[:] = b"".join(body.out), ()
                else:
                    part = data if taken == end else data[pos:pos + taken]
                pos += taken
                request = requests[-1]
                if not part:
                    pass
                elif request.handed:
                    self._handler.data_received(part)
                else:
                    request.parts.append(part)
                    self._held_bytes += len(part)
                if body.done:
                    self._body = None
                    self._stop_body_timer()
                    request.complete = True
                    if request.answered:
                        self._next_soon()
                continue
            if self._no_more or self._draining:
                return
            while data.startswith(b"\r\n", pos):  # empty lines between requests
                pos += 2
            found = data.find(b"\r\n\r\n", pos)
            if (found if found >= 0 else end) - pos > MAX_HEAD_BYTES:
                raise BadRequest("The request line or a header field is too long.", target=data[pos:pos + 2048])
            if found < 0:
                self._partial = data[pos:] if pos else data
                return
            head = read_head(data if pos == 0 and found + 4 == end else data[pos:found + 4], found - pos)
            pos = found + 4
            self._took(head)

    def _took_with_body(self, data: bytes, end: int) -> bool:
        """The other usual read: one request whose whole ``Content-Length`` body came with its head, and nothing
        after it. Handed over as :meth:`_frame` would, without its loop, and in one call (aiohttp parses the body
        along with the head, as from a socket); whether ``data`` was that (else nothing was done)."""
        try:
            head = read_head(data, end)
        except BadRequest:
            return False  # _frame refuses it, as it refuses every head
        if not 0 < head.body == len(data) - end - 4:
            return False
        self._took(head, data[end + 4:])
        return True

    def _took(self, head: Head, body: bytes = b"") -> None:
        """A whole request head came (and ``body``, the whole of its ``Content-Length`` body, when it came
        along): hand it over, or hold it behind those not answered yet."""
        self._fresh = False
        if self._head_timer is not None:
            self._stop_head_timer()
        if head.close or self._over_limit:
            self._no_more = True
        request = _Request(head, head.body == len(body))
        requests = self._requests
        requests.append(request)
        if body:
            request.parts.append(body)
            self._held_bytes += len(body)
        elif head.body:
            self._body = BodyFramer(head.body, canonical=True)
        self._held_bytes += len(head.data)  # until it is handed over
        if len(requests) == 1 and self._admitted:
            self._hand_over(request)

    def _refuse(self, refused: BadRequest) -> None:
        """Answer ``refused`` once every request before it is answered, then close. A body found broken
        belongs to a request that can never be whole: it is dropped, or, handed over already, the refusal
        is its answer now."""
        log.info("unreadable request from %s: %s", self._peer(), refused.reason)
        self._no_more = True
        self._partial = b""
        requests = self._requests
        if not refused.target and self._body is not None and requests[-1].head is not None:
            refused.target = requests[-1].head.target  # a body found broken: its request's API answers
        refusal = self._connections.render(refused)
        if self._body is not None and self._drop_unfinished():
            self._answer_and_close(refusal)
            return
        requests.append(_Request(None, True, refusal))
        if len(requests) == 1:
            self._next()

    def _drop_unfinished(self) -> bool:
        """Forget the last request, whose body will never be whole; whether it had been handed over."""
        self._body = None
        self._stop_body_timer()
        unfinished = self._requests.pop()
        if not unfinished.handed and unfinished.head is not None:
            self._held_bytes -= len(unfinished.head.data)
        self._held_bytes -= sum(map(len, unfinished.parts))
        return unfinished.handed

    def _hand_over(self, request: _Request) -> None:
        head = request.head
        assert head is not None
        request.handed = True
        self._held_bytes -= len(head.data)
        last = self._over_limit or ((self._no_more or self._draining) and request is self._requests[-1])
        if self._over_limit and not head.data.startswith(HEALTH_REQUEST_LINE):
            self._answer_and_close(self._connections.render(too_many_connections(head.target)))
            return
        self.answers.expect(head.method)
        self.custom_method = head.method if head.custom else None
        handed = head.closing() if last else head.data
        if request.parts:
            parts, request.parts = request.parts, []
            self._held_bytes -= sum(map(len, parts))
            if request.complete:  # the whole request in one call, as a socket would give it
                self._handler.data_received(b"".join([handed, *parts]))
            else:
                self._handler.data_received(handed)
                for part in parts:
                    self._handler.data_received(part)
        else:
            self._handler.data_received(handed)
        if not request.complete and head.body:
            self._time_body()

    # Answers

    def wrote(self, data: bytes) -> None:
        """aiohttp wrote ``data``: if the answer owed ended there, the next request may be handed over."""
        if not self.answers.written(data):
            return
        self.last_active = self._loop.time()
        requests = self._requests
        if not requests:
            return
        request = requests[0]
        request.answered = True
        if not request.complete:
            return
        if len(requests) == 1 and not (self._no_more or self._draining or self._paused_here):
            requests.popleft()  # nothing held behind it (the usual case): no loop turn needed
            if self._partial:
                self._time_head()  # the client owes the rest of the head that has begun
            return
        self._next_soon()

    def _next_soon(self) -> None:
        self._loop.call_soon(self._next)  # not from inside aiohttp's write

    def _next(self) -> None:
        requests = self._requests
        if requests and requests[0].answered and requests[0].complete:
            requests.popleft()
        if self._transport is None:
            return
        if requests:
            request = requests[0]
            if request.handed:
                return
            if request.head is None:
                self._answer_and_close(request.refusal)
                return
            self._hand_over(request)
        elif not self._finish_or_close():
            self._transport.close()
            return
        self._after_reading()

    def _answer_and_close(self, answer: bytes) -> None:
        """Send ``answer`` (a refusal the wire wrote itself), then close."""
        if self._transport is not None:
            self._transport.write(answer)
            self._transport.close()

    def _finish_or_close(self) -> bool:
        """With nothing left to answer: whether the connection stays open (else the caller closes it)."""
        if self._requests:
            return True  # the last one's head says Connection: close when handed over
        return not (self._no_more or self._draining)

    @property
    def last_answer(self) -> bool:
        """The answer being made is the connection's last (a stop or a half-close): it says ``Connection: close``."""
        return (self._no_more or self._draining) and len(self._requests) <= 1

    # Reading, and what the client owes

    def pause_for_server(self, paused: bool) -> None:
        if paused == self._paused_by_server:
            return  # (aiohttp resumes reading that it never paused each time a body ends and is read)
        self._paused_by_server = paused
        self._after_reading()

    def _after_reading(self) -> None:
        transport = self._transport
        if transport is None:
            return
        pause = self._paused_by_server or (len(self._requests) > MAX_QUEUED_REQUESTS
                                           or self._held_bytes > MAX_QUEUED_BYTES)
        if pause != self._paused_here:
            self._paused_here = pause
            if pause:
                transport.pause_reading()
                self._stop_body_timer()
            else:
                transport.resume_reading()
                if self._body is not None:
                    self._time_body()
        self._time_head()

    def _time_head(self) -> None:
        """The head timer runs while the client owes a request head: nothing is being answered or held."""
        timeout = self._connections.limits.head_timeout
        owed = not self._requests and (self._partial or self._fresh) and not self._no_more
        if owed and timeout > 0 and self._head_timer is None:
            self._head_timer = self._loop.call_later(timeout, self._head_timed_out)
        elif not owed and self._head_timer is not None:
            self._stop_head_timer()

    def _time_body(self) -> None:
        timeout = self._connections.limits.body_timeout
        if timeout > 0 and self._body_timer is None:
            self._body_timer = self._loop.call_later(timeout, self._body_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self.hang_up(f"no whole request head within {self._connections.limits.head_timeout:g} s")

    def _body_timed_out(self) -> None:
        self._body_timer = None
        self.hang_up(f"a request body did not come whole within {self._connections.limits.body_timeout:g} s")

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _stop_timers(self) -> None:
        self._stop_head_timer()
        self._stop_body_timer()

    def _peer(self) -> Any:
        return self._transport.get_extra_info("peername") if self._transport is not None else None

    # What the connection manager asks

    def stalled(self, now: float) -> bool:
        """Whether the connection may be closed to make room: it has never sent a whole request head, or it
        has kept the server waiting for a head or a body (``STALL_SECONDS`` without a byte), or its client does
        not read its answers. An idle connection that has been served is not stalled: it is a client's pool."""
        if self._draining or self._transport is None:
            return False
        if self._fresh or self._writing_paused:
            return True
        return (self._body is not None or bool(self._partial)) and now - self.last_active >= STALL_SECONDS

    def hang_up(self, why: str) -> None:
        """Close the connection, saying ``why`` in the log."""
        if self._transport is not None:
            log.info("closed a connection from %s: %s", self._peer(), why)
            self._transport.close()

    @property
    def admitted(self) -> bool:
        """Whether the connection's requests are answered (not waiting for room under the connection limit)."""
        return self._admitted

    @property
    def unheard(self) -> bool:
        """Nothing has come from the client yet: closing the connection loses nothing of its."""
        return self._fresh and not self._partial and not self._requests

    def await_admission(self) -> None:
        """Past the connection limit: requests are read but not answered until :meth:`admit` or :meth:`over_limit`."""
        self._admitted = False

    def admit(self) -> None:
        """Room was made: answer the requests that came meanwhile."""
        self._admitted = True
        if self._requests and self._transport is not None:
            self._next()

    def over_limit(self, read: bool) -> None:
        """Past the connection limit: answer one request (health, else 503) and close; with ``read`` false, at once."""
        self._over_limit = True
        if not read:
            self._answer_and_close(self._connections.render(too_many_connections(b"/")))
            return
        self._admitted = True
        self._no_more = bool(self._requests)  # a request already read is the one answered
        if self._requests:
            self._next()

    def drain(self) -> None:
        """A stop: read nothing more; answer the requests received (the last with Connection: close), then close."""
        self._draining = True
        self._partial = b""
        self._stop_head_timer()
        if self._body is not None and not self._requests[-1].handed:
            self._drop_unfinished()
        if self._transport is not None and not self._finish_or_close():
            self._transport.close()

    @property
    def closed(self) -> bool:
        return self._transport is None


def too_many_connections(target: bytes) -> BadRequest:
    """The 503 of a connection past the limit (``target``: the request's, for the API's format)."""
    return BadRequest("The server has too many open connections; try again shortly.", 503, target)


class Connections:
    """The open connections of a server: the limit on their number, and a stop that drains them."""

    def __init__(self, limits: WireLimits, allowed: int, render: Callable[[BadRequest], bytes]) -> None:
        self.limits = limits
        self.allowed = allowed
        """``max_connections``, lowered to fit the process's open-file limit."""
        self.render = render
        """The bytes of a whole answer (closing the connection) to a request refused before the app."""
        self.live: dict[Wire, None] = {}
        self._evicted: set[Wire] = set()
        """Connections closed to make room whose close has not completed yet."""
        self._emptied: asyncio.Event | None = None

    def opened(self, wire: Wire) -> None:
        """A new connection: past the limit it waits for room (:meth:`_admit`); past the spare places too, the
        oldest connection waiting that has sent nothing gives its place, or else the new one is refused at once."""
        live = self.live
        live[wire] = None
        over = len(live) - len(self._evicted) - self.allowed
        if over <= 0:
            return
        if over > SPARE_CONNECTIONS:
            waiting = [other for other in live if other is not wire and other not in self._evicted
                       and other.unheard and not other.admitted]
            if not waiting:
                wire.over_limit(read=False)
                return
            self._evict(waiting[0])  # the oldest: dicts keep the order connections came in
        wire.await_admission()
        asyncio.get_running_loop().call_later(ADMISSION_DELAY, self._admit, wire)

    def _evict(self, wire: Wire) -> None:
        self._evicted.add(wire)
        wire.hang_up("closed to make room for a new connection")

    def _admit(self, wire: Wire) -> None:
        """Make room for ``wire`` by closing stalled connections, longest waiting first; else refuse it."""
        if wire.closed or wire.admitted:
            return
        now = asyncio.get_running_loop().time()
        stalled = sorted((other for other in self.live if other is not wire and other not in self._evicted
                          and other.stalled(now)), key=lambda other: other.last_active)
        for other in stalled:
            if len(self.live) - len(self._evicted) <= self.allowed:
                break
            self._evict(other)
        if len(self.live) - len(self._evicted) > self.allowed:
            wire.over_limit(read=True)
        else:
            wire.admit()

    def closed(self, wire: Wire) -> None:
        self.live.pop(wire, None)
        self._evicted.discard(wire)
        if not self.live and self._emptied is not None:
            self._emptied.set()

    async def drain(self, grace: float) -> None:
        """Answer what every connection has received, within ``grace`` seconds; then close what is left."""
        if not self.live:
            return
        self._emptied = asyncio.Event()
        for wire in list(self.live):
            wire.drain()
        if self.live:
            try:
                await asyncio.wait_for(self._emptied.wait(), grace)
            except TimeoutError:
                for wire in list(self.live):
                    wire.hang_up("still answering when the stop's grace ran out")
