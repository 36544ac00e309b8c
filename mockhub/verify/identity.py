"""The scenario's Identity steps: tokens asked for the way the documentation says (a form, and HTTP Basic
as OAuth 2 servers take it), each error of RFC 6749 section 5.2 the endpoint can be led to, and a token
used on the API of its scope (Identity docs, Authentication; decisions.md, Identity)."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from mockhub.verify.client import HUBS, TOKEN
from mockhub.verify.probe import Probe
from mockhub.verify.scenario import Json, Step

GROUP = "identity"
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
