"""Identity: each tenant's API clients and their named secrets, and the token endpoint's rules
(Identity docs, Authentication; Portal docs, Tenants; decisions.md, Identity).

Every tenant has two clients, one per API: ``hubster.portal.api.<tenant id as 32 hex>`` (scope
``hubster-portal-api``) and ``hubster.engine.api.<...>`` (scope ``hubster-engine-api``). A client
authenticates with any of its secrets that has not expired; the token it gets is signed by
:class:`~mockhub.store.tokens.AccessTokens`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from mockhub.kernel.clock import parse_instant
from mockhub.kernel.errors import (
    ClientNotFound,
    Forbidden,
    InvalidClient,
    InvalidRequest,
    InvalidScope,
    Problem,
    SecretNotFound,
    UnsupportedGrantType,
    ValidationFailed,
)
from mockhub.kernel.text import shown
from mockhub.store.context import Context
from mockhub.store.layered import Layered, OrderedIds, ids_of
from mockhub.store.names import UniqueNames
from mockhub.store.paging import Record

SCOPES = {"portal": "hubster-portal-api", "engine": "hubster-engine-api"}
"""Each API's client kind and the scope its tokens carry (the Engine's also opens the Events API)."""
CLIENT_NAMES = {"portal": "Hubster Portal API Client (Public)", "engine": "Hubster Engine API Client (Public)"}
GRANT_TYPE = "client_credentials"
SECRET_LENGTH = 40
SHOWN_CHARACTERS = 6
"""How much of a secret a client's description shows (the value is shown once, when it is made)."""


def client_id_of(api: str, tenant_id: str) -> str:
    """``hubster.portal.api.00000000000000000000000000000001``: the API's client of the tenant."""
    return f"hubster.{api}.api.{tenant_id.replace('-', '').upper()}"


def expiration_of(text: str) -> str:
    """An expiration as the documentation writes it (``2030-01-31T00:00:00``, UTC) from an ISO 8601 date-time,
    naive meaning UTC (the contract's pattern lets through only days that exist, in the years 1900 to 2999)."""
    return parse_instant(text).strftime("%Y-%m-%dT%H:%M:%S")


def _public(secret: Record, value: str) -> Record:
    """A secret as the API answers it: ``id``, ``name``, ``token`` (``value``) and ``expiration`` if it has one."""
    out = {"id": secret["id"], "name": secret["name"], "token": value}
    if secret.get("expiration"):
        out["expiration"] = secret["expiration"]
    return out


def _cut_short(secret: Record) -> Record:
    """A secret as every answer but the one that makes it shows it: its value's first characters and '...'."""
    return _public(secret, secret["token"][:SHOWN_CHARACTERS] + "...")


def _expired(secret: Record, now: datetime) -> bool:
    expiration = secret.get("expiration")
    return expiration is not None and parse_instant(str(expiration)) <= now


