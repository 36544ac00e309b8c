"""Forwarding one request to the target and streaming its answer back unchanged.

What passes through is the client's request (method, custom verbs included; the raw path
and query; headers; body bytes) and the target's answer (status, reason, headers, body
bytes), minus only what RFC 9110 section 7.6.1 says belongs to one connection: the
hop-by-hop fields and those ``Connection`` names. The target gets its own ``Host`` and a
``Via`` (RFC 9110 7.6.3: a gateway sends one on the requests it forwards); answers are
never decompressed, re-encoded or re-framed beyond chunking.

A compressed request body (``Content-Encoding``) is forwarded exactly as it was sent, under the
client's header: mockhub's server leaves bodies as they came (aiohttp's decompression is off)
and decompresses only for checking.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from mockhub.kernel.errors import ApiError
from mockhub.kernel.text import shown_url
from mockhub.proxy.checking import MAX_CHECKED_BYTES

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                        "upgrade"})
"""RFC 9110 7.6.1 (and the Proxy-Connection and Keep-Alive of older clients)."""
NOT_FORWARDED = frozenset({"host", "content-length", "expect"})
"""Request fields the proxy remakes: the target's Host, the length of the bytes sent, and Expect, which
the proxy's own server has answered (100 Continue) before the body was read."""
AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
"""Fields aiohttp's client would add on its own; the request keeps only what the client sent."""
VIA = "1.1 mockhub"


class UpstreamUnreachable(ApiError):
    """502: the target refused the connection, could not be resolved, or broke off its answer.

    The codes are those of the contract's 502 and 504, as a fault rule injects them (PRT000100, PRT000108).
    """

    status, code, message = 502, 100, "The proxy could not get an answer from the target."


class UpstreamTimeout(ApiError):
    """504: the target did not connect or answer within the proxy's timeouts."""

    status, code, message = 504, 108, "The target did not answer in time."


@dataclass(frozen=True)
class TargetAnswer:
    """The target's answer as it was passed on: status, headers and (a copy of) the body bytes."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    complete: bool
    """False when the body was longer than the proxy keeps: it was passed on whole, but cannot be checked."""

    def decoded_body(self) -> bytes:
        """The body without its gzip or deflate ``Content-Encoding``, for checking (what was sent is unchanged)."""
        encoding = self.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            try:
                return zlib.decompress(self.body, zlib.MAX_WBITS | 32)
            except zlib.error:
                return self.body
        return self.body


def end_to_end(headers: Mapping[str, str] | CIMultiDictProxy[str], remade: Iterable[str] = ()) -> CIMultiDict[str]:
    """``headers`` without the hop-by-hop fields, those ``Connection`` names, and ``remade`` (lower case)."""
    dropped = HOP_BY_HOP | frozenset(remade)
    connection = headers.getall("Connection", ()) if isinstance(headers, CIMultiDictProxy) else \
        [headers.get("Connection", "")]
    listed = {token.strip().lower() for value in connection for token in value.split(",")}
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in dropped and k.lower() not in listed)


class Forwarder:
    """Sends requests to one target through one pooled client session."""

    def __init__(self, target: str, connect_timeout: float, read_timeout: float) -> None:
        self.target = target.rstrip("/")
        self.shown_target = shown_url(self.target)
        """The target as messages name it (its password, if it has one, as ``***``)."""
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=256), skip_auto_headers=AUTO_HEADERS)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(self, request: web.Request, body: bytes) -> tuple[web.StreamResponse, TargetAnswer]:
        """Send ``request`` (with ``body``) to the target and stream the answer to the client.

        Raises :class:`UpstreamUnreachable` or :class:`UpstreamTimeout` when nothing has been sent to
        the client yet; once the answer is under way, a failure closes the client's connection instead.
        """
        assert self._session is not None, "open() first"
        headers = end_to_end(request.headers, NOT_FORWARDED)
        headers.add("Via", VIA)
        # the path and query as sent (of an absolute-form target too: the target is the proxy's own)
        url = URL(self.target + request.rel_url.raw_path_qs, encoded=True)
        try:
            upstream = await self._session.request(request.method, url, headers=headers, data=body or None,
                                                   allow_redirects=False)
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(f"The target {self.shown_target} did not answer in time ({_reason(exc)}).") from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable(
                f"The proxy could not reach the target {self.shown_target}: {_reason(exc)}.") from None
        except ValueError as exc:  # what aiohttp's client refuses to send (a header value it cannot encode)
            raise UpstreamUnreachable(f"The proxy could not forward the request: {exc}.") from None
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason,
                                       headers=end_to_end(upstream.headers))
            await response.prepare(request)
            kept = bytearray()
            complete = True
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                    if complete and len(kept) + len(chunk) <= MAX_CHECKED_BYTES:
                        kept += chunk
                    else:
                        complete = False
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise AnswerBroken(response, f"the target's answer broke off: {_reason(exc)}") from None
            await response.write_eof()
        return response, TargetAnswer(upstream.status, upstream.headers, bytes(kept), complete)


class AnswerBroken(Exception):
    """The target's answer failed after the proxy had started passing it on (``response``)."""

    def __init__(self, response: web.StreamResponse, reason: str) -> None:
        super().__init__(reason)
        self.response = response


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error.strerror or str(exc.os_error)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "no connection"
    if isinstance(exc, TimeoutError):
        return "no answer"
    return str(exc) or type(exc).__name__
