"""mockhub's HTTP connections: custom verbs (LOOKUP) on the C parser, and JSON for unparsable requests.

aiohttp's C parser (llhttp) knows a fixed table of methods and answers anything else
with ``400 Invalid method encountered`` before a handler runs. Each connection here
starts on the C parser; only when it rejects a method does that connection switch to
aiohttp's pure-Python parser, which accepts any RFC 9110 token. Ordinary traffic never
pays for the slower parser.

A request that cannot be parsed at all (a line over the size limit, a NUL in a header)
never reaches the app; aiohttp would answer it in plain text and log a traceback. Here
it is answered in the API's own error format and logged as one line.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong
from aiohttp.http_parser import HttpRequestParserPy
from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE, RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from mockhub.errors import ApiError, MalformedRequest, dialect_for

log = logging.getLogger("mockhub")


class FallbackParser:
    """Delegates to the C parser, and to a Python parser from the first unknown method on."""

    __slots__ = ("_active", "_handler", "_switched", "_head")

    def __init__(self, handler: RequestHandler, c_parser: Any) -> None:
        self._active = c_parser
        self._handler = handler
        self._switched = False
        self._head = b""

    @property
    def path_hint(self) -> str:
        """The path of the latest request line seen, as far as it arrived (for errors before parsing ends)."""
        parts = self._head[:2048].split(b"\r\n", 1)[0].split(b" ", 2)
        return parts[1].decode("latin-1") if len(parts) > 1 else "/"

    def _python_parser(self) -> Any:
        handler = self._handler
        return HttpRequestParserPy(
            handler,
            handler._loop,
            handler._read_bufsize,
            max_line_size=handler.max_line_size,
            max_field_size=handler.max_field_size,
            max_headers=handler.max_headers,
            payload_exception=RequestPayloadError,
            max_msg_queue_size=MAX_MSG_QUEUE_SIZE,
        )

    def feed_data(self, data: bytes) -> Any:
        if data[:1].isupper():  # a chunk that starts a request line: keep it (a reference, no copy)
            self._head = data
        try:
            return self._active.feed_data(data)
        except BadHttpMethod:
            if self._switched:
                raise
            # The C parser drops every message of a chunk that fails, so the Python
            # parser reads the whole chunk again: nothing is lost or answered twice.
            self._switched = True
            self._active = self._python_parser()
            return self._active.feed_data(data)

    def feed_eof(self) -> Any:
        return self._active.feed_eof()

    def message_consumed(self) -> None:
        self._active.message_consumed()

    def pause_reading(self) -> None:
        self._active.pause_reading()

    def set_upgraded(self, value: bool) -> None:
        self._active.set_upgraded(value)


class MockhubRequestHandler(RequestHandler):
    """aiohttp's connection handler with the parser fallback and API-format protocol errors."""

    def __init__(self, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._parser = FallbackParser(self, self._parser)  # type: ignore[assignment]

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: an answer is under way, the connection is broken
            raise ConnectionError("a response was already sent; cannot send an error")
        reason = _reason(exc, message)
        log.info("unparsable request from %s: %s", request.remote, reason)
        error = MalformedRequest(reason) if status == 400 else ApiError(reason)
        error.status = status
        # The API is known from the path of the request line, as far as it arrived.
        response = error.response(dialect_for(self._parser.path_hint))  # type: ignore[union-attr]
        response.force_close()
        return response


def _reason(exc: BaseException | None, message: str | None) -> str:
    if isinstance(exc, LineTooLong):
        return "The request line or a header field is too long."
    if isinstance(exc, BadHttpMessage):
        return f"The request is not valid HTTP: {exc.message.splitlines()[0].rstrip(':.')}."
    return message or "The request could not be handled."


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return MockhubRequestHandler(self, loop=self._loop, **self._kwargs)


class MockhubRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections accept custom HTTP verbs."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server  # the same object, with a connection factory that wraps the parser
        return server
