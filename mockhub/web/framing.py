"""Reading requests: any RFC 9110 method on aiohttp's C parser, with exact framing.

aiohttp's C parser (llhttp) knows a fixed table of methods and rejects any other before a
handler runs; it cannot say where in the bytes it failed, so no parser can take over from it
afterwards without guessing. Here the C parser is never left to find the next request on its
own: :class:`FramedParser` frames every message itself and hands the C parser exactly one
head, then exactly its body, at a time.

- A head ends at the first empty line. When its method is not one the C parser knows, the
  head is handed over with ``POST`` in its place and the parsed message gets its own method
  back; nothing but the method token is touched, so the C parser checks everything else.
- A ``Content-Length`` body (as the C parser read it from that head) is counted off, so the
  next head starts exactly after it, whatever TCP did to the bytes.
- A chunked body, and ``CONNECT``, go to aiohttp's pure-Python parser from the first byte of
  their head; at the next message boundary the connection returns to the C parser.

Each request is thus parsed once, in order; a body byte is never read as a request line, and
the same bytes give the same requests however they are cut into writes. A request head must
arrive whole within the handler's ``head_timeout`` seconds of its first byte (or of the
connection's start), else the connection is closed: a client cannot hold it by trickling. The cost is one
``bytes.find`` and a set lookup per request (a GET a hub pays well under 1 %). At most
``MAX_MSG_QUEUE_SIZE`` requests wait unanswered per connection, as in aiohttp; the rest waits
here until the queue drains.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong
from aiohttp.http_parser import HttpRequestParser, HttpRequestParserPy
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE, RequestHandler, RequestPayloadError

log = logging.getLogger("mockhub")

C_METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"})
"""Methods handed to the C parser as they are; any other token travels as ``POST``."""
_C_REQUEST_LINES = tuple(method + b" " for method in C_METHODS)
_STAND_IN = b"POST"
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_END_OF_HEAD = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,15})[ \t]*\r\n", re.IGNORECASE)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)
MAX_HEAD_BYTES = 64 * 1024
"""The longest request head (request line and headers) accepted."""
_FEED_NOTHING: tuple[tuple[Any, ...], bool, bytes] = ((), False, b"")


class FramedParser:
    """The parser of one connection: frames each message, parses it with the C parser when it can."""

    __slots__ = ("_handler", "_c", "_py", "_pending", "_body_left", "_awaiting", "_in_flight",
                 "_error", "_closed", "_last_head", "_idle", "_head_timer", "heads", "express")

    def __init__(self, handler: RequestHandler) -> None:
        self._handler = handler
        self._c = self._parser(HttpRequestParser)
        self._py: Any = None
        self._pending = b""        # bytes received and not yet handed to a parser
        self._body_left = 0        # bytes of the current Content-Length body still to hand over
        # A head handed over whose message is not out yet: its bytes, its own method, the length of the
        # body handed over with it (-1: none was).
        self._awaiting: tuple[bytes, bytes | None, int] | None = None
        self._in_flight = 0        # messages handed to the connection and not yet taken
        self._error: HttpProcessingError | None = None
        self._closed = False       # a request said Connection: close: no request after it is read
        self._last_head = b""
        self._idle = True          # at a message boundary with nothing held back: the fast path may run
        self._head_timer: asyncio.TimerHandle | None = None
        self.heads = 0
        """Whole request heads received so far on this connection."""
        self.express: Callable[[Any, Any, bytes | None, str | None], bool] | None = None
        """Answers a whole request at once, if it can (the connection's express lane): it is then not emitted.
        Given the message, its payload, its whole body when it is at hand, and its method when the message
        carries a stand-in."""
        self.start_head_timer()

    def _parser(self, kind: Any) -> Any:
        handler = self._handler
        return kind(handler, handler._loop, handler._read_bufsize, max_line_size=handler.max_line_size,
                    max_field_size=handler.max_field_size, max_headers=handler.max_headers,
                    payload_exception=RequestPayloadError)

    @property
    def path_hint(self) -> str:
        """The path of the latest request line seen, as far as it arrived (for errors before parsing ends)."""
        parts = self._last_head[:2048].split(b"\r\n", 1)[0].split(b" ", 2)
        return parts[1].decode("latin-1") if len(parts) > 1 else "/"

    def feed_data(self, data: bytes) -> Any:
        if not self._idle:
            return self._offered(self._feed(data, []))
        head_end = data.find(_END_OF_HEAD) + 4
        if head_end != len(data) or not data.startswith(_C_REQUEST_LINES):
            return self._feed_one(data, head_end) if head_end > 4 else self._offered(self._feed(data, []))
        # The common case, one whole request without a body at a message boundary: straight through.
        self._last_head = data
        result = self._c.feed_data(data)
        parsed = result[0]
        if len(parsed) == 1:
            message, payload = parsed[0]
            if payload is EMPTY_PAYLOAD and not message.upgrade:
                if self._head_timer is not None:
                    self._stop_head_timer()
                self.heads += 1
                if not message.should_close and self.express is not None and self.express(message, payload, None,
                                                                                          None):
                    return _FEED_NOTHING
                self._in_flight += 1
                if message.should_close or self._in_flight >= MAX_MSG_QUEUE_SIZE:
                    self._closed = message.should_close
                    self._idle = False  # until the general path says otherwise
                return result
        return self._offered(self._after_fast_path(data, parsed))

    def _offered(self, result: Any) -> Any:
        """``result``, less its one message when the express lane answered it (a request that came in pieces)."""
        parsed = result[0]
        if len(parsed) == 1 and self._idle and self.express is not None:
            message, payload = parsed[0]
            if self.express(message, payload, None, None):
                self._in_flight -= 1
                return _FEED_NOTHING
        return result

    def _after_fast_path(self, head: bytes, parsed: Any, custom: bytes | None = None, body: int = -1) -> Any:
        messages: list[Any] = []
        self._last_head = head
        if not parsed:
            self._awaiting = (head, custom, body)
            self._idle = False
            return _FEED_NOTHING
        if len(parsed) > 1:
            raise BadHttpMessage("the Content-Length header is ambiguous")
        return self._feed(head if self._take(parsed[0], custom, messages, body) else b"", messages)

    def _feed_one(self, data: bytes, head_end: int) -> Any:
        """One whole request with its whole Content-Length body (a LOOKUP, a POST): one hand-over if it is plain."""
        lengths = _CONTENT_LENGTH.findall(data, 0, head_end)
        body = len(data) - head_end
        if not body or len(lengths) != 1 or int(lengths[0]) != body or _TRANSFER_ENCODING.search(data, 0, head_end):
            return self._offered(self._feed(data, []))
        method = data[:data.find(b" ")]
        if method in C_METHODS:
            custom, handed = None, data
        elif method != b"CONNECT" and _TOKEN.fullmatch(method) is not None:
            custom, handed = method, _STAND_IN + data[len(method):]
        else:
            return self._offered(self._feed(data, []))
        self._last_head = data
        parsed = self._c.feed_data(handed)[0]
        if len(parsed) == 1 and self.express is not None:
            message, payload = parsed[0]
            # As _take checks it, and nothing for the Python parser: then the message may be answered at once.
            plain = (not message.chunked and not message.upgrade and not message.should_close
                     and payload is not EMPTY_PAYLOAD and int(message.headers["Content-Length"]) == body)
            if plain:  # offered here once, with its body at hand
                if self.express(message, payload, data[head_end:], None if custom is None else custom.decode()):
                    self.heads += 1
                    if self._head_timer is not None:
                        self._stop_head_timer()
                    return _FEED_NOTHING
                return self._after_fast_path(data, parsed, custom, body)
        return self._offered(self._after_fast_path(data, parsed, custom, body))

    def _feed(self, data: bytes, messages: list[Any]) -> Any:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        try:
            while True:  # alternate between the parsers until the bytes run out
                if self._py is not None:
                    data = self._feed_python(data, messages)
                    if self._py is not None:
                        break
                switched = self._feed_c(data, messages)
                if switched is None:
                    break
                data = switched
        except HttpProcessingError as exc:
            if not messages:
                raise
            # Answer what came before the bad request first; the error follows as the next message.
            self._error = exc
            self._handler._loop.call_soon(self._report_error)
        self._idle = (self._py is None and not self._pending and not self._body_left and self._awaiting is None
                      and self._error is None and not self._closed and self._in_flight < MAX_MSG_QUEUE_SIZE)
        if self._pending and self._py is None and self._awaiting is None and not self._closed:
            self.start_head_timer()  # part of a head has come
        elif messages and self._head_timer is not None:
            self._stop_head_timer()
        if self._py is not None and self._py._upgraded:
            return messages, True, b""
        return (messages, False, b"") if messages else _FEED_NOTHING

    def start_head_timer(self) -> None:
        """Close the connection unless a whole request head arrives in time (no-op if already counting)."""
        timeout = self._handler.head_timeout  # type: ignore[attr-defined]
        if self._head_timer is None and timeout > 0:
            self._head_timer = self._handler._loop.call_later(timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        handler = self._handler
        if handler._parser is self and handler.transport is not None:  # type: ignore[comparison-overlap]
            log.info("closed a connection from %s: no whole request head within %g s",
                     handler.transport.get_extra_info("peername"), handler.head_timeout)  # type: ignore[attr-defined]
            handler.force_close()

    def stop_reading_requests(self) -> None:
        """Read no request after those already received (a body under way is still read)."""
        self._closed = True
        self._idle = False
        self._stop_head_timer()

    def _report_error(self) -> None:
        handler = self._handler
        if handler._parser is self and self._error is not None:  # type: ignore[comparison-overlap]
            handler.data_received(b"")

    def _emit(self, messages: list[Any], message: Any, payload: Any, method: bytes | None) -> None:
        if method is not None:
            message = message._replace(method=method.decode("ascii"))
        messages.append((message, payload))
        self._in_flight += 1
        self.heads += 1
        if message.should_close:
            self._closed = True

    def _feed_c(self, data: bytes, messages: list[Any]) -> bytes | None:
        """Frame ``data`` for the C parser; returns the bytes for the Python parser if it takes over."""
        if self._pending:
            data, self._pending = self._pending + data, b""
        c = self._c
        pos, end = 0, len(data)
        if self._awaiting is not None:
            parsed = c.feed_data(b"")[0]
            if not parsed:
                self._pending = data
                return None
            head, custom, body = self._awaiting
            self._awaiting = None
            if self._take(parsed[0], custom, messages, body):
                return head + data
        while pos < end:
            if self._body_left:
                take = min(self._body_left, end - pos)
                c.feed_data(data if take == end else data[pos:pos + take])
                self._body_left -= take
                pos += take
                continue
            if self._closed:  # the last request said Connection: close; the rest is not read
                return None
            if self._in_flight >= MAX_MSG_QUEUE_SIZE:  # resumed by feed_data(b"") once the queue drains
                break
            while data.startswith(b"\r\n", pos):  # empty lines between requests, as the Python parser allows
                pos += 2
            found = data.find(_END_OF_HEAD, pos)
            if found < 0:
                self._last_head = data[pos:pos + 2048]
                if end - pos > MAX_HEAD_BYTES:
                    raise LineTooLong(data[pos:pos + 100] + b"...", MAX_HEAD_BYTES)
                break
            head_end = found + 4
            if head_end - pos > MAX_HEAD_BYTES:
                raise LineTooLong(data[pos:pos + 100] + b"...", MAX_HEAD_BYTES)
            head = data if (pos == 0 and head_end == end) else data[pos:head_end]
            self._last_head = head
            method = head[:head.find(b" ")]
            if method in C_METHODS:
                custom = None
            elif method == b"CONNECT" or _TOKEN.fullmatch(method) is None:
                self._py = self._parser(HttpRequestParserPy)  # it answers a bad method in its own words
                return data[pos:]
            else:
                custom = method
                head = _STAND_IN + head[len(method):]
            parsed = c.feed_data(head)[0]
            if not parsed:  # the C parser is paused on a body: the message comes out when it resumes
                self._awaiting = (self._last_head, custom, -1)
                pos = head_end
                break
            if self._take(parsed[0], custom, messages):
                return data[pos:]
            pos = head_end
        if pos < end:
            self._pending = data[pos:]
        return None

    def _take(self, parsed: Any, custom: bytes | None, messages: list[Any], body: int = -1) -> bool:
        """Emit a message the C parser read; ``True`` when the Python parser must read it instead.

        ``body``: the length of the body handed over with the head (:meth:`_feed_one`), else -1.
        """
        message, payload = parsed
        if message.chunked or message.upgrade:
            # The C parser's framing cannot be followed from here: the Python parser reads this
            # message again from its first byte (the C parser's copy is dropped unseen).
            self._py = self._parser(HttpRequestParserPy)
            return True
        if body >= 0:
            if payload is EMPTY_PAYLOAD or int(message.headers["Content-Length"]) != body:
                # The C parser read the length otherwise than _CONTENT_LENGTH did: trust neither.
                raise BadHttpMessage("the Content-Length header is ambiguous")
        elif payload is not EMPTY_PAYLOAD:
            self._body_left = int(message.headers["Content-Length"])
        self._emit(messages, message, payload, custom)
        return False

    def _feed_python(self, data: bytes, messages: list[Any]) -> bytes:
        py = self._py
        parsed, upgraded, _ = py.feed_data(data)
        for message, payload in parsed:
            self._emit(messages, message, payload, None)
        if upgraded or py._payload_parser is not None or py._lines or self._closed:
            return b""
        # At a message boundary: back to the C parser, with what the Python parser had not read yet.
        rest, py._tail = py._tail, b""
        self._py = None
        self._c = self._parser(HttpRequestParser)
        return bytes(rest)

    def feed_eof(self) -> Any:
        self._stop_head_timer()
        return (self._py or self._c).feed_eof()

    def message_consumed(self) -> None:
        if self._in_flight > 0:
            self._in_flight -= 1

    def pause_reading(self) -> None:
        (self._py or self._c).pause_reading()

    def set_upgraded(self, value: bool) -> None:
        (self._py or self._c).set_upgraded(value)
