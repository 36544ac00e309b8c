"""The scenario's Identity steps: tokens asked for the way the documentation says (a form, and HTTP Basic
as OAuth 2 servers take it), each error of RFC 6749 section 5.2 the endpoint can be led to, and a token
used on the API of its scope (Identity docs, Authentication; decisions.md, Identity); and the Tenants API's
steps on the run's client: read it, add a secret that then gets a token, delete it, and the deleted secret
gets none (Portal docs, Tenants)."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from mockhub.verify.client import CLIENTS, HUBS, TOKEN
from mockhub.verify.probe import Probe
from mockhub.verify.scenario import Json, Step

GROUP = "identity"
TENANTS = "tenants"
GRANT = {"grant_type": "client_credentials"}
PORTAL_SCOPE = "hubster-portal-api"


def credentials(probe: Probe, **changes: str) -> dict[str, str]:
    """The run's client credentials in a form, with ``changes``."""
    return {**GRANT, "client_id": probe.client_id, "client_secret": probe.client_secret, **changes}


def basic(client_id: str, secret: str) -> dict[str, str]:
    """The Authorization header of HTTP Basic client authentication (RFC 6749 section 2.3.1: each part
    form-urlencoded first)."""
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def token_in_form(probe: Probe) -> Any:
    answer = await probe.call("POST", TOKEN, 200, token=None, form=credentials(probe))
    token = answer.json()
    probe.same(token, {"token_type": "Bearer"}, "the token")
    return token


TOKEN_IN_FORM: Step[Json] = Step(GROUP, "a token for the client's id and secret in the form", token_in_form,
                                 makes="token", schema="TokenResponse")


async def token_with_basic(probe: Probe) -> None:
    answer = await probe.call("POST", TOKEN, 200, token=None, form=GRANT,
                              headers=basic(probe.client_id, probe.client_secret))
    probe.same(answer.json(), {"token_type": "Bearer"}, "the token")


def refused(status: int, error: str, **changes: str) -> Any:
    """A step that asks with the run's credentials changed by ``changes`` (an empty value: the parameter left
    out) and expects ``status`` with the OAuth 2 ``error``."""

    async def action(probe: Probe) -> None:
        form = {name: value for name, value in credentials(probe, **changes).items() if value}
        await probe.call("POST", TOKEN, status, token=None, form=form, error=error)

    return action


async def unknown_client(probe: Probe) -> None:
    form = {**GRANT, "client_id": probe.unique("client"), "client_secret": "not-a-secret"}
    await probe.call("POST", TOKEN, 401, token=None, form=form, error="invalid_client")


async def not_a_form(probe: Probe) -> None:
    await probe.call("POST", TOKEN, 400, token=None, body=credentials(probe), error="invalid_request")


async def token_opens_its_api(probe: Probe) -> None:
    """A Portal token opens the Portal API; any other is refused there (a token works only for its own API)."""
    token = probe.made(TOKEN_IN_FORM)
    if token["scope"] == PORTAL_SCOPE:
        await probe.call("GET", HUBS, 200, token=token["access_token"], params={"pageSize": "1"})
    else:
        await probe.call("GET", HUBS, 401, token=token["access_token"], params={"pageSize": "1"}, codes=[102])


IDENTITY: tuple[Step[Any], ...] = (
    Step(GROUP, "no client authentication is 401 invalid_client", refused(401, "invalid_client", client_id="",
                                                                          client_secret="")),
    Step(GROUP, "an unknown client is 401 invalid_client", unknown_client),
    Step(GROUP, "a body that is not a form is 400 invalid_request", not_a_form),
    TOKEN_IN_FORM,
    Step(GROUP, "a token with HTTP Basic client authentication", token_with_basic),
    Step(GROUP, "a wrong secret is 401 invalid_client", refused(401, "invalid_client",
                                                                client_secret="mockhub-verify-wrong-secret")),
    Step(GROUP, "no grant_type is 400 invalid_request", refused(400, "invalid_request", grant_type="")),
    Step(GROUP, "a grant other than client_credentials is 400 unsupported_grant_type",
         refused(400, "unsupported_grant_type", grant_type="password")),
    Step(GROUP, "a scope the client does not have is 400 invalid_scope",
         refused(400, "invalid_scope", scope="mockhub-verify-no-such-scope")),
)
"""The Identity steps, in the order they run."""

TOKEN_ON_ITS_API: Step[None] = Step("portal", "an access token works for the API of its scope only",
                                    token_opens_its_api, needs=(TOKEN_IN_FORM,))
"""A Portal step: it runs where the Portal API is (with --only portal it is skipped for want of the token)."""


# -- the Tenants API ---------------------------------------------------------------------------------

