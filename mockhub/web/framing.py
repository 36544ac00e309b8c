"""Where each HTTP/1.1 message on a connection begins and ends, read from the bytes alone.

:class:`RequestFramer` splits what a client sends into requests: a head (request line and
fields, checked strictly: anything whose framing could be read two ways is refused) and a body
framed by ``Content-Length`` or by chunks. :class:`BodyFramer` counts a body of either kind;
:class:`AnswerFramer` uses it to find where each answer a server writes ends. Nothing here
does I/O: :mod:`mockhub.web.wire` feeds bytes in and acts on what comes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE_BYTES = 8190
"""The longest request line or header field accepted (aiohttp's own default)."""
MAX_HEAD_BYTES = 64 * 1024
"""The longest request head (request line and header fields) accepted."""
MAX_FIELDS = 100
"""The most header fields (or chunked-body trailer fields) a request may have."""
MAX_CHUNK_LINE = 4096
"""The longest chunk-size line (size and extensions) of a chunked body."""

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_HEAD = re.compile(rb"(" + _TOKEN + rb") ([^\x00-\x20\x7f]{1,%d}) HTTP/1\.([01])" % (MAX_LINE_BYTES - 16)
                   + rb"((?:\r\n" + _TOKEN + rb":[\t\x20-\x7e\x80-\xff]{0,%d})*)" % MAX_LINE_BYTES)
_FRAMING = re.compile(rb"\r\n(content-length|transfer-encoding|connection|expect|upgrade)"
                      rb":[ \t]*([^\r]*?)[ \t]*(?=\r\n|\Z)", re.IGNORECASE)
_CHUNK_EXTENSION = rb";" + _TOKEN + rb"(?:=(?:" + _TOKEN + rb'|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e]|\\[\t\x20-\x7e])*"))?'
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})(?:" + _CHUNK_EXTENSION + rb")*")
"""A chunk-size line as RFC 9112 7.1.1 writes it, extensions without whitespace (they are dropped, not read)."""
_TRAILER = re.compile(_TOKEN + rb":[\t\x20-\x7e\x80-\xff]*")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,15})[ \t]*\r\n", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*chunked[ \t]*\r\n", re.IGNORECASE)

KNOWN_METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"})
"""Methods handed to aiohttp as they are; any other token travels as ``POST`` (the wire keeps the method sent)."""
_STAND_IN = b"POST"


