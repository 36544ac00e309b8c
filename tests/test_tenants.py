"""The Tenants API over HTTP: a tenant's clients and their named secrets (Portal docs, Tenants), within the
tenant, and what a secret added or deleted does to the tokens it gets (decisions.md, Identity)."""

from __future__ import annotations

import pytest

from tests.conftest import OTHER_TOKEN, TENANT_A, Api, MakeApi
from tests.test_identity import (
    ENGINE_CLIENT,
    OTHER_PORTAL_CLIENT,
    PORTAL_CLIENT,
    PORTAL_SECRET,
    access_token,
    advance,
    ask,
    credentials,
    oauth_error,
)

CLIENTS = "/api/v1/tenants/clients"


async def test_get_client_answers_the_documented_shape_with_secrets_cut_short(api: Api) -> None:
    reply = await api.get(f"{CLIENTS}/{PORTAL_CLIENT}")
    assert reply.status == 200
    assert reply.json() == {
        "tenantId": TENANT_A,
        "clientId": PORTAL_CLIENT,
        "name": "Hubster Portal API Client (Public)",
        "enabled": True,
        "allowedScopes": ["hubster-portal-api"],
        "claims": [{"type": "role", "value": "admin"}, {"type": "tenant", "value": TENANT_A}],
        "secrets": [{"id": 1, "name": "mockhub dev portal secret", "token": "mockhu..."}],
    }
    engine = (await api.get(f"{CLIENTS}/{ENGINE_CLIENT.lower()}")).json()  # the id in any case
    assert (engine["clientId"], engine["allowedScopes"]) == (ENGINE_CLIENT, ["hubster-engine-api"])


async def test_another_tenants_client_is_403_and_an_unknown_one_404(api: Api) -> None:
    other = await api.get(f"{CLIENTS}/{OTHER_PORTAL_CLIENT}")
    assert (other.status, other.error_codes()) == (403, [101])
    assert (await api.get(f"{CLIENTS}/{OTHER_PORTAL_CLIENT}", token=OTHER_TOKEN)).status == 200
    missing = await api.get(f"{CLIENTS}/hubster.portal.api.FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")
    assert (missing.status, missing.error_codes()) == (404, [105])
    for refused in (await api.post(f"{CLIENTS}/{OTHER_PORTAL_CLIENT}/tokens", {"name": "mine now"}),
                    await api.delete(f"{CLIENTS}/{OTHER_PORTAL_CLIENT}/tokens/3")):
        assert (refused.status, refused.error_codes()) == (403, [101])


async def test_the_tenants_api_takes_an_access_token_of_the_portal_and_refuses_the_engines(api: Api) -> None:
    assert (await api.get(f"{CLIENTS}/{PORTAL_CLIENT}", token=await access_token(api))).status == 200
    engine = await access_token(api, ENGINE_CLIENT, "mockhub-dev-engine-secret")
    assert (await api.get(f"{CLIENTS}/{PORTAL_CLIENT}", token=engine)).status == 401


async def test_a_secret_added_gets_tokens_at_once_and_deleted_gets_invalid_client(api: Api) -> None:
    added = await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": "ci", "expiration": "2030-01-31T00:00:00"})
    assert added.status == 200
    secret = added.json()
    assert (secret["id"], secret["name"], secret["expiration"]) == (5, "ci", "2030-01-31T00:00:00")
    assert len(secret["token"]) == 40
    token = await access_token(api, PORTAL_CLIENT, secret["token"])
    listed = (await api.get(f"{CLIENTS}/{PORTAL_CLIENT}")).json()["secrets"]
    assert listed[-1] == {**secret, "token": secret["token"][:6] + "..."}

    deleted = await api.delete(f"{CLIENTS}/{PORTAL_CLIENT}/tokens/{secret['id']}")
    assert deleted.status == 200 and deleted.json() == listed[-1]
    says = oauth_error(await ask(api, credentials(secret=secret["token"])), 401, "invalid_client")
    assert "a deleted secret is no longer" in says
    # the token it got before stays valid until it expires (decisions.md, Identity)
    assert (await api.get("/api/v1/hubs", token=token)).status == 200
    again = await api.delete(f"{CLIENTS}/{PORTAL_CLIENT}/tokens/{secret['id']}")
    assert (again.status, again.error_codes()) == (404, [105])
    assert (await ask(api, credentials())).status == 200  # the client's other secret still works


