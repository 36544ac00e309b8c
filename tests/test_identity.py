"""Identity over HTTP: POST /connect/token as the documentation and OAuth 2 describe it, the tokens it gives,
their expiry by the session's clock and the API each is for (decisions.md, Identity)."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

import pytest

from tests.conftest import OTHER_TOKEN, TENANT_A, TENANT_B, TOKEN, Api, MakeApi, Reply

TOKEN_PATH = "/connect/token"
PORTAL_CLIENT = "hubster.portal.api.00000000000000000000000000000001"
PORTAL_SECRET = "mockhub-dev-portal-secret"
ENGINE_CLIENT = "hubster.engine.api.00000000000000000000000000000001"
ENGINE_SECRET = "mockhub-dev-engine-secret"
OTHER_PORTAL_CLIENT = "hubster.portal.api.ABC1E69FC888875FEE2C45789FD66A00"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def ask(api: Api, form: dict[str, str] | None = None, *, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> Reply:
    """POST /connect/token with a form (urlencoded here, as a client library does)."""
    data = raw if raw is not None else urllib.parse.urlencode(form or {}).encode()
    return await api.request("POST", TOKEN_PATH, token=None, data=data, headers={**FORM, **(headers or {})})


def credentials(client_id: str = PORTAL_CLIENT, secret: str = PORTAL_SECRET, **more: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **more}


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def access_token(api: Api, client_id: str = PORTAL_CLIENT, secret: str = PORTAL_SECRET) -> str:
    reply = await ask(api, credentials(client_id, secret))
    assert reply.status == 200, reply.body
    return str(reply.json()["access_token"])


def oauth_error(reply: Reply, status: int, error: str) -> str:
    """The error_description of an OAuth 2 error answer that has ``status`` and ``error``."""
    assert (reply.status, reply.json()["error"]) == (status, error), reply.body
    assert reply.headers["Cache-Control"] == "no-store"
    return str(reply.json()["error_description"])


async def advance(api: Api, duration: str) -> dict[str, Any]:
    reply = await api.request("POST", "/__mockhub/clock", token=None, json_body={"advance": duration})
    assert reply.status == 200, reply.body
    return dict(reply.json())


# -- the documented request and answer ------------------------------------------------------------

async def test_a_form_post_gets_a_bearer_token_for_the_portal(api: Api) -> None:
    reply = await ask(api, credentials())
    assert reply.status == 200
    token = reply.json()
    assert {k: token[k] for k in ("expires_in", "token_type", "scope")} == {
        "expires_in": 2592000, "token_type": "Bearer", "scope": "hubster-portal-api"}
    assert (reply.headers["Cache-Control"], reply.headers["Pragma"]) == ("no-store", "no-cache")
    hubs = await api.get("/api/v1/hubs", token=token["access_token"])
    assert hubs.status == 200
    assert {h["tenantId"] for h in hubs.json()["results"]} == {TENANT_A}


async def test_the_token_is_a_jwt_whose_claims_say_client_tenant_scope_and_expiry(api: Api) -> None:
    header, payload, signature = (await access_token(api)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == "HS256"
    assert claims["client_id"] == PORTAL_CLIENT and claims["tenant"] == TENANT_A
    assert claims["scope"] == ["hubster-portal-api"] and claims["aud"] == "hubster-portal-api"
    assert claims["exp"] - claims["iat"] == 2592000
    assert claims["iat"] == 1609459200  # 2021-01-01T00:00:00Z: the session's pinned clock
    assert signature


async def test_http_basic_client_authentication_works(api: Api) -> None:
    reply = await ask(api, {"grant_type": "client_credentials"}, headers=basic(PORTAL_CLIENT, PORTAL_SECRET))
    assert reply.status == 200 and reply.json()["scope"] == "hubster-portal-api"


async def test_http_basic_takes_the_id_and_secret_form_encoded(make_api: MakeApi) -> None:
    """RFC 6749 section 2.3.1: each part is form-urlencoded before it goes into the Basic credentials."""
    secret = "b+c:d%25&="
    data = {"tenants": [{"tenantId": TENANT_A, "clients": {"portal": {"secrets": [{"name": "odd", "token": secret}]}}}]}
    api = await make_api(fixtures=(data,))
    grant = {"grant_type": "client_credentials"}
    assert (await ask(api, grant, headers=basic(PORTAL_CLIENT, secret))).status == 200
    unencoded = "Basic " + base64.b64encode(f"{PORTAL_CLIENT}:{secret}".encode()).decode()
    assert (await ask(api, grant, headers={"Authorization": unencoded})).status == 401  # '+' reads as a space


async def test_the_client_id_is_compared_without_case(api: Api) -> None:
    assert (await ask(api, credentials(PORTAL_CLIENT.lower()))).status == 200


async def test_each_tenant_has_an_engine_client_whose_token_is_for_the_engine(api: Api) -> None:
    reply = await ask(api, credentials(ENGINE_CLIENT, ENGINE_SECRET))
    assert reply.json()["scope"] == "hubster-engine-api"
    refused = await api.get("/api/v1/hubs", token=reply.json()["access_token"])
    assert refused.status == 401 and refused.error_codes() == [102]
    assert "for hubster-engine-api" in refused.json()["errors"][0]["description"]
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="mockhub", error="invalid_token"'


async def test_a_token_acts_for_its_clients_tenant(api: Api) -> None:
    token = await access_token(api, OTHER_PORTAL_CLIENT, "mockhub-other-portal-secret")
    hubs = (await api.get("/api/v1/hubs", token=token)).json()
    assert {h["tenantId"] for h in hubs["results"]} == {TENANT_B}


# -- errors as OAuth 2 answers them (RFC 6749 section 5.2) ------------------------------------------

@pytest.mark.parametrize(("form", "says"), [
    ({"grant_type": "client_credentials"}, "No client authentication"),
    (credentials("hubster.portal.api.FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"), "No client"),
    (credentials(secret="wrong"), "is not one of the client"),
    ({"grant_type": "client_credentials", "client_id": PORTAL_CLIENT}, "'client_secret' is missing"),
    ({"grant_type": "password"}, "No client authentication"),  # the client is authenticated first
])
async def test_a_client_that_does_not_authenticate_is_401_invalid_client(
        api: Api, form: dict[str, str], says: str) -> None:
    reply = await ask(api, form)
    assert says in oauth_error(reply, 401, "invalid_client")
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="mockhub"'


async def test_basic_credentials_that_cannot_be_read_are_401(api: Api) -> None:
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()):
        reply = await ask(api, {"grant_type": "client_credentials"}, headers={"Authorization": header})
        oauth_error(reply, 401, "invalid_client")


@pytest.mark.parametrize(("form", "error", "says"), [
    (credentials(grant_type=""), "unsupported_grant_type", "'' is not supported"),
    (credentials(grant_type="password"), "unsupported_grant_type", "use client_credentials"),
    (credentials(scope="hubster-engine-api"), "invalid_scope", "may ask for the scope hubster-portal-api only"),
])
async def test_a_wrong_grant_or_scope_is_400(api: Api, form: dict[str, str], error: str, says: str) -> None:
    assert says in oauth_error(await ask(api, form), 400, error)


async def test_a_missing_grant_type_is_400_invalid_request(api: Api) -> None:
    form = credentials()
    del form["grant_type"]
    assert "'grant_type' is missing" in oauth_error(await ask(api, form), 400, "invalid_request")


async def test_the_clients_own_scope_may_be_asked_for(api: Api) -> None:
    assert (await ask(api, credentials(scope="hubster-portal-api"))).status == 200


@pytest.mark.parametrize(("raw", "says"), [
    (b"grant_type=client_credentials&grant_type=client_credentials", "given more than once"),
    (b"grant_type=client_credentials&client_secret=%FF", "not valid UTF-8"),
    (b"", "A request body is required"),
])
async def test_a_form_that_cannot_be_read_is_400_invalid_request(api: Api, raw: bytes, says: str) -> None:
    assert says in oauth_error(await ask(api, raw=raw), 400, "invalid_request")


async def test_a_json_body_is_400_invalid_request(api: Api) -> None:
    reply = await api.request("POST", TOKEN_PATH, token=None, json_body=credentials())
    assert "must be application/x-www-form-urlencoded" in oauth_error(reply, 400, "invalid_request")


async def test_authenticating_twice_is_400_invalid_request(api: Api) -> None:
    reply = await ask(api, credentials(), headers=basic(PORTAL_CLIENT, PORTAL_SECRET))
    assert "authenticates twice" in oauth_error(reply, 400, "invalid_request")


async def test_a_disabled_client_gets_no_token(make_api: MakeApi) -> None:
    data = {"tenants": [{"tenantId": TENANT_A, "clients": {"portal": {"enabled": False, "secrets": [
        {"name": "s", "token": "secret"}]}}}]}
    api = await make_api(fixtures=(data,))
    assert "is disabled" in oauth_error(await ask(api, credentials(secret="secret")), 401, "invalid_client")


async def test_other_methods_paths_and_faults_answer_in_the_oauth_format(api: Api) -> None:
    wrong_method = await api.get(TOKEN_PATH, token=None)
    assert (wrong_method.status, wrong_method.headers["Allow"]) == (405, "POST")
    assert wrong_method.json()["error"] == "invalid_request"
    assert (await api.get("/connect/authorize", token=None)).json()["error"] == "invalid_request"
    outage = await ask(api, credentials(), headers={"X-Mockhub-Fault": "503"})
    assert (outage.json()["error"], outage.headers["Retry-After"]) == ("temporarily_unavailable", "1")
    broken = await ask(api, credentials(), headers={"X-Mockhub-Fault": "500"})
    assert broken.json()["error_description"].endswith("(code: IDT000100)")
    refused = await ask(api, credentials(), headers={"X-Mockhub-Fault": "401"})
    assert (refused.json()["error"], refused.headers["WWW-Authenticate"]) == ("invalid_client", 'Basic realm="mockhub"')


# -- expiry by the session's clock -------------------------------------------------------------------

async def test_a_token_is_refused_once_the_clock_passes_expires_in_and_a_new_one_works(api: Api) -> None:
    token = await access_token(api)
    await advance(api, "PT2591999S")  # one second before the end: still good
    assert (await api.get("/api/v1/hubs", token=token)).status == 200
    assert (await advance(api, "PT1S"))["now"] == "2021-01-31T00:00:00.0000000Z"
    expired = await api.get("/api/v1/hubs", token=token)
    assert expired.status == 401 and expired.error_codes() == [102]
    assert "expired at 2021-01-31T00:00:00Z" in expired.json()["errors"][0]["description"]
    assert expired.headers["WWW-Authenticate"] == 'Bearer realm="mockhub", error="invalid_token"'
    assert (await api.get("/api/v1/hubs", token=await access_token(api))).status == 200


async def test_the_static_tokens_keep_working_whatever_the_clock(api: Api) -> None:
    await advance(api, "P3650D")
    assert (await api.get("/api/v1/hubs", token=TOKEN)).status == 200
    assert (await api.get("/api/v1/hubs", token=OTHER_TOKEN)).status == 200


async def test_token_lifetime_sets_expires_in(make_api: MakeApi) -> None:
    api = await make_api(token_lifetime=60)
    reply = await ask(api, credentials())
    assert reply.json()["expires_in"] == 60
    await advance(api, "PT60S")
    assert (await api.get("/api/v1/hubs", token=reply.json()["access_token"])).status == 401


async def test_the_clock_and_expiry_are_per_session(api: Api) -> None:
    token = await access_token(api)
    moved = await api.request("POST", "/__mockhub/clock", token=None, json_body={"advance": "P31D"},
                              headers={"X-Mockhub-Session": "later"})
    assert moved.json()["session"] == "later"
    assert (await api.get("/api/v1/hubs", token=token, headers={"X-Mockhub-Session": "later"})).status == 401
    assert (await api.get("/api/v1/hubs", token=token)).status == 200  # the default session's clock stayed


async def test_a_token_from_before_a_reset_that_rewound_the_clock_is_not_valid_yet(api: Api) -> None:
    await advance(api, "P1D")
    token = await access_token(api)
    assert (await api.request("POST", "/__mockhub/reset", token=None)).status == 200
    refused = await api.get("/api/v1/hubs", token=token)
    assert refused.status == 401
    assert "not valid before 2021-01-02T00:00:00Z" in refused.json()["errors"][0]["description"]


async def test_an_expired_secret_gets_no_token(make_api: MakeApi) -> None:
    data = {"tenants": [{"tenantId": TENANT_A, "tokens": ["t"], "clients": {"portal": {"secrets": [
        {"name": "short", "token": "short-lived", "expiration": "2021-01-02T00:00:00"}]}}}]}
    api = await make_api(fixtures=(data,))
    assert (await ask(api, credentials(secret="short-lived"))).status == 200
    await advance(api, "P1D")
    says = oauth_error(await ask(api, credentials(secret="short-lived")), 401, "invalid_client")
    assert "expired at 2021-01-02T00:00:00" in says


# -- a token works only for its own API (the Engine's side: tests/test_engine.py) -----------------------------

# -- tokens are the server's, not the session's state --------------------------------------------------

async def test_the_same_seed_and_clock_give_the_same_token_and_another_seed_refuses_it(make_api: MakeApi) -> None:
    first, again, other = await make_api(), await make_api(), await make_api(seed=7)
    token = await access_token(first)
    assert await access_token(again) == token
    assert (await again.get("/api/v1/hubs", token=token)).status == 200  # a restarted server takes it
    refused = await other.get("/api/v1/hubs", token=token)
    assert refused.status == 401 and "unknown" in refused.body.decode()


async def test_a_token_whose_tenant_left_the_sessions_data_is_refused(api: Api) -> None:
    token = await access_token(api)
    data = {"tenants": [{"tenantId": TENANT_B, "tokens": ["b"]}]}
    assert (await api.request("PUT", "/__mockhub/state", token=None, json_body=data)).status == 200
    refused = await api.get("/api/v1/hubs", token=token)
    assert refused.status == 401 and "not in this session's data" in refused.body.decode()


async def test_a_tampered_token_is_refused(api: Api) -> None:
    header, payload, signature = (await access_token(api)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 3600
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for token in (f"{header}.{forged}.{signature}", f"{header}.{payload}.{signature[:-2]}", "a.b.c"):
        reply = await api.get("/api/v1/hubs", token=token)
        assert reply.status == 401 and "unknown" in reply.body.decode(), token


# -- the journal never shows a secret ------------------------------------------------------------------

async def test_the_journal_masks_the_client_secret_and_basic_credentials(api: Api) -> None:
    await ask(api, credentials())
    await ask(api, {"grant_type": "client_credentials"}, headers=basic(PORTAL_CLIENT, PORTAL_SECRET))
    journal = (await api.get("/__mockhub/requests", token=None)).json()
    shown = json.dumps(journal)
    assert PORTAL_SECRET not in shown and base64.b64encode(PORTAL_SECRET.encode()).decode()[:8] not in shown
    assert journal[0]["body"] == f"grant_type=client_credentials&client_id={PORTAL_CLIENT}&client_secret=****"
    assert journal[1]["headers"]["Authorization"].endswith("****")
