"""Request bodies: each read once, bounded one by one and all together.

A body is at most ``--max-body-bytes`` (413), and the bodies being received or handled at one
time, over every connection, hold at most ``--max-pending-body-bytes`` together: a request whose
body would go past it is answered 503 with ``Retry-After`` at once, and its body is never held.
So a thousand clients each sending a large body slowly cannot take the process's memory. A
body declared by ``Content-Length`` is counted whole before a byte is read; a chunked one as
its chunks arrive. The bytes count until the pipeline has journaled the exchange.

A body with a ``Content-Encoding`` (gzip, deflate) arrives as it was sent (aiohttp's own
decompression is off) and is decompressed here, within ``--max-body-bytes`` (a gzip bomb is
a 413 after at most that many bytes), its decompressed bytes counted too; one that cannot be
decompressed is a 400. The proxy forwards the bytes as sent (:meth:`Bodies.sent`).
"""

from __future__ import annotations

import zlib

from aiohttp import web

from mockhub.kernel.errors import ApiError, MalformedRequest, PayloadTooLarge


class BodiesPending(ApiError):
    """503 (PRT000104 "not available"): the bodies being received together would pass the budget."""

    status, code = 503, 104
    headers = {"Retry-After": "1"}


class Bodies:
    """Reads request bodies within ``max_bytes`` each and ``max_pending_bytes`` together."""

    __slots__ = ("max_bytes", "max_pending_bytes", "pending", "_outcomes", "_decoded", "_held")

    def __init__(self, max_bytes: int, max_pending_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_pending_bytes = max_pending_bytes
        self.pending = 0
        """Bytes of the bodies counted now, every connection together."""
        # By the id of a request not yet released (ids are unique while their request lives).
        self._outcomes: dict[int, bytes | ApiError] = {}
        self._decoded: dict[int, bytes | ApiError] = {}
        self._held: dict[int, int] = {}

    async def sent(self, request: web.BaseRequest) -> bytes:
        """The request's body as it was sent (``b""`` for none); :class:`PayloadTooLarge` or
        :class:`BodiesPending` when it cannot be held. The outcome is kept until :meth:`release`: a
        second call answers the same without reading."""
        if not request.body_exists:
            return b""
        key = id(request)
        outcome = self._outcomes.get(key)
        if outcome is None:
            declared = request.content_length
            # a body decided without waiting (the usual one: come whole with its head) needs no coroutine
            outcome = self._declared(request, key, declared) if declared is not None else None
            if outcome is None:
                outcome = await self._read_within(request, key, declared)
            self._outcomes[key] = outcome
        if isinstance(outcome, ApiError):
            raise outcome
        return outcome

    async def read(self, request: web.BaseRequest) -> bytes:
        """The request's body, decompressed as its ``Content-Encoding`` says; as :meth:`sent`, and
        :class:`MalformedRequest` for a body that is not what its ``Content-Encoding`` says."""
        sent = await self.sent(request)
        encoding = request.headers.get("Content-Encoding")
        if encoding is None or not sent:
            return sent
        key = id(request)
        outcome = self._decoded.get(key)
        if outcome is None:
            outcome = self._decoded[key] = self._decode(key, sent, encoding)
        if isinstance(outcome, ApiError):
            raise outcome
        return outcome

    async def kept(self, request: web.BaseRequest) -> bytes:
        """The body as :meth:`read` gives it, or nothing when it cannot be held (the handler answers 413 or 503)."""
        known = self._outcomes.get(id(request))
        if type(known) is bytes and (not known or "Content-Encoding" not in request.headers):
            return known  # read already, and as sent: what read gives (every request with a body passes here)
        try:
            return await self.read(request)
        except ApiError:  # the journal keeps the answer, not the body
            return b""

    def release(self, request: web.BaseRequest) -> None:
        """Stop counting the request's body, and let go of it: the exchange is handled."""
        key = id(request)
        self.pending -= self._held.pop(key, 0)
        self._outcomes.pop(key, None)
        self._decoded.pop(key, None)

    def _decode(self, key: int, body: bytes, encoding: str) -> bytes | ApiError:
        """``body`` without the codings ``encoding`` lists (applied in the order given, so undone last first)."""
        for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
            if coding == "identity":
                continue
            if coding not in ("gzip", "x-gzip", "deflate"):
                return MalformedRequest(f"The request body cannot be read: its Content-Encoding {coding!r} is not "
                                        "one mockhub reads (gzip, deflate, identity).")
            decoded = _decompressed(body, coding, self.max_bytes)
            if decoded is None:
                return MalformedRequest("The request body cannot be read: it is not what its Content-Encoding "
                                        f"{coding!r} says.")
            if len(decoded) > self.max_bytes:
                return self._too_large()
            if not self._take(key, len(decoded)):
                return self._busy()
            body = decoded
        return body

    def _declared(self, request: web.BaseRequest, key: int, declared: int) -> bytes | ApiError | None:
        """The outcome of a body of ``declared`` bytes when it is known without waiting (too large, past the
        budget, or all of it come); else ``None``, with its bytes counted."""
        if declared > self.max_bytes:
            return self._too_large()
        if not self._take(key, declared):
            return self._busy()
        content = request.content
        if content.is_eof():  # all of it has come (the usual case): no waiting, one join
            return content.read_nowait()
        return None

    async def _read_within(self, request: web.BaseRequest, key: int, declared: int | None) -> bytes | ApiError:
        """The body as it comes (counted already when ``declared``; else counted as it comes)."""
        body = bytearray()
        while chunk := await _more(request):
            if len(body) + len(chunk) > self.max_bytes:
                return self._too_large()
            if declared is None and not self._take(key, len(chunk)):
                return self._busy()
            body += chunk
        return bytes(body)

    def _take(self, key: int, size: int) -> bool:
        if self.pending + size > self.max_pending_bytes:
            return False
        self.pending += size
        self._held[key] = self._held.get(key, 0) + size
        return True

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")

    def _busy(self) -> BodiesPending:
        return BodiesPending(f"The server is receiving more request bodies at once than --max-pending-body-bytes "
                             f"({self.max_pending_bytes}) allows; try again shortly.")


async def _more(request: web.BaseRequest) -> bytes:
    """The next bytes of the request's body; :class:`ConnectionResetError` once its connection is closed (a
    client gone, or a body the server refused as it came): aiohttp's reader may say so as a RuntimeError."""
    try:
        return await request.content.readany()
    except RuntimeError:
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the connection closed before the body came whole") from None
        raise


def _decompressed(body: bytes, coding: str, limit: int) -> bytes | None:
    """``body`` decompressed, at most ``limit + 1`` bytes of it (more is too large anyway); ``None`` when it is
    not a whole stream of that coding. A deflate body is read as zlib data, else as raw deflate (as clients
    send both)."""
    formats = (zlib.MAX_WBITS | 16,) if coding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in formats:
        inflater = zlib.decompressobj(wbits)
        try:
            decoded = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(decoded) > limit or (inflater.eof and not inflater.unused_data):
            return decoded
    return None
