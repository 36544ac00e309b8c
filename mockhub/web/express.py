"""The express lane: an API request answered as soon as it is parsed, by the same pipeline.

aiohttp gives every request a task, a :class:`aiohttp.web.Request`, a trip through its
router and middleware, and a response object prepared through its stream writer; for a
test double's typical request that is about half of the time it takes. When a connection is
idle (nothing queued, nothing being answered) and a whole API request arrives, the
connection (:class:`mockhub.web.protocol.MockhubRequestHandler`) hands it here instead:

- the route is found as aiohttp's router finds it (the same resources, in the same order),
  on the path aiohttp would match;
- :meth:`mockhub.web.middleware.Pipeline.handle` runs on an :class:`ExpressRequest`, a
  request read straight from the parsed message, and answers exactly as for any request
  (session, faults, overrides, contract, journal, access log);
- the response's head is serialized as aiohttp serializes it and sent with the body in
  one write.

Requests it does not take go the usual way, unchanged: the control API, requests no API
route matches (404, 405), ``HEAD``, HTTP/1.0, ``Connection: close``, absolute-form targets,
cookies, a body not yet whole, or anything arriving while another request is answered. When
the pipeline has to wait (a delay fault, say), the rest of it runs as a task and the
connection reads no further request until it has answered, so answers keep their order.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, cast

from aiohttp import hdrs, web
from aiohttp.helpers import must_be_empty_body, rfc822_formatted_time, should_remove_content_length
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_writer import _serialize_headers
from aiohttp.streams import EmptyStreamReader, StreamReader
from aiohttp.web_urldispatcher import Resource, UrlMappingMatchInfo
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping
from yarl import URL

from mockhub.contract.dialects import Dialect, dialect_of_path
from mockhub.engine.errors import InternalError
from mockhub.web.keys import DIALECTS
from mockhub.web.rendering import error_response

if TYPE_CHECKING:
    from mockhub.web.middleware import Pipeline

EXPRESS: web.AppKey[Express] = web.AppKey("mockhub_express")
"""The app's express lane; a server without it answers every request the usual way."""
ROUTES_KEPT = 4096
"""Routes the express lane remembers (by method and path) before it starts again."""
ROUTE_KEPT_LENGTH = 256
"""The longest path whose route is remembered (so they hold about a megabyte at most)."""
_SERVER = f"Server: {SERVER_SOFTWARE}\r\n"


class ExpressRequest(dict[Any, Any]):
    """What the pipeline and the API's endpoints read of a request, straight from the parsed message.

    The same values as :class:`aiohttp.web.Request` gives for an origin-form target; like it, a
    mapping for what the pipeline keeps on the request.
    """

    __slots__ = ("app", "method", "raw_path", "_url", "headers", "match_info", "content", "body_exists",
                 "remote", "transport")

    def __init__(self, app: web.Application, message: Any, method: str, match_info: UrlMappingMatchInfo,
                 content: StreamReader | WholeBody, remote: str | None, transport: Any) -> None:
        self.app = app
        self.method = method
        self.raw_path: str = message.path
        """The request target as sent."""
        self._url: URL = message.url
        self.headers: CIMultiDictProxy[str] = message.headers
        self.match_info = match_info
        self.content = content
        self.body_exists = type(content) is not EmptyStreamReader
        self.remote = remote
        self.transport = transport

    @property
    def path(self) -> str:
        return self._url.path

    @property
    def query_string(self) -> str:
        return self._url.query_string

    @property
    def rel_url(self) -> URL:
        return self._url

    @property
    def query(self) -> MultiMapping[str]:
        return self._url.query

    @property
    def content_length(self) -> int | None:
        value = self.headers.get(hdrs.CONTENT_LENGTH)
        return None if value is None else int(value)


