"""Accept custom verbs (LOOKUP) without giving up aiohttp's C HTTP parser.

aiohttp's C parser (llhttp) knows a fixed table of methods and answers anything else
with ``400 Invalid method encountered`` before a handler runs. Each connection here
starts on the C parser; only when it rejects a method does that connection switch to
aiohttp's pure-Python parser, which accepts any RFC 9110 token. Ordinary traffic never
pays for the slower parser.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod
from aiohttp.http_parser import HttpRequestParserPy
from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE, RequestHandler, RequestPayloadError


class FallbackParser:
    """Delegates to the C parser, and to a Python parser from the first unknown method on."""

    __slots__ = ("_active", "_handler", "_switched")

    def __init__(self, handler: RequestHandler, c_parser: Any) -> None:
        self._active = c_parser
        self._handler = handler
        self._switched = False

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


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        handler._parser = FallbackParser(handler, handler._parser)  # type: ignore[assignment]
        return handler


class MockhubRunner(web.AppRunner):
    """An :class:`aiohttp.web.AppRunner` whose connections accept custom HTTP verbs."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server  # the same object, with a connection factory that wraps the parser
        return server