class BadRequest(Exception):
    """The bytes are not a request mockhub reads: answered with ``status`` and closed."""

    def __init__(self, reason: str, status: int = 400, target: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.target = target
        """The request target as far as it was read, for the error's API format (empty: not known here)."""


@dataclass(slots=True)
class Head:
    """A request head as read, and the bytes to hand the server for it."""

    method: str
    target: bytes
    data: bytes
    """The head to hand over: as sent, or with a custom method replaced by ``POST``."""
    body: int
    """Bytes of a ``Content-Length`` body (0: none), or -1 for a chunked body."""
    close: bool
    """The client asked for the connection to close after this request (or speaks HTTP/1.0)."""
    custom: bool = False
    """``method`` is a custom verb, handed over as ``POST``."""

    def closing(self) -> bytes:
        """The head with ``Connection: close`` added, for the last request a connection answers."""
        return self.data if self.close else self.data[:-2] + b"Connection: close\r\n\r\n"


class BodyFramer:
    """Counts one body off a byte stream: ``Content-Length`` bytes, or chunks up to the last and its trailers.

    With ``canonical``, a chunked body is also rewritten as it is read (:attr:`out`): each chunk as
    ``size CRLF data CRLF`` and the end as ``0 CRLF CRLF``, without chunk extensions or trailer fields.
    What a server behind is handed is then framed one way only, and a trailer field can never be
    taken for a field of the next request.
    """

    __slots__ = ("_left", "_chunked", "_state", "_line", "_trailers", "out", "done")

    def __init__(self, length: int, canonical: bool = False) -> None:
        """``length``: the bytes of a ``Content-Length`` body, or -1 for a chunked one."""
        self._chunked = length < 0
        self._left = 0 if self._chunked else length
        self._state = "size" if self._chunked else "data"
        self._line = b""
        self._trailers = 0
        self.out: list[bytes] | None = [] if canonical and self._chunked else None
        """The chunked body as rewritten so far and not yet taken (``None``: the bytes go on as they came)."""
        self.done = length == 0

    def take(self, data: bytes, start: int = 0) -> int:
        """How many bytes of ``data`` from ``start`` belong to the body (all of them until it ends).

        Raises :class:`BadRequest` for a chunked body whose framing is not valid.
        """
        if not self._chunked:
            taken = min(self._left, len(data) - start)
            self._left -= taken
            self.done = self._left == 0
            return taken
        pos, end = start, len(data)
        out = self.out
        while pos < end and not self.done:
            if self._state == "data":
                taken = min(self._left, end - pos)
                if out is not None:
                    out.append(data[pos:pos + taken])
                self._left -= taken
                pos += taken
                if not self._left:
                    self._state = "crlf"
                continue
            limit = pos + MAX_CHUNK_LINE + 2 - len(self._line)
            found = data.find(b"\n", pos, min(end, limit))
            if found < 0:
                if end >= limit:
                    raise BadRequest("A line of the chunked body is too long.")
                self._line += data[pos:end]
                return end - start
            line, self._line = self._line + data[pos:found + 1], b""
            pos = found + 1
            self._line_done(line)
        return pos - start

    def _line_done(self, line: bytes) -> None:
        if not line.endswith(b"\r\n") or b"\r" in line[:-2]:
            raise BadRequest("The chunked body has a line that does not end with CRLF.")
        line = line[:-2]
        out = self.out
        if self._state == "crlf":
            if line:
                raise BadRequest("A chunk of the chunked body is longer than its size says.")
            self._state = "size"
            if out is not None:
                out.append(b"\r\n")
        elif self._state == "size":
            size = _CHUNK_SIZE.fullmatch(line)
            if size is None:
                raise BadRequest("The chunked body has a chunk size line that is not a hexadecimal size with "
                                 "optional ';name=value' extensions.")
            self._left = int(size.group(1), 16)
            self._state = "data" if self._left else "trailers"
            if out is not None and self._left:
                out.append(b"%x\r\n" % self._left)
        elif not line:  # the empty line after the last chunk's trailers
            self.done = True
            if out is not None:
                out.append(b"0\r\n\r\n")
        elif _TRAILER.fullmatch(line) is None:
            raise BadRequest("The chunked body has a trailer field that is not valid.")
        else:
            self._trailers += 1
            if self._trailers > MAX_FIELDS:
                raise BadRequest(f"The chunked body has more than {MAX_FIELDS} trailer fields.")


def read_head(data: bytes, end: int) -> Head:
    """The request head in ``data[:end]`` (``end``: where its closing empty line begins).

    Raises :class:`BadRequest` for anything that is not a plain, unambiguous HTTP/1.x request head.
    """
    head = data[:end]
    match = _HEAD.fullmatch(head)
    if match is None:
        raise BadRequest(_what_is_wrong(head), target=_target_of(head))
    method, target, minor, fields = match.groups()
    if fields.count(b"\r\n") > MAX_FIELDS:
        raise BadRequest(f"The request has more than {MAX_FIELDS} header fields.", target=target)
    close = minor == b"0"
    body = 0
    framing = _FRAMING.findall(fields) if fields else ()
    custom = method not in KNOWN_METHODS
    strip = False
    lengths: set[bytes] = set()
    chunked = False
    for name, value in framing:
        name = name.lower()
        if name == b"content-length":
            if not value.isdigit() or len(value) > 15 or lengths:
                raise BadRequest("The Content-Length header must be one whole number.", target=target)
            lengths.add(value)
            body = int(value)
        elif name == b"transfer-encoding":
            if value.lower() != b"chunked" or chunked or minor == b"0":
                raise BadRequest("The only Transfer-Encoding read is 'chunked', once, over HTTP/1.1.", target=target)
            chunked = True
        elif name == b"connection":
            tokens = {token.strip().lower() for token in value.split(b",")}
            if b"close" in tokens:
                close = True
            elif b"keep-alive" in tokens and minor == b"0":
                close = False
        elif name == b"expect":
            if value.lower() != b"100-continue":
                raise BadRequest(f"The expectation {value.decode('latin-1')!r} cannot be met; the only one "
                                 "is '100-continue'.", 417, target)
        else:  # upgrade: no protocol is switched to, and the field is not handed over
            strip = True
    if chunked:
        if lengths:
            raise BadRequest("A request cannot have both Content-Length and Transfer-Encoding.", target=target)
        body = -1
    if method == b"CONNECT":
        raise BadRequest("CONNECT is not served: this is not a forward proxy.", 405, target)
    if custom or strip:
        data = _handed_over(method, head, strip)
    elif end + 4 != len(data):
        data = head + b"\r\n\r\n"
    return Head(method.decode("ascii"), target, data, body, close, custom)


def _handed_over(method: bytes, head: bytes, strip: bool) -> bytes:
    """The head with a custom method replaced by ``POST``, and (``strip``: it has some) no Upgrade field."""
    if not strip:  # the usual custom verb (every LOOKUP): its fields as sent, no need to look at each
        return _STAND_IN + head[len(method):] + b"\r\n\r\n"
    line, _, fields = head.partition(b"\r\n")
    kept = [field for field in fields.split(b"\r\n")
            if field.split(b":", 1)[0].strip().lower() != b"upgrade"] if fields else []
    if method not in KNOWN_METHODS:
        line = _STAND_IN + line[len(method):]
    return b"\r\n".join([line, *kept]) + b"\r\n\r\n"


def _target_of(head: bytes) -> bytes:
    parts = head[:2048].split(b"\r\n", 1)[0].split(b" ", 2)
    return parts[1] if len(parts) > 1 else b"/"


def _what_is_wrong(head: bytes) -> str:
    """Why a head failed the strict reading, in a client's words."""
    lines = head.split(b"\r\n")
    if any(len(line) > MAX_LINE_BYTES - (16 if i == 0 else 0) for i, line in enumerate(lines)):
        return "The request line or a header field is too long."
    parts = lines[0].split(b" ")
    if len(parts) != 3 or re.fullmatch(_TOKEN, parts[0]) is None or not parts[1]:
        return "The request is not valid HTTP: the request line must be 'METHOD target HTTP/1.1'."
    if parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        return "The request is not valid HTTP: only HTTP/1.1 and HTTP/1.0 are served."
    if b"\n" in head.replace(b"\r\n", b""):
        return "The request is not valid HTTP: its lines must end with CRLF."
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            return "The request is not valid HTTP: a header field is folded over lines."
        name, colon, value = line.partition(b":")
        if not colon or re.fullmatch(_TOKEN, name) is None:
            return "The request is not valid HTTP: a header field has no valid name."
        if re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value):
            return "The request is not valid HTTP: a header field holds a control character."
    return "The request is not valid HTTP: its request target holds a space or a control character."