def client_path(probe: Probe, *more: str) -> str:
    return "/".join((CLIENTS, urllib.parse.quote(probe.client_id, safe=""), *more))


async def read_client(probe: Probe) -> Any:
    client = (await probe.call("GET", client_path(probe), 200)).json()
    if isinstance(client, dict):
        probe.expect(str(client.get("clientId", "")).lower() == probe.client_id.lower(),
                     f"the client read is {client.get('clientId')!r}, not {probe.client_id}")
    return client


READ_CLIENT: Step[Json] = Step(TENANTS, "read the run's client", read_client, makes="client", schema="Client")


async def read_client_as_other_tenant(probe: Probe) -> None:
    await probe.call("GET", client_path(probe), 403, token=probe.other_token, codes=[101])


async def missing_client(probe: Probe) -> None:
    await probe.call("GET", f"{CLIENTS}/{probe.unique('client')}", 404, codes=[105])


async def add_secret(probe: Probe) -> Any:
    sent = {"name": probe.unique("secret"), "expiration": "2099-01-01T00:00:00"}
    secret = (await probe.call("POST", client_path(probe, "tokens"), 200, body=sent)).json()
    if isinstance(secret, dict) and isinstance(secret.get("id"), int):
        probe.created(client_path(probe, "tokens", str(secret["id"])))
        probe.same(secret, sent, "the new secret")
    return secret


ADD_SECRET: Step[Json] = Step(TENANTS, "add a secret to the client", add_secret, needs=(READ_CLIENT,),
                              makes="secret", schema="ClientToken")


async def secret_name_taken(probe: Probe) -> None:
    name = probe.made(ADD_SECRET)["name"]
    await probe.call("POST", client_path(probe, "tokens"), 400, body={"name": name}, codes=[600])


async def secret_without_name(probe: Probe) -> None:
    await probe.call("POST", client_path(probe, "tokens"), 400, body={"expiration": "2099-01-01T00:00:00"},
                     codes=[301])


async def client_lists_the_secret(probe: Probe) -> None:
    secret = probe.made(ADD_SECRET)
    client = (await probe.call("GET", client_path(probe), 200)).json()
    listed = [s for s in client.get("secrets", ()) if isinstance(s, dict)] if isinstance(client, dict) else []
    probe.expect(any(s.get("id") == secret["id"] and s.get("name") == secret["name"] for s in listed),
                 f"the client's secrets do not list secret {secret['id']}")


async def new_secret_gets_a_token(probe: Probe) -> None:
    secret = probe.made(ADD_SECRET)
    await probe.call("POST", TOKEN, 200, token=None, form=credentials(probe, client_secret=secret["token"]))


async def delete_secret(probe: Probe) -> Any:
    secret = probe.made(ADD_SECRET)
    path = client_path(probe, "tokens", str(secret["id"]))
    if (await probe.call("DELETE", path, 200)).status != 200:
        return None
    probe.deleted(path)
    return secret


DELETE_SECRET: Step[Json] = Step(TENANTS, "delete the secret", delete_secret, needs=(ADD_SECRET,),
                                 makes="deleted secret")


async def deleted_secret_is_gone(probe: Probe) -> None:
    secret = probe.made(DELETE_SECRET)
    await probe.call("DELETE", client_path(probe, "tokens", str(secret["id"])), 404, codes=[105])


async def deleted_secret_gets_no_token(probe: Probe) -> None:
    secret = probe.made(DELETE_SECRET)
    await probe.call("POST", TOKEN, 401, token=None, form=credentials(probe, client_secret=secret["token"]),
                     error="invalid_client")


TENANT_STEPS: tuple[Step[Any], ...] = (
    READ_CLIENT,
    Step(TENANTS, "another tenant's client is 403", read_client_as_other_tenant, other_tenant=True),
    Step(TENANTS, "a client that does not exist is 404", missing_client),
    ADD_SECRET,
    Step(TENANTS, "a secret name the client has is 400", secret_name_taken, needs=(ADD_SECRET,)),
    Step(TENANTS, "a secret without a name is 400", secret_without_name, needs=(READ_CLIENT,)),
    Step(TENANTS, "the client lists the new secret", client_lists_the_secret, needs=(ADD_SECRET,)),
    Step(GROUP, "the new secret gets a token", new_secret_gets_a_token, needs=(ADD_SECRET,)),
    DELETE_SECRET,
    Step(TENANTS, "a deleted secret is 404", deleted_secret_is_gone, needs=(DELETE_SECRET,)),
    Step(GROUP, "a deleted secret gets no token", deleted_secret_gets_no_token, needs=(DELETE_SECRET,)),
)
"""The Tenants API's steps on the run's client, with the Identity steps that need the secret they add."""
