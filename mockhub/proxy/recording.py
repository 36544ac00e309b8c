"""``--record``: the hubs, integrations, commands, integration points and API clients seen in the target's
answers, as fixture data.

``mockhub serve --fixtures FILE`` then answers the same GETs. Secrets never reach the file: each
tenant learnt from a bearer token gets a generated token instead (the file names the tenant, not the
token it replaces), configuration secrets, and the user and password inside any URL
(``https://user:pass@host/``), are replaced by seeded fakes of the same shape, the same fake
wherever the same secret was seen, and each client secret's value (which the Tenants API shows cut
short, or whole once) by a generated one. Access tokens and token requests are not recorded.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from mockhub.contract.contracts import Contract
from mockhub.kernel.randomness import SeededRandom
from mockhub.store.paging import Record

SECRETS: Mapping[str, tuple[str, ...]] = {
    "TwilioSMS": ("authToken",),
    "Messenger": ("pageAccessToken",),
    "Slack": ("botAccessToken", "appAccessToken"),
    "Direct": ("publicSigningKey", "privateSigningKey"),
    "System": ("publicSigningKey", "privateSigningKey"),
}
"""The configuration fields of each channel that are credentials."""
POINT_SECRETS = ("token_remote", "token_remote2")
"""An integration point's credentials for the remote service (``token_local`` is its own key, kept: LOOKUP
finds a point by it)."""
USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s]+)@")
"""A URL's scheme and user information (up to its last ``@`` before the path): a credential wherever it is."""
PARTIAL_VIEWS = ("mask", "flat")
"""Query parameters that make an integration point answer partial: such answers are not recorded."""
TOKEN_PREFIX = "mockhub-recorded-"
COMMAND_KINDS: Mapping[str, str] = {"Transfer": "transferCommands", "Response": "responseCommands"}
"""Each kind of command as the contract names it (``TransferCommand``), and its section of the fixture format."""
SHOWN: Mapping[str, tuple[str, str]] = {
    "createHub": ("hub", "one"), "getHub": ("hub", "one"), "updateHub": ("hub", "one"), "listHubs": ("hub", "page"),
    "createOrUpdateIntegration": ("integration", "one"), "getIntegration": ("integration", "one"),
    "listIntegrations": ("integration", "page"), "getIntegrationsByChannel": ("integration", "list"),
    "createIntegrationPoint": ("point", "one"), "getIntegrationPoint": ("point", "one"),
    "patchIntegrationPoint": ("point", "one"), "listIntegrationPoints": ("point", "list"),
    **{f"{verb}{Kind}Command": (Kind.lower(), "one") for verb in ("create", "get", "update") for Kind in COMMAND_KINDS},
    **{f"list{Kind}Commands": (Kind.lower(), "list") for Kind in COMMAND_KINDS},
}
"""The operations whose answers show records: which kind, and as one record, a page (``results``) or a list."""
CLIENT_SECRET_LENGTH = 40
"""Characters of the value a recorded client secret gets instead of the one the target knows."""
DELETED: Mapping[str, tuple[str, str]] = {
    "deleteHub": ("hub", "hubId"), "deleteIntegration": ("integration", "integrationId"),
    "deleteIntegrationPoint": ("point", "id"),
    **{f"delete{Kind}Command": (Kind.lower(), "id") for Kind in COMMAND_KINDS},
}
"""The operations that delete a record: its kind, and the path segment that names it."""
LISTED_FROM: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "listHubs": (("pageNumber", "pageSize"), ()), "listIntegrations": (("pageNumber", "pageSize"), ("hubId",)),
    "listIntegrationPoints": (("offset",), ("order", "filter")),
    **{f"list{Kind}Commands": ((), ()) for Kind in COMMAND_KINDS},
}
"""The lists in creation order: the query parameters that place their first item (a page number and size,
an offset, or none: a hub's whole list of commands, which places them among the hub's), and those that make
them a selection, whose places say nothing of the whole."""


def fake_like(value: str, random: SeededRandom) -> str:
    """A random string of ``value``'s shape: digits for digits, letters of the same case (hex digits when
    the value is hex), other characters kept, and a leading kind marker such as Slack's ``xoxb-`` kept."""
    head, sep, rest = value.partition("-")
    if not (sep and head.isalpha() and head.islower() and len(head) <= 5):
        head, sep, rest = "", "", value
    hexadecimal = bool(rest) and all(c in string.hexdigits or not c.isalnum() for c in rest)
    out = []
    for char in rest:
        if char.isdigit():
            out.append(random.choice(string.digits))
        elif char.isalpha() and char.isascii():
            alphabet = "abcdef" if hexadecimal else string.ascii_lowercase
            picked = random.choice(alphabet)
            out.append(picked.upper() if char.isupper() else picked)
        else:
            out.append(char)
    return head + sep + "".join(out)


