"""The bridge between aiohttp and thin handlers: the contract parses, the handler decides.

Each handler takes a :class:`Call` whose path segments, query and body are already
checked against the contract, and whose tenant is authenticated when the operation is
secured, by a token its security's scopes allow (decisions.md, Auth and tenants: 401 comes before any other
check; Identity: a token works only for its own API). An operation that declares
the ``X-HTTP-Method-Override`` header runs the operation of its path that the header names.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockhub.contract.contracts import Contract, operations_of
from mockhub.contract.requests import Operation, QueryParam
from mockhub.kernel.errors import ApiError, Unauthorized, ValidationFailed, recoded
from mockhub.services.control import Control
from mockhub.services.sessions import Session
from mockhub.store import Store
from mockhub.web.bodies import Bodies
from mockhub.web.keys import APP, APPLIED, CONTRACT, CONTROL, SESSION, SESSIONS
from mockhub.web.protocol import route_of


@dataclass(slots=True)
class Call:
    """A request that passed the contract."""

    request: web.BaseRequest
    session: Session
    tenant_id: str
    """The authenticated tenant ("" for operations without auth)."""
    path: dict[str, str]
    query: dict[str, Any]
    body: Any

    @property
    def store(self) -> Store:
        return self.session.store

    @property
    def app(self) -> web.Application:
        """The app answering (what hangs off it: the settings, the contracts...)."""
        app: web.Application = self.request[APP]
        return app

    @property
    def control(self) -> Control:
        """The server's control plane (the control API's handlers are calls of it)."""
        return self.app[CONTROL]

    @property
    def contract(self) -> Contract:
        """The contract, for handlers that check a body themselves (``x-mockhub-body-checked-by-handler``)."""
        return self.app[CONTRACT]


Handler = Callable[[Call], web.StreamResponse]
AsyncHandler = Callable[[Call], Awaitable[web.StreamResponse]]
"""A handler that waits on something (a dashboard's event stream); every other handler answers at once."""
AnyHandler = Handler | AsyncHandler
RouteHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


SERVERS = "x-mockhub-servers"
"""Which mockhub servers serve an operation of the control API (``serve``, ``proxy``); ``serve`` when absent."""


def served_by(contract: Contract, server: str) -> set[str]:
    """The ids of the operations of ``contract`` that ``server`` (``serve`` or ``proxy``) serves."""
    return {spec["operationId"] for item in contract.document["paths"].values()
            for _, spec in operations_of(item) if server in spec.get(SERVERS, ("serve",))}


def endpoints(contract: Contract, handlers: Mapping[str, AnyHandler], bodies: Bodies,
              max_json_depth: int) -> Iterator[tuple[Operation, RouteHandler]]:
    """Each operation of the contract that ``handlers`` names, with the aiohttp handler that serves it,
    reading bodies with ``bodies`` and parsing them ``max_json_depth`` deep at most."""
    plain = {op_id: endpoint(contract.operations[op_id], handle, bodies, max_json_depth)
             for op_id, handle in handlers.items()}
    by_route = {(op.path, op.method): op_id for op_id, op in contract.operations.items()}
    for op_id, handle in plain.items():
        op = contract.operations[op_id]
        if op.method_override is not None:
            targets = {method: plain[by_route[(op.path, method)]] for method in op.override_methods}
            handle = overridable(op, op.method_override, handle, targets)
        yield op, handle


def route_template(path: str, paths: Iterable[str]) -> str:
    """aiohttp's template of the contract's ``path``, whose parameters never take a segment that another of
    ``paths`` has as a literal in their place: ``/api/v1/conversations/{conversationId}`` does not take
    ``establish``, so that a request there is the literal path's (a GET of it is 405, not a malformed id), as
    the contract reads (the literal wins)."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if not (segment.startswith("{") and segment.endswith("}")):
            continue
        literals = sorted({other[index] for other in (p.split("/") for p in paths) if len(other) == len(segments)
                           and other[index] != segment and not other[index].startswith("{")
                           and all(a == b for i, (a, b) in enumerate(zip(other, segments, strict=True)) if i != index)})
        if literals:
            taken = "|".join(re.escape(literal) for literal in literals)
            segments[index] = f"{{{segment[1:-1]}:(?!(?:{taken})$)[^{{}}/]+}}"
    return "/".join(segments)


def overridable(op: Operation, header: QueryParam, own: RouteHandler,
                targets: Mapping[str, RouteHandler]) -> RouteHandler:
    """``own``, or with the ``header`` the operation of the same path it names, answered exactly as that
    operation answers (for clients whose HTTP stack cannot send custom verbs such as LOOKUP).
    A value the contract does not list is 400 naming the header."""

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        raw = request.headers.get(header.name)
        if raw is None:
            return await own(request)
        method, problems = header.parse(raw)
        if problems:
            raise ValidationFailed(problems=tuple(problems))
        return await targets[method](request)

    handle.__name__ = op.operation_id
    return handle


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or 401 PRT000102 saying what is wrong."""
    if not authorization:
        raise Unauthorized("The Authorization header is missing; send 'Authorization: Bearer <token>'.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def endpoint(op: Operation, handler: AnyHandler, bodies: Bodies, max_json_depth: int) -> RouteHandler:
    """An aiohttp handler that checks a request against ``op`` and passes it to ``handler`` (awaiting its answer
    when it is a coroutine function)."""
    secured = op.secured
    scopes = op.token_scopes
    has_path = bool(op.path_params)
    has_query = bool(op.query_params)
    has_body = op.body_validator is not None

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        # Read the body first: from here on nothing awaits, so the request is authenticated against,
        # checked against and applied to one state, never to one a reset or PUT /__mockhub/state replaced
        # while the body was arriving.
        raw, unread = b"", None
        if has_body:
            try:
                raw = await bodies.read(request)
            except ApiError as exc:  # too large, too many at once, undecodable: answered after a 401, which comes first
                unread = exc
        session = request[SESSION]
        if session.dropped:  # dropped or evicted while the body came: it goes to the session of that name now
            session = request[SESSION] = request[APP][SESSIONS].get(session.name)
        request[APPLIED] = session.generation  # a request is applied once whole, to the state of that moment
        tenant_id = (session.store.tenant_of(bearer_token(request.headers.get("Authorization")), scopes)
                     if secured else "")
        if unread is not None:
            raise unread
        path = op.parse_path(route_of(request)) if has_path else {}
        query = op.parse_query(request.query) if has_query else {}
        body = op.parse_body(raw, request.headers.get("Content-Type"), max_json_depth) if has_body else None
        # an AsyncHandler's coroutine, awaited below (no check for it here: every request passes)
        return handler(Call(request, session, tenant_id, path, query, body))  # type: ignore[return-value]

    handle.__name__ = op.operation_id
    if inspect.iscoroutinefunction(handler):

        async def awaiting(request: web.BaseRequest) -> web.StreamResponse:
            started: Awaitable[web.StreamResponse] = await handle(request)  # type: ignore[assignment]
            return await started

        awaiting.__name__ = op.operation_id
        return _recoding(awaiting, op.problem_codes) if op.problem_codes else awaiting
    return _recoding(handle, op.problem_codes) if op.problem_codes else handle


def _recoding(handle: RouteHandler, codes: Mapping[int, int]) -> RouteHandler:
    """``handle``, its request problems numbered by the operation's own codes (``x-mockhub-problem-codes``)."""

    async def recoding(request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await handle(request)
        except ValidationFailed as exc:
            raise recoded(exc, codes) from None

    recoding.__name__ = handle.__name__
    return recoding