async def test_a_secret_works_until_its_expiration_by_the_sessions_clock(api: Api) -> None:
    secret = (await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens",
                             {"name": "a day", "expiration": "2021-01-02T01:00:00+01:00"})).json()
    assert secret["expiration"] == "2021-01-02T00:00:00"  # UTC, as the documentation writes it
    assert (await ask(api, credentials(secret=secret["token"]))).status == 200
    await advance(api, "P1D")
    says = oauth_error(await ask(api, credentials(secret=secret["token"])), 401, "invalid_client")
    assert "expired at 2021-01-02T00:00:00" in says


async def test_a_secret_without_expiration_works_for_ever(api: Api) -> None:
    secret = (await api.post(f"{CLIENTS}/{ENGINE_CLIENT}/tokens", {"name": "forever"})).json()
    assert "expiration" not in secret
    await advance(api, "P36500D")
    assert (await ask(api, credentials(ENGINE_CLIENT, secret["token"]))).json()["scope"] == "hubster-engine-api"


@pytest.mark.parametrize(("body", "code", "says"), [
    ({}, 301, "Property 'name' is required."),
    ({"name": ""}, 206, "Property 'name' must not be empty."),
    ({"name": "x", "color": "red"}, 303, "Property 'color' is not supported."),
    ({"name": "x", "expiration": "tomorrow"}, 206, "Value 'tomorrow' of 'expiration' is not valid."),
    ({"name": "x", "expiration": "2030-02-29T00:00:00"}, 206, "Value '2030-02-29T00:00:00' of 'expiration' is not"),
    ({"name": "MOCKHUB DEV PORTAL SECRET"}, 600, "already has a secret named"),
])
async def test_a_bad_secret_is_400_and_adds_nothing(api: Api, body: dict[str, str], code: int, says: str) -> None:
    reply = await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", body)
    assert reply.status == 400 and code in reply.error_codes()
    assert says in reply.body.decode()
    assert len((await api.get(f"{CLIENTS}/{PORTAL_CLIENT}")).json()["secrets"]) == 1


async def test_a_token_id_that_is_not_a_number_is_400_and_another_clients_is_404(api: Api) -> None:
    assert (await api.delete(f"{CLIENTS}/{PORTAL_CLIENT}/tokens/first")).status == 400
    engine_secret = 2  # tenant A's engine client's
    reply = await api.delete(f"{CLIENTS}/{PORTAL_CLIENT}/tokens/{engine_secret}")
    assert (reply.status, reply.error_codes()) == (404, [105])
    assert (await ask(api, credentials(ENGINE_CLIENT, "mockhub-dev-engine-secret"))).status == 200


async def test_secrets_are_the_sessions_and_a_reset_takes_them_back(api: Api) -> None:
    made = (await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": "session"},
                           headers={"X-Mockhub-Session": "s1"})).json()
    assert (await ask(api, credentials(secret=made["token"]), headers={"X-Mockhub-Session": "s1"})).status == 200
    assert (await ask(api, credentials(secret=made["token"]))).status == 401  # the default session has no such secret
    await api.delete(f"{CLIENTS}/{PORTAL_CLIENT}/tokens/1")
    assert (await ask(api, credentials(secret=PORTAL_SECRET))).status == 401
    await api.request("POST", "/__mockhub/reset", token=None)
    assert (await ask(api, credentials(secret=PORTAL_SECRET))).status == 200


async def test_a_dump_keeps_the_secrets_added_and_loads_back(make_api: MakeApi) -> None:
    source = await make_api()
    made = (await source.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": "kept"})).json()
    dumped = (await source.get("/__mockhub/state", token=None)).json()
    assert dumped["tenants"][0]["clients"]["portal"]["secrets"][-1] == made  # the fixture format holds the value
    target = await make_api(fixtures=(dumped,))
    assert (await ask(target, credentials(secret=made["token"]))).status == 200
    again = (await target.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": "next"})).json()
    assert again["id"] == made["id"] + 1  # ids are never given twice


async def test_secrets_count_towards_the_sessions_data_limit(make_api: MakeApi) -> None:
    api = await make_api(max_session_records=2)
    for name in ("one", "two"):
        assert (await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": name})).status == 200
    refused = await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": "three"})
    assert refused.status == 429 and "--max-session-records" in refused.body.decode()
    assert (await api.delete(f"{CLIENTS}/{PORTAL_CLIENT}/tokens/5")).status == 200
    assert (await api.post(f"{CLIENTS}/{PORTAL_CLIENT}/tokens", {"name": "three"})).status == 200
