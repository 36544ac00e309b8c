"""Overrides at the HTTP edge: the facts a matcher reads from a request, and an override's answer.

The session's :class:`~mockhub.engine.overrides.OverrideEngine` picks the override; this module
turns it into a response: the override's own answer, or its merge into the answer the
stateful mock gave. The pipeline calls it only when the session has an override, so a
session without overrides pays one truth test per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mockhub.engine import jsonio
from mockhub.engine.matching import RequestFacts
from mockhub.engine.overrides import NO_BODY, Override, merged
from mockhub.engine.sessions import Session
from mockhub.web.keys import BODIES
from mockhub.web.rendering import json_response

Respond = Callable[[], Awaitable[web.StreamResponse]]
_NOT_MERGEABLE: Any = object()


async def facts_of(request: web.Request, needs_body: bool, method: str) -> RequestFacts:
    """What a matcher looks at (``method``: the operation's, which ``X-HTTP-Method-Override`` may name); the
    body is read first only when a rule matches on it."""
    body = await request.app[BODIES].kept(request) if needs_body else b""
    return RequestFacts(method, request.path, request.query, request.headers, body)


async def served(request: web.Request, session: Session, respond: Respond,
                 method: str) -> tuple[web.StreamResponse, Override | None]:
    """The answer to an API request of the operation of ``method``: an override's if one takes it, else
    ``respond()``'s; and the override."""
    overrides = session.overrides
    override = overrides.take(await facts_of(request, overrides.needs_body, method))
    if override is None:
        return await respond(), None
    headers = dict(override.headers)
    if override.merge is None:
        if override.body is NO_BODY:
            return web.Response(status=override.status, headers=headers), override
        return json_response(override.body, status=override.status, headers=headers), override
    response = await respond()
    answer = _json_success(response)
    if answer is _NOT_MERGEABLE:  # an error (or a body that is not JSON) goes out unchanged, and does not count
        overrides.give_back(override)
        return response, None
    replaced = {"content-length", "content-type", *(name.lower() for name in headers)}  # in any case
    kept = {k: v for k, v in response.headers.items() if k.lower() not in replaced}
    return json_response(merged(answer, override.merge), status=response.status, headers={**kept, **headers}), override


def _json_success(response: web.StreamResponse) -> Any:
    """The JSON body of a 2xx answer, or ``_NOT_MERGEABLE`` for any other answer."""
    if not 200 <= response.status < 300 or not isinstance(response, web.Response):
        return _NOT_MERGEABLE
    body = response.body
    if not isinstance(body, bytes) or not response.content_type.endswith("json"):
        return _NOT_MERGEABLE
    try:
        return jsonio.loads(body)
    except jsonio.JsonError:
        return _NOT_MERGEABLE