class AnswerFramer:
    """Finds where each answer a server writes ends, for the requests it answers one at a time.

    Told each request's method (:meth:`expect`), it reads the answers' heads and counts their
    bodies; an interim answer (``100 Continue``) is skipped.
    """

    __slots__ = ("_head_only", "_buffer", "_body", "waiting")

    def __init__(self) -> None:
        self._head_only = False
        self._buffer = b""
        self._body: BodyFramer | None = None
        self.waiting = False
        """An answer is owed: a request was handed over and its answer has not been written whole."""

    def expect(self, method: str) -> None:
        """A request of ``method`` was handed over: its answer comes next."""
        self.waiting = True
        self._head_only = method == "HEAD"

    def written(self, data: bytes) -> bool:
        """Read bytes the server wrote; whether the answer owed ended in them."""
        if not self.waiting:
            return False
        if self._buffer or self._body is not None or self._head_only:
            return self._written_on(data)
        # The usual write: one whole answer, its head with aiohttp's own "Content-Length: N" and its body.
        found = data.find(b"\r\n\r\n")
        at = data.find(b"\r\nContent-Length: ", 0, found) if found > 0 else -1
        if at < 0 or data[9:10] == b"1":
            return self._written_on(data)
        length = data[at + 18:data.find(b"\r\n", at + 18)]
        if not length.isdigit():
            return self._written_on(data)
        rest = len(data) - found - 4 - int(length)
        if rest == 0:
            return self._done()
        if rest > 0 or data[9:12] in (b"204", b"304"):
            return self._written_on(data)
        self._body = BodyFramer(-rest)  # the rest of the body follows in other writes
        return False

    def _written_on(self, data: bytes) -> bool:
        """:meth:`written` for any write: part of a head, a body in pieces, an interim answer, chunks."""
        if self._buffer:
            data, self._buffer = self._buffer + data, b""
        pos, end = 0, len(data)
        while pos < end:
            body = self._body
            if body is not None:
                pos += body.take(data, pos)
                if body.done:
                    return self._done()
                continue
            found = data.find(b"\r\n\r\n", pos)
            if found < 0:
                self._buffer = data[pos:]
                return False
            head = data[pos:found + 2]
            pos = found + 4
            status = int(head[9:12])
            if 100 <= status < 200:
                continue  # interim: the final answer follows
            if self._head_only or status in (204, 304):
                return self._done()
            chunked = _CHUNKED.search(head) is not None
            length = None if chunked else _CONTENT_LENGTH.search(head)
            if length is not None and length.group(1) == b"0":
                return self._done()
            # chunked; a length; or neither: read until the connection closes, never ending here
            self._body = BodyFramer(-1 if chunked else int(length.group(1)) if length is not None else 1 << 62)
        return False

    def _done(self) -> bool:
        self._body = None
        self.waiting = False
        return True
