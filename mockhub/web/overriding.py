"""Overrides at the HTTP edge: the facts a matcher reads from a request, and an override's answer.

The session's :class:`~mockhub.services.overrides.OverrideEngine` picks the override; this module
turns it into a response: the override's own answer, or its merge into the answer the
stateful mock gave. A merged answer is checked against the contract (unless the override is
``off_contract``): one that breaks it is :class:`MergeBrokeContract`, a 500 naming the override.
The pipeline calls it only when the session has an override, so a session without overrides
pays one truth test per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mockhub.kernel import jsonio
from mockhub.kernel.errors import InternalError, Problem
from mockhub.kernel.matching import RequestFacts
from mockhub.services.override_check import OverrideChecker
from mockhub.services.overrides import NO_BODY, Override, merged
from mockhub.services.sessions import Session
from mockhub.web.keys import APP, BODIES
from mockhub.web.rendering import json_response

Respond = Callable[[], Awaitable[web.StreamResponse]]
_NOT_MERGEABLE: Any = object()
LISTED_PROBLEMS = 10
"""Problems of a merged answer a :class:`MergeBrokeContract` names (a page of hubs may hold hundreds)."""


class MergeBrokeContract(InternalError):
    """500: an override's merge made an answer the contract does not allow (what depends on the answer merged
    into, which the check when the override was added cannot tell)."""

    def __init__(self, override: Override, problems: list[Problem]) -> None:
        listed = " ".join(problem.message for problem in problems[:LISTED_PROBLEMS])
        more = f" ({len(problems) - LISTED_PROBLEMS} more)" if len(problems) > LISTED_PROBLEMS else ""
        super().__init__(f"Override '{override.id}' merged an answer the contract does not allow: {listed}{more} "
                         'Give it "off_contract": true to send such answers.')
        self.override = override


async def facts_of(request: web.BaseRequest, needs_body: bool, method: str) -> RequestFacts:
    """What a matcher looks at (``method``: the operation's, which ``X-HTTP-Method-Override`` may name); the
    body is read first only when a rule matches on it."""
    body = await request[APP][BODIES].kept(request) if needs_body else b""
    return RequestFacts(method, request.path, request.query, request.headers, body)


async def overridden(request: web.BaseRequest, session: Session, respond: Respond, method: str,
                 checker: OverrideChecker) -> tuple[web.StreamResponse, Override | None]:
    """The answer to an API request of the operation of ``method``: an override's if one takes it, else
    ``respond()``'s; and the override. Raises :class:`MergeBrokeContract` for a merged answer ``checker`` finds
    off the contract."""
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
    answer = merged(answer, override.merge)
    if not override.off_contract:
        broken = checker.merged_problems(method, request.path, response.status, answer)
        if broken:
            raise MergeBrokeContract(override, broken)
    replaced = {"content-length", "content-type", *(name.lower() for name in headers)}  # in any case
    kept = {k: v for k, v in response.headers.items() if k.lower() not in replaced}
    return json_response(answer, status=response.status, headers={**kept, **headers}), override


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
