"""The HTTP side of a verify run: each request sent with the run's token, and whatever a POST made
remembered, so that the run deletes it at the end even when the step that made it failed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from mockhub.kernel import jsonio
from mockhub.kernel.streams import first_bytes
from mockhub.settings import Settings

HUBS = "/api/v1/hubs"
INTEGRATIONS = "/api/v1/integrations"
TRANSFER_COMMANDS = "/api/v1/commands/transfers"
RESPONSE_COMMANDS = "/api/v1/commands/responses"
POINTS = "/rest/v1/service/integration_points"
TOKEN = "/connect/token"
CLIENTS = "/api/v1/tenants/clients"
ESTABLISH = "/api/v1/conversations/establish"
CONVERSATIONS = "/api/v1/conversations"
INTERACTIONS = "/api/v1/interactions/activities"
DIRECT = "/inbound/customer/v1/direct/activity"


class Unreachable(Exception):
    """The server does not accept connections: nothing else can be checked."""


def unreachable(exc: aiohttp.ClientConnectorError) -> Unreachable:
    """What a failed connection says in a report: the host, the port and the reason (aiohttp's own text names
    "ssl:default" even for http)."""
    reason = os.strerror(exc.os_error.errno) if exc.os_error.errno else str(exc.os_error)
    return Unreachable(f"cannot connect to {exc.host}:{exc.port}: {reason}")


async def read_at_most(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of an answer's body, and whether it went on past them (the rest is never read:
    a server answering without end costs the checker nothing)."""
    body = await first_bytes(response.content.read, limit)
    return body, len(body) >= limit and bool(await response.content.read(1))


@dataclass(frozen=True)
class Answer:
    """A server's answer to one request."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    cut: bool = False
    """The body went on past what the client reads of one answer: ``body`` is its beginning."""

    def json(self) -> Any:
        """The body as JSON; ``None`` when it is not (the contract check has said so already)."""
        try:
            return jsonio.loads(self.body)
        except jsonio.JsonError:
            return None


class Client:
    """Sends a run's requests to ``base_url``; the Portal API's carry a bearer token, Era's none."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str,
                 answer_bytes: int = Settings.verify_answer_bytes) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.answer_bytes = answer_bytes
        """Bytes read of one answer at most."""
        self._created: dict[str, bool] = {}  # paths to delete at the end, in creation order

    async def send(self, method: str, path: str, data: bytes | None, content_type: str, token: str | None,
                   params: Mapping[str, str] | None, extra: Mapping[str, str] | None = None) -> Answer:
        """Send one request (``token`` None: without Authorization; ``extra``: more headers); raises
        :class:`Unreachable`."""
        headers = {"Accept": "application/json", **(extra or {})}
        if token is not None and not path.startswith(POINTS):
            headers["Authorization"] = f"Bearer {token}"
        if data is not None:
            headers["Content-Type"] = content_type
        try:
            async with self.session.request(method, self.base_url + path, data=data, headers=headers, params=params,
                                            allow_redirects=False) as response:
                answer = Answer(response.status, response.headers, *await read_at_most(response, self.answer_bytes))
        except aiohttp.ClientConnectorError as exc:
            raise unreachable(exc) from None
        if 200 <= answer.status < 300 and method == "POST" and not answer.cut:
            self._note_created(path, answer.json())
        return answer

    def _note_created(self, path: str, value: Any) -> None:
        """Remember what a POST to ``path`` made (even one that should have failed) so that clean-up deletes it."""
        if not isinstance(value, dict):
            return
        if "commandId" in value:  # POST {collection}/{hubId}: the command is {collection}/{commandId}
            self._created.setdefault(f"{path.rsplit('/', 1)[0]}/{value['commandId']}", True)
        elif "integrationId" in value:
            self._created.setdefault(f"{INTEGRATIONS}/{value['integrationId']}", True)
        elif "hubId" in value and "tenantId" in value:
            self._created.setdefault(f"{HUBS}/{value['hubId']}", True)
        elif "token_local" in value and "id" in value:
            self._created.setdefault(f"{POINTS}/{value['id']}", True)

    def created(self, path: str) -> None:
        """``path`` was made and is to be deleted at the end (what a POST's answer does not say by its shape)."""
        self._created.setdefault(path, True)

    def deleted(self, path: str) -> None:
        """``path`` is gone: clean-up need not delete it."""
        self._created.pop(path, None)

    async def clean_up(self) -> list[str]:
        """Delete what the run made and still exists, newest first; says what could not be deleted."""
        left = []
        for path in reversed(list(self._created)):
            headers = {} if path.startswith(POINTS) else {"Authorization": f"Bearer {self.token}"}
            try:
                async with self.session.delete(self.base_url + path, headers=headers) as response:
                    if response.status >= 300 and response.status != 404:
                        left.append(f"{path} (DELETE answered {response.status})")
            except (TimeoutError, aiohttp.ClientError) as exc:
                left.append(f"{path} ({exc!r})")
        return left