class IdentityStore:
    """Clients by id (case-insensitive, as Identity's database compares them), their secrets by id in creation
    order, secret names unique per client (case-insensitive)."""

    __slots__ = ("_ctx", "clients", "secrets", "_order", "_names", "_last_id")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.clients: Layered[str, Record] = Layered()
        """By lower-case client id: ``clientId``, ``tenantId``, ``api`` (portal or engine), ``name``, ``enabled``."""
        self.secrets: Layered[int, Record] = Layered()
        """By id: ``id``, ``client`` (the lower-case client id), ``name``, ``token`` and maybe ``expiration``."""
        self._order: dict[str, OrderedIds[int]] = {}
        self._names = UniqueNames()
        self._last_id = 0
        """The highest secret id given so far: ids are never used twice in a session."""

    def copy(self, ctx: Context) -> IdentityStore:
        """An independent copy: the copies share what neither has changed."""
        clone = IdentityStore(ctx)
        clone.clients = self.clients.copy()
        clone.secrets = self.secrets.copy()
        clone._order = {client: ids.copy() for client, ids in self._order.items()}
        clone._names = self._names.copy()
        clone._last_id = self._last_id
        return clone

    # --- the data

    def load_clients(self, tenant_id: str, given: Mapping[str, Any]) -> None:
        """The tenant's Portal and Engine clients, as a fixture's ``clients`` describes them (one left out has
        its documented name and no secret); ``ValueError`` for a taken secret id or name."""
        for api in SCOPES:
            spec = given.get(api, {})
            client_id = client_id_of(api, tenant_id)
            key = client_id.lower()
            if spec.get("clientId", client_id).lower() != key:
                raise ValueError(f"clientId {spec['clientId']!r} is not the tenant's {api} client: it is {client_id}")
            if key in self.clients:
                raise ValueError(f"client {client_id} is defined twice")
            self.clients[key] = {"clientId": client_id, "tenantId": tenant_id, "api": api,
                                 "name": spec.get("name", CLIENT_NAMES[api]), "enabled": spec.get("enabled", True)}
            for secret in spec.get("secrets", ()):
                secret_id = secret.get("id", self._last_id + 1)
                if secret_id in self.secrets:
                    raise ValueError(f"secret id {secret_id} is given twice")
                expiration = expiration_of(secret["expiration"]) if "expiration" in secret else None
                self._add(key, secret_id, secret["name"], secret.get("token") or self._new_value(), expiration)

    def dump(self, tenant_id: str) -> dict[str, Any]:
        """The tenant's clients in the fixture format (``clients`` of a tenant record), secrets' values included."""
        out: dict[str, Any] = {}
        for api in SCOPES:
            client = self.clients[client_id_of(api, tenant_id).lower()]
            out[api] = {"clientId": client["clientId"], "name": client["name"], "enabled": client["enabled"],
                        "secrets": [_public(s, s["token"]) for s in self._secrets_of(client)]}
        return out

    # --- the Tenants API (Portal docs, Tenants)

    def client(self, tenant_id: str, client_id: str) -> Record:
        """The client, or 404 PRT000105 if none has the id, 403 PRT000101 if it is another tenant's."""
        client = self.clients.get(client_id.lower())
        if client is None:
            raise ClientNotFound(f"Client '{shown(client_id)}' not found.")
        if client["tenantId"] != tenant_id:
            raise Forbidden(f"Client '{shown(client_id)}' belongs to another tenant.")
        return client

    def describe(self, tenant_id: str, client_id: str) -> Record:
        """Get Client: the client with its scopes, claims and secrets (each secret's value cut short)."""
        client = self.client(tenant_id, client_id)
        return {
            "tenantId": client["tenantId"],
            "clientId": client["clientId"],
            "name": client["name"],
            "enabled": client["enabled"],
            "allowedScopes": [SCOPES[client["api"]]],
            "claims": [{"type": "role", "value": "admin"}, {"type": "tenant", "value": client["tenantId"]}],
            "secrets": [_cut_short(s) for s in self._secrets_of(client)],
        }

    def add_secret(self, tenant_id: str, client_id: str, body: Mapping[str, Any]) -> Record:
        """Add Client Token: a new secret named ``name``, valid until ``expiration`` if given (for ever
        otherwise); the answer is the only one that shows its value."""
        client = self.client(tenant_id, client_id)
        expiration = expiration_of(body["expiration"]) if "expiration" in body else None
        secret = self._add(client["clientId"].lower(), self._last_id + 1, body["name"], self._new_value(),
                           expiration)
        self._ctx.clock.tick()
        return _public(secret, secret["token"])

    def delete_secret(self, tenant_id: str, client_id: str, secret_id: int) -> Record:
        """Delete Client Token: the secret can no longer get tokens; answers it as it was (its value cut short)."""
        client = self.client(tenant_id, client_id)
        key = client["clientId"].lower()
        secret = self.secrets.get(secret_id)
        if secret is None or secret["client"] != key:
            raise SecretNotFound(f"Client '{shown(client_id)}' has no secret {secret_id}.")
        self._ctx.quota.charge(None, secret, self.secrets.owns(secret_id))
        del self.secrets[secret_id]
        self._order[key].remove(secret_id)
        self._names.release(key, secret["name"])
        self._ctx.clock.tick()
        return _cut_short(secret)

    # --- the token endpoint (Identity docs, Authentication)

    def request_token(self, params: Mapping[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """``POST /connect/token``: the client is authenticated first (HTTP Basic or the form's ``client_id`` and
        ``client_secret``), then the grant and the scope are checked; the token response, or the OAuth 2
        error (RFC 6749 section 5.2)."""
        now = self._ctx.clock.now()
        client = self._authenticated(*self._credentials(params, basic), now)
        grant = params.get("grant_type")
        if grant is None:
            raise InvalidRequest(f"The parameter 'grant_type' is missing; send grant_type={GRANT_TYPE}.")
        if grant != GRANT_TYPE:
            raise UnsupportedGrantType(f"The grant type '{shown(grant)}' is not supported; use {GRANT_TYPE}.")
        scope = SCOPES[client["api"]]
        asked = set(params.get("scope", "").split())
        if asked - {scope}:
            raise InvalidScope(f"The client {client['clientId']} may ask for the scope {scope} only, not "
                               f"{', '.join(sorted(asked - {scope}))}.")
        return self._ctx.tokens.issue(client, scope, now, self._ctx.random)

    @staticmethod
    def _credentials(params: Mapping[str, str], basic: tuple[str, str] | None) -> tuple[str, str]:
        """The client id and secret, from HTTP Basic or from the form, never both (RFC 6749 section 2.3)."""
        in_form = "client_id" in params or "client_secret" in params
        if basic is not None:
            if in_form:
                raise InvalidRequest("The client authenticates twice, with HTTP Basic and in the form; use one "
                                     "(RFC 6749 section 2.3).")
            return basic
        if "client_id" not in params:
            raise InvalidClient("No client authentication: send client_id and client_secret in the form, or HTTP "
                                "Basic.")
        if "client_secret" not in params:
            raise InvalidClient("The parameter 'client_secret' is missing.")
        return params["client_id"], params["client_secret"]

    def _authenticated(self, client_id: str, secret: str, now: datetime) -> Record:
        """The client whose secret this is, or 401 ``invalid_client`` saying why not."""
        client = self.clients.get(client_id.lower())
        if client is None:
            raise InvalidClient(f"No client '{shown(client_id)}' exists.")
        if not client["enabled"]:
            raise InvalidClient(f"The client {client['clientId']} is disabled.")
        given = secret.encode("utf-8", "surrogatepass")
        matching = [s for s in self._secrets_of(client)
                    if hmac.compare_digest(s["token"].encode("utf-8", "surrogatepass"), given)]
        if not matching:
            raise InvalidClient(f"The secret is not one of the client {client['clientId']}'s (a deleted secret "
                                "is no longer).")
        if all(_expired(s, now) for s in matching):
            raise InvalidClient(f"The secret '{matching[0]['name']}' of the client {client['clientId']} expired at "
                                f"{matching[0]['expiration']}.")
        return client

    # --- inside

    def _secrets_of(self, client: Record) -> Iterator[Record]:
        ids = self._order.get(client["clientId"].lower())
        return iter(self.secrets.many(ids) if ids is not None else ())

    def _new_value(self) -> str:
        return self._ctx.random.alnum(SECRET_LENGTH)

    def _add(self, client: str, secret_id: int, name: str, value: str, expiration: str | None) -> Record:
        """Store a secret of ``client`` (its lower-case id); 400 PRT000600 for a name the client has."""
        if self._names.taken(client, name):
            raise ValidationFailed(problems=(Problem(600, f"The client already has a secret named '{shown(name)}'."),))
        secret: Record = {"id": secret_id, "client": client, "name": name, "token": value}
        if expiration is not None:
            secret["expiration"] = expiration
        self._ctx.quota.charge(secret, None, False)
        self.secrets[secret_id] = secret
        ids_of(self._order, client).add(secret_id)
        self._names.claim(client, name, str(secret_id))
        self._last_id = max(self._last_id, secret_id)
        return secret