class Recorder:
    """What the answers showed, kept by id (the latest answer wins; a deletion removes)."""

    def __init__(self, contract: Contract, seed: int) -> None:
        self._contract = contract
        self._random = SeededRandom(seed)
        self._tenants: dict[str, str] = {}
        """tenant id -> the generated token that stands for the tokens seen of it."""
        self._hubs: dict[str, Record] = {}
        self._integrations: dict[str, Record] = {}
        self._points: dict[str, Record] = {}
        self._commands: dict[str, dict[str, Record]] = {kind.lower(): {} for kind in COMMAND_KINDS}
        """Per kind (``transfer``, ``response``): commands by id."""
        self._fakes: dict[str, str] = {}
        self._places: dict[tuple[str, str], int] = {}
        """(kind, id) -> where the record stood in a list in creation order, as last seen."""
        self._clients: dict[str, Record] = {}
        """lower-case client id -> the client as the fixture format holds it, secrets by id, values generated."""
        self._keep: dict[str, Callable[[Any, str | None], str | None]] = {
            "hub": self._hub, "integration": self._integration, "point": self._point,
            **{kind.lower(): self._command(kind) for kind in COMMAND_KINDS}}
        self._client_answers: dict[str, Callable[[Mapping[str, str], Any, str | None], None]] = {
            "getClient": self._client, "addClientToken": self._added_secret, "deleteClientToken": self._deleted_secret}
        """The Tenants API's operations, and what each answer tells of the clients and their secrets."""

    def observe(self, operation: str, segments: Mapping[str, str], query: Mapping[str, str],
                authorization: str | None, status: int, body: Any) -> None:
        """Take what a successful answer to ``operation`` shows (an answer that breaks its schema is left out)."""
        if not 200 <= status < 300 or any(name in query for name in PARTIAL_VIEWS):
            return
        scheme, _, token = (authorization or "").strip().partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
        if operation in self._client_answers:
            self._client_answers[operation](segments, body, bearer)
        elif operation in DELETED:
            kind, key = DELETED[operation]
            self._forget(kind, segments.get(key, "").lower())
        elif operation in SHOWN:
            kind, shape = SHOWN[operation]
            items = [body] if shape == "one" else body.get("results") if isinstance(body, dict) else body
            first = self._first_place(operation, query)
            for index, item in enumerate(items if isinstance(items, list) else ()):
                kept = self._keep[kind](item, bearer)
                if kept is not None and first is not None:
                    self._places[(kind, kept)] = first + index

    def _first_place(self, operation: str, query: Mapping[str, str]) -> int | None:
        """Where the first item of a list answer stands in creation order; ``None`` when it says nothing."""
        if operation not in LISTED_FROM or any(name in query for name in LISTED_FROM[operation][1]):
            return None
        params = self._contract.operations[operation].query_params
        numbers = [int(query.get(name, params[name].default)) for name in LISTED_FROM[operation][0]]
        return numbers[0] * numbers[1] if len(numbers) == 2 else numbers[0] if numbers else 0

    def _fits(self, schema: str, value: Any) -> bool:
        return bool(self._contract.schema(schema).is_valid(value))

    def _hub(self, hub: Any, token: str | None) -> str | None:
        if not self._fits("Hub", hub):
            return None
        if token is not None and hub["tenantId"] not in self._tenants:
            self._tenants[hub["tenantId"]] = TOKEN_PREFIX + self._random.hex(32)
        key: str = hub["hubId"].lower()
        self._hubs[key] = dict(hub)
        return key

    def _forget(self, kind: str, key: str) -> None:
        """A deletion: the record goes (a hub's integrations and commands with it)."""
        if kind == "hub":
            self._hubs.pop(key, None)
            for records in (self._integrations, *self._commands.values()):
                for record_id in [k for k, r in records.items() if r["hubId"].lower() == key]:
                    del records[record_id]
        else:
            self._commands.get(kind, self._integrations if kind == "integration" else self._points).pop(key, None)

    def _integration(self, integration: Any, _token: str | None) -> str | None:
        if not self._fits("Integration", integration):
            return None
        record = self._without_userinfo(integration)
        configuration = dict(record["configuration"])
        for name in SECRETS.get(record["channelId"], ()):
            if isinstance(configuration.get(name), str):
                configuration[name] = self._fake(configuration[name])
        record["configuration"] = configuration
        key: str = record["integrationId"].lower()
        self._integrations[key] = record
        return key

    def _command(self, kind: str) -> Callable[[Any, str | None], str | None]:
        """What keeps a command of ``kind`` (``Transfer``, ``Response``) that an answer showed: no field of one is
        a secret, but a URL in it (its url, a message's links) may hold a password."""
        commands = self._commands[kind.lower()]

        def keep(command: Any, _token: str | None) -> str | None:
            if not self._fits(f"{kind}Command", command):
                return None
            key: str = command["commandId"].lower()
            commands[key] = self._without_userinfo(command)
            return key

        return keep

    def _point(self, point: Any, _token: str | None) -> str | None:
        if not self._fits("IntegrationPoint", point):
            return None
        record = self._without_userinfo(point)
        for name in POINT_SECRETS:
            if record.get(name):
                record[name] = self._fake(record[name])
        key: str = record["id"].lower()
        self._points[key] = record
        return key

    def _client(self, _segments: Mapping[str, str], client: Any, token: str | None) -> None:
        """Get Client: the client, its secrets with generated values (the answer cuts them short)."""
        if not self._fits("Client", client) or not client["clientId"].lower().startswith(("hubster.portal.api.",
                                                                                           "hubster.engine.api.")):
            return
        if token is not None and client["tenantId"] not in self._tenants:
            self._tenants[client["tenantId"]] = TOKEN_PREFIX + self._random.hex(32)
        known = self._clients.get(client["clientId"].lower(), {}).get("secrets", {})
        secrets = {s["id"]: known.get(s["id"]) or self._secret(s) for s in client["secrets"]}
        self._clients[client["clientId"].lower()] = {
            "tenantId": client["tenantId"], "api": client["clientId"].split(".")[1],
            "record": {"clientId": client["clientId"], "name": client["name"], "enabled": client["enabled"]},
            "secrets": secrets}

    def _added_secret(self, segments: Mapping[str, str], secret: Any, _token: str | None) -> None:
        """Add Client Token: the new secret, with a generated value, on a client already seen."""
        client = self._clients.get(segments.get("clientId", "").lower())
        if client is not None and self._fits("ClientToken", secret):
            client["secrets"][secret["id"]] = self._secret(secret)

    def _deleted_secret(self, segments: Mapping[str, str], _body: Any, _token: str | None) -> None:
        client = self._clients.get(segments.get("clientId", "").lower())
        if client is not None and str(segments.get("tokenId", "")).isdigit():
            client["secrets"].pop(int(segments["tokenId"]), None)

    def _secret(self, secret: Mapping[str, Any]) -> Record:
        """A secret as the fixture format holds it, its value generated: the target's is never written."""
        kept = {key: secret[key] for key in ("id", "name", "expiration") if key in secret}
        return {**kept, "token": self._random.alnum(CLIENT_SECRET_LENGTH)}

    def _clients_of(self, tenant_id: str) -> dict[str, Any]:
        """The ``clients`` of a recorded tenant: those seen, each with its secrets."""
        return {client["api"]: {**client["record"], "secrets": list(client["secrets"].values())}
                for client in self._clients.values() if client["tenantId"] == tenant_id}

    def _in_order(self, kind: str, records: dict[str, Record]) -> list[Record]:
        """The records in creation order as the lists showed it; those no list placed after, as first seen."""
        seen = {key: index for index, key in enumerate(records)}
        ordered = sorted(records, key=lambda key: (0, self._places[(kind, key)], seen[key])
                         if (kind, key) in self._places else (1, 0, seen[key]))
        return [records[key] for key in ordered]

    def _without_userinfo(self, value: Any) -> Any:
        """``value`` (a record, a copy) with the user information of every URL in its strings faked."""
        if isinstance(value, str):
            return USERINFO.sub(lambda found: f"{found[1]}{self._fake(found[2])}@", value) if "@" in value else value
        if isinstance(value, dict):
            return {key: self._without_userinfo(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._without_userinfo(item) for item in value]
        return value

    def _fake(self, secret: str) -> str:
        fake = self._fakes.get(secret)
        if fake is None:
            fake = self._fakes[secret] = fake_like(secret, self._random)
        return fake

    def fixture(self) -> tuple[dict[str, Any], list[str]]:
        """The fixture data, and what had to be left out of it (records whose hub or tenant was never seen)."""
        left_out: list[str] = []
        hubs = []
        for hub in self._in_order("hub", self._hubs):
            if hub["tenantId"] in self._tenants:
                hubs.append(hub)
            else:
                left_out.append(f"hub {hub['hubId']}: no token of its tenant was seen")
        kept = {h["hubId"].lower() for h in hubs}
        integrations = []
        for integration in self._in_order("integration", self._integrations):
            if integration["hubId"].lower() in kept:
                integrations.append(integration)
            else:
                left_out.append(f"integration {integration['integrationId']}: its hub was not seen")
        commands: dict[str, list[Record]] = {}
        for kind, section in COMMAND_KINDS.items():
            commands[section] = []
            for command in self._in_order(kind.lower(), self._commands[kind.lower()]):
                if command["hubId"].lower() in kept:
                    commands[section].append(command)
                else:
                    left_out.append(f"{kind.lower()} command {command['commandId']}: its hub was not seen")
        tenants = [{"tenantId": tenant_id, "name": f"recorded tenant {n}", "tokens": [token],
                    **({"clients": clients} if (clients := self._clients_of(tenant_id)) else {})}
                   for n, (tenant_id, token) in enumerate(self._tenants.items(), 1)]
        data = {"tenants": tenants, "hubs": hubs, "integrations": integrations, **commands,
                "integrationPoints": self._in_order("point", self._points)}
        return data, left_out

