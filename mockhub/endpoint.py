"""The bridge between aiohttp and thin handlers: the contract parses, the handler decides.

Each handler takes a :class:`Call` whose path segments, query and body are already
checked against the contract, and whose tenant is authenticated when the operation is
secured (SPEC section 2: 401 comes before any other check).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mockhub.contracts import Contract, Operation
from mockhub.keys import CONTRACT, SESSION
from mockhub.sessions import Session
from mockhub.store import Store


@dataclass(slots=True)
class Call:
    """A request that passed the contract."""

    request: web.Request
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
    def contract(self) -> Contract:
        """The contract, for handlers that check a body themselves (``x-mockhub-body-checked-by-handler``)."""
        return self.request.app[CONTRACT]


Handler = Callable[[Call], web.StreamResponse]


def endpoint(op: Operation, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that checks a request against ``op`` and passes it to ``handler``."""
    secured = op.secured
    has_path = bool(op.path_params)
    has_query = bool(op.query_params)
    has_body = op.body_validator is not None

    async def handle(request: web.Request) -> web.StreamResponse:
        session = request[SESSION]
        tenant_id = session.store.tenants.authenticate(request.headers.get("Authorization")) if secured else ""
        path = op.parse_path(request.match_info) if has_path else {}
        query = op.parse_query(request.query) if has_query else {}
        body = op.parse_body(await request.read(), request.headers.get("Content-Type")) if has_body else None
        return handler(Call(request, session, tenant_id, path, query, body))

    handle.__name__ = op.operation_id
    return handle