class Express:
    """Finds an API request's route and answers it through the app's pipeline (see the module's doc)."""

    __slots__ = ("app", "pipeline", "_middleware", "_index", "_api", "_found")

    def __init__(self, app: web.Application, pipeline: Pipeline, middleware: Any) -> None:
        """``middleware``: the pipeline's, the one the app is built with."""
        self.app = app
        self.pipeline = pipeline
        self._middleware = middleware
        self._found: dict[tuple[str, str], UrlMappingMatchInfo | None] = {}
        """Routes found lately, by method and raw path (never changed: the router is frozen once serving)."""
        router = app.router
        self._index = cast(dict[str, list[Resource]], router._resource_index)
        self._api = {handler for handler, dialect in app[DIALECTS].items() if dialect is not Dialect.ADMIN}

    def usable(self) -> bool:
        """Whether the app, as it is served, is still the one this lane mirrors: no middleware or response
        hook added since it was built, no sub-application, every route one aiohttp's router resolves plainly."""
        app, router = self.app, self.app.router
        return (list(app.middlewares) == [self._middleware] and not app.on_response_prepare and not app._subapps
                and not router._matched_sub_app_resources
                and all(isinstance(resource, Resource) for resource in router.resources()))

    def route(self, method: str, path: str) -> UrlMappingMatchInfo | None:
        """The handler and path parameters aiohttp's router gives ``method`` and ``path`` (``path_safe``),
        when that is an API operation; else ``None`` (also for no route: 404 and 405 take the usual way)."""
        index = self._index
        part = path
        while part:
            for resource in index.get(part, ()):
                found = resource._match(path)
                if found is None:
                    continue
                route = resource._routes.get(method, resource._any_route)
                if route is not None:
                    return UrlMappingMatchInfo(found, route) if route.handler in self._api else None
            if part == "/":
                break
            part = part.rpartition("/")[0] or "/"
        return None

    def request(self, message: Any, method: str, payload: StreamReader, body: bytes | None, remote: str | None,
                transport: Any) -> tuple[Any, ExpressRequest] | None:
        """The route handler and request for a parsed ``message`` of ``method``, or ``None`` when it takes the
        usual way.

        ``body``: the whole body when the parser has it at hand (else it is read from ``payload``).
        """
        if message.version != HttpVersion11 or message.should_close or method == hdrs.METH_HEAD:
            return None
        url: URL = message.url
        headers = message.headers
        # An ExpressRequest has no cookies; an upgrade, an expectation (100-continue, 417) and a compressed
        # body (Content-Encoding: aiohttp's payload decompresses it) are aiohttp's.
        if (url.absolute or hdrs.COOKIE in headers or hdrs.UPGRADE in headers or hdrs.EXPECT in headers
                or message.compression or not payload.is_eof()):
            return None
        key = (method, url.raw_path)
        found = self._found
        if key in found:
            match_info = found[key]
        else:
            match_info = self.route(method, url.path_safe)
            if len(key[1]) <= ROUTE_KEPT_LENGTH:
                if len(found) >= ROUTES_KEPT:  # many paths (an id each): start again rather than grow
                    found.clear()
                found[key] = match_info
        if match_info is None:
            return None
        content = payload if body is None or type(payload) is EmptyStreamReader else WholeBody(body)
        return match_info.handler, ExpressRequest(self.app, message, method, match_info, content, remote, transport)


class WholeBody:
    """A body that has come whole, read as a :class:`aiohttp.StreamReader` at its end is read."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def is_eof(self) -> bool:
        return True

    def read_nowait(self) -> bytes:
        return self._data


def response_bytes(response: web.StreamResponse, method: str) -> bytes:
    """``response`` as aiohttp writes it to an HTTP/1.1 client that keeps the connection: head and body.

    The response's own headers first, then those aiohttp adds (``Content-Length``, ``Date``,
    ``Server``, ``Connection: close``), each checked as aiohttp checks them (no CR or LF).
    """
    if type(response) is not web.Response or response._cookies or response._compression or response._chunked:
        raise TypeError(f"the express lane sends only plain responses, not {response!r}")
    body = response._body
    if body is not None and not isinstance(body, bytes):
        raise TypeError("the express lane sends only bytes bodies")
    status = response.status
    headers: CIMultiDict[str] = response._headers
    added = ""
    if must_be_empty_body(method, status):
        if should_remove_content_length(method, status):
            headers.popall(hdrs.CONTENT_LENGTH, None)
        elif hdrs.CONTENT_LENGTH not in headers and status != 304:
            added = "Content-Length: 0\r\n"
        headers.popall(hdrs.TRANSFER_ENCODING, None)
        body = None
    else:  # a Content-Length given that is not a number is a ValueError, as in aiohttp
        given = headers.get(hdrs.CONTENT_LENGTH)
        length = int(given) if given is not None else len(body) if body else 0
        if given is None:
            added = f"Content-Length: {length}\r\n"
        if length and hdrs.CONTENT_TYPE not in headers:
            added += "Content-Type: application/octet-stream\r\n"
    if hdrs.DATE not in headers:
        added += f"Date: {rfc822_formatted_time()}\r\n"
    if hdrs.SERVER not in headers:
        added += _SERVER
    if response.keep_alive is False and hdrs.CONNECTION not in headers:
        added += "Connection: close\r\n"
    head = _serialize_headers(f"HTTP/1.1 {status} {response.reason}", headers)
    if added:
        head = head[:-2] + added.encode("ascii") + b"\r\n"
    return head + body if body else head


def error_bytes(method: str, path: str) -> bytes:
    """A 500 in the API's format, for a response the express lane could not send."""
    return response_bytes(error_response(InternalError(), dialect_of_path(path)), method)


class Resume:
    """Awaiting this runs to its end a coroutine started by hand (``send(None)``) that paused on ``waiting``."""

    __slots__ = ("_coroutine", "_waiting")

    def __init__(self, coroutine: Any, waiting: Any) -> None:
        self._coroutine = coroutine
        self._waiting = waiting

    def __await__(self) -> Generator[Any, None, Any]:
        coroutine, waiting = self._coroutine, self._waiting
        while True:
            try:
                yield waiting  # the awaiting task waits for it, as it would have for the coroutine
            except GeneratorExit:  # this awaitable is being closed: so is the coroutine
                coroutine.close()
                raise
            except BaseException as exc:
                try:
                    waiting = coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting = coroutine.send(None)
                except StopIteration as done:
                    return done.value
