"""Seeded data (decisions.md, Data): one random source, fake data, validated fixtures, state dump/load, reset."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mockhub.dataset.fixtures import FixtureError
from mockhub.settings import Settings
from mockhub.web.app import create_app
from tests.conftest import BUILT_IN_COMMANDS, BUILT_IN_INTEGRATIONS, HUB_A, Api, MakeApi
from tests.pages import page

FAKE = "hubs=4,integrations=6,commands=3,points=5"
POINTS = "/rest/v1/service/integration_points"


async def state(api: Api) -> bytes:
    reply = await api.get("/__mockhub/state", token=None)
    assert reply.status == 200
    return reply.body


async def writes(api: Api, name: str = "Seeded") -> list[bytes]:
    """The same requests for every server (records named ``name``); their raw answers."""
    answers = [
        await api.post("/api/v1/hubs", {"name": name, "description": "d"}),
        await api.post(f"/api/v1/integrations/hubs/{HUB_A}", {
            "channelId": "Direct", "name": f"{name} direct", "configuration": {"integrationType": "Agent"}}),
        await api.post(POINTS, {"code": name.upper(), "type": "public"}),
        await api.post(f"/api/v1/commands/transfers/{HUB_A}", {
            "name": name, "url": "https://shop.example", "linkDescription": "Shop"}),
        await api.put(f"/api/v1/hubs/{HUB_A}", {"statusId": 2002}),
    ]
    assert [a.status for a in answers] == [200, 200, 200, 200, 200]
    return [a.body for a in answers]


async def test_the_same_seed_clock_and_options_give_byte_identical_state_and_answers(make_api: MakeApi) -> None:
    first, second = await make_api(seed=3, fake=FAKE), await make_api(seed=3, fake=FAKE)
    assert await state(first) == await state(second)
    assert await writes(first) == await writes(second)
    assert await state(first) == await state(second)


async def test_a_different_seed_gives_different_data_and_ids(make_api: MakeApi) -> None:
    first, second = await make_api(seed=3, fake=FAKE), await make_api(seed=4, fake=FAKE)
    assert await state(first) != await state(second)
    one, two = await writes(first), await writes(second)
    assert json.loads(one[0])["hubId"] != json.loads(two[0])["hubId"]


async def test_fake_data_is_added_to_the_loaded_fixtures_with_realistic_fields(make_api: MakeApi) -> None:
    api = await make_api(fake=FAKE)
    data = json.loads(await state(api))
    assert len(data["hubs"]) == 4 + 4
    assert len(data["integrations"]) == BUILT_IN_INTEGRATIONS + 4 * 6
    assert len(data["integrationPoints"]) == 2 + 5
    fake_hubs = data["hubs"][4:]
    assert all(h["tenantId"] == "00000000-0000-0000-0000-000000000001" for h in fake_hubs)
    assert len({h["name"].casefold() for h in fake_hubs}) == 4
    by_channel = {i["channelId"]: i["configuration"] for i in data["integrations"][BUILT_IN_INTEGRATIONS:]}
    assert sorted(by_channel) == ["Direct", "Messenger", "Slack", "System", "TwilioSMS", "WebChat"]
    twilio = by_channel["TwilioSMS"]
    assert re.fullmatch(r"AC[0-9a-f]{32}", twilio["accountSid"])
    assert re.fullmatch(r"PN[0-9a-f]{32}", twilio["numberSid"])
    assert re.fullmatch(r"\+1[2-9]\d{2}[2-9]\d{6}", twilio["phoneNumber"])
    assert re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]+/hubster/\w+", by_channel["System"]["webhookUrl"])
    assert by_channel["Slack"]["botAccessToken"].startswith("xoxb-")
    for point in data["integrationPoints"][2:]:
        assert re.fullmatch(r"[A-Z]{2}-\d{5,7}", point["code"])
        assert re.fullmatch(r"[0-9a-f]{32}", point["token_local"])
        assert point["url"].startswith("http")
    # every fake record is served by the API like any other
    hub = fake_hubs[0]
    assert (await api.get(f"/api/v1/hubs/{hub['hubId']}")).json() == hub
    lookup = await api.request("LOOKUP", POINTS, json_body=data["integrationPoints"][-1]["code"])
    assert lookup.json() == [data["integrationPoints"][-1]["id"]]


async def test_fake_integrations_alone_go_into_the_default_tenants_hubs(make_api: MakeApi) -> None:
    data = json.loads(await state(await make_api(fake="integrations=2")))
    assert len(data["integrations"]) == BUILT_IN_INTEGRATIONS + 3 * 2


async def test_fake_commands_alternate_kinds_in_each_new_hub_and_are_served(make_api: MakeApi) -> None:
    api = await make_api(fake="hubs=2,commands=3")
    data = json.loads(await state(api))
    transfers = data["transferCommands"][BUILT_IN_COMMANDS:]
    responses = data["responseCommands"][BUILT_IN_COMMANDS:]
    fake_hubs = [h["hubId"] for h in data["hubs"][4:]]
    assert [c["hubId"] for c in transfers] == [fake_hubs[0]] * 2 + [fake_hubs[1]] * 2
    assert [c["hubId"] for c in responses] == fake_hubs
    assert all(re.fullmatch(r"https?://\S+", c["url"]) for c in transfers)
    assert {c["type"] for c in responses} <= {"message", "event"}
    for command in responses:  # each kind as the documentation shows it
        kinds = {r["type"] for r in command["responses"]}
        assert kinds == ({"text", "contact"} if command["type"] == "message" else {"payload"})
    served = await api.get(f"/api/v1/commands/responses/hub/{fake_hubs[1]}")
    assert served.json() == [responses[1]]


async def test_fake_commands_alone_go_into_the_default_tenants_hubs(make_api: MakeApi) -> None:
    data = json.loads(await state(await make_api(fake="commands=2")))
    assert len(data["transferCommands"]) == len(data["responseCommands"]) == BUILT_IN_COMMANDS + 3


@pytest.mark.parametrize(("spec", "message"), [
    ("hubs=x", "--fake takes hubs=N,integrations=N,commands=N,points=N"),
    ("users=3", "not 'users=3'"),
    ("hubs", "not 'hubs'"),
])
def test_a_bad_fake_spec_is_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        create_app(Settings(fake=spec))


def test_fake_hubs_need_a_tenant() -> None:
    with pytest.raises(ValueError, match="need a tenant"):
        create_app(Settings(empty=True, fake="hubs=1"))


async def test_state_dump_and_load_round_trip(make_api: MakeApi) -> None:
    source = await make_api(fake=FAKE)
    await writes(source)
    dumped = await state(source)
    target = await make_api(empty=True)
    reply = await target.request("PUT", "/__mockhub/state", token=None, data=dumped,
                                 headers={"Content-Type": "application/json"})
    assert reply.status == 200
    assert reply.json()["counts"] == {"tenants": 2, "hubs": 9, "integrations": BUILT_IN_INTEGRATIONS + 25,
                                      "transferCommands": BUILT_IN_COMMANDS + 4 * 2 + 1,
                                      "responseCommands": BUILT_IN_COMMANDS + 4, "integrationPoints": 8}
    assert await state(target) == dumped
    # and the loaded data is served: the tokens of the dump work
    assert (await target.get("/api/v1/hubs")).json()["total"] == 8


async def test_a_dump_is_a_fixture_file(make_api: MakeApi, tmp_path: Path) -> None:
    source = await make_api(fake=FAKE)
    await writes(source)
    dumped = await state(source)
    path = tmp_path / "dump.json"
    path.write_bytes(dumped)
    assert await state(await make_api(fixtures=(path,))) == dumped


async def test_a_dump_loaded_again_under_the_same_seed_gets_new_ids_for_new_records(make_api: MakeApi,
                                                                                   tmp_path: Path) -> None:
    """The same seed makes the same ids again: those a dump already holds are passed over, so no write
    replaces a record of the dump (a new hub used to take the dumped one's id, name and place)."""
    source = await make_api(seed=5)
    first = [json.loads(body) for body in await writes(source)]
    path = tmp_path / "dump.json"
    path.write_bytes(await state(source))
    restarted = await make_api(seed=5, fixtures=(path,))
    second = [json.loads(body) for body in await writes(restarted, "Again")]
    for key, before, after in zip(("hubId", "integrationId", "id"), first, second, strict=False):
        assert before[key] != after[key], key
    hubs = (await restarted.get("/api/v1/hubs", params={"pageSize": 100})).json()
    ids = [hub["hubId"] for hub in hubs["results"]]
    assert len(ids) == len(set(ids)) == hubs["total"]
    assert (await restarted.get(f"/api/v1/hubs/{first[0]['hubId']}")).json()["name"] == "Seeded"


async def test_hubs_and_integrations_never_share_an_id(make_api: MakeApi, tmp_path: Path) -> None:
    """``POST /integrations/hubs/{id}`` names a hub or an integration: a new integration whose id a dumped hub
    had could never be updated (its updates were read as creates in that hub)."""
    source = await make_api(seed=5)
    hub = (await source.post("/api/v1/hubs", {"name": "Dumped", "description": "d"})).json()
    path = tmp_path / "dump.json"
    path.write_bytes(await state(source))
    restarted = await make_api(seed=5, fixtures=(path,))
    made = await restarted.post(f"/api/v1/integrations/hubs/{hub['hubId']}", {
        "channelId": "Direct", "name": "New", "configuration": {"integrationType": "Agent"}})
    assert made.status == 200
    assert made.json()["integrationId"] != hub["hubId"]
    renamed = await restarted.post(f"/api/v1/integrations/hubs/{made.json()['integrationId']}", {"name": "Renamed"})
    assert renamed.status == 200 and renamed.json()["name"] == "Renamed"
    data = json.loads(path.read_text())
    data["integrations"][0]["integrationId"] = hub["hubId"]
    path.write_text(json.dumps(data))
    with pytest.raises(FixtureError, match=f"integration {hub['hubId']} has the id of a hub"):
        create_app(Settings(fixtures=(path,)))


async def test_put_state_replaces_and_reset_returns_to_the_start_up_state(api: Api) -> None:
    startup = await state(api)
    minimal = {"tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["t2"]}]}
    assert (await api.request("PUT", "/__mockhub/state", token=None, json_body=minimal)).status == 200
    assert (await api.get("/api/v1/hubs")).status == 401  # the old token is gone with the old tenants
    assert (await api.get("/api/v1/hubs", token="t2")).json()["total"] == 0
    await api.post("/__mockhub/reset", token=None)
    assert await state(api) == startup


async def test_reset_restores_exactly_after_many_writes(api: Api) -> None:
    startup = await state(api)
    await writes(api)
    for i in range(20):
        await api.post("/api/v1/hubs", {"name": f"Temp {i}", "description": ""})
    await api.delete(f"/api/v1/hubs/{HUB_A}")
    assert await state(api) != startup
    await api.post("/__mockhub/reset", token=None)
    assert await state(api) == startup


TENANT = {"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["t"]}
HUB = {"hubId": "33333333-3333-3333-3333-333333333333", "tenantId": TENANT["tenantId"], "name": "H",
       "description": "d"}
BAD_FIXTURES: list[tuple[str, Any, str]] = [
    ("not an object", [], "the file must hold a JSON object"),
    ("unknown section", {"users": []}, "top level: Additional properties are not allowed ('users'"),
    ("missing field", {"tenants": [TENANT], "hubs": [{k: v for k, v in HUB.items() if k != "description"}]},
     "hubs[0] (hubId '33333333-3333-3333-3333-333333333333'): Property 'description' is required."),
    ("null field", {"tenants": [TENANT], "hubs": [{**HUB, "description": None}]},
     "hubs[0] (hubId '33333333-3333-3333-3333-333333333333'): Property 'description' must be a string."),
    ("wrong type", {"tenants": [{**TENANT, "tokens": "t"}]},
     "tenants[0] (tenantId '22222222-2222-2222-2222-222222222222'): Property 'tokens' must be an array."),
    ("unknown field", {"tenants": [TENANT], "hubs": [{**HUB, "color": "red"}]},
     "hubs[0] (hubId '33333333-3333-3333-3333-333333333333'): Property 'color' is not supported."),
    ("bad value", {"tenants": [TENANT], "hubs": [{**HUB, "statusId": 1}]},
     "hubs[0] (hubId '33333333-3333-3333-3333-333333333333'): Value '1' of 'statusId' is not valid"),
    ("dangling hub", {"tenants": [TENANT], "hubs": [{**HUB, "tenantId": "44444444-4444-4444-4444-444444444444"}]},
     "hubs[0] (hubId '33333333-3333-3333-3333-333333333333'): tenant 44444444-4444-4444-4444-444444444444 "
     "is not defined"),
    ("dangling integration", {"integrations": [{"hubId": HUB["hubId"], "channelId": "Messenger", "name": "M",
                                                "configuration": {"pageAccessToken": "x"}}]},
     "integrations[0] (name 'M'): hub 33333333-3333-3333-3333-333333333333 is not defined"),
    ("duplicate id", {"tenants": [TENANT], "hubs": [HUB, {**HUB, "name": "Other"}]},
     "hubs[1] (hubId '33333333-3333-3333-3333-333333333333'): hub 33333333-3333-3333-3333-333333333333 "
     "is defined twice"),
    ("duplicate name", {"tenants": [TENANT], "hubs": [HUB, {**HUB, "hubId": "55555555-5555-5555-5555-555555555555",
                                                            "name": "h"}]},
     "hubs[1] (hubId '55555555-5555-5555-5555-555555555555'): A hub named 'h' already exists"),
    ("duplicate token", {"tenants": [TENANT, {**TENANT, "tenantId": "66666666-6666-6666-6666-666666666666"}]},
     "tenants[1] (tenantId '66666666-6666-6666-6666-666666666666'): token 't' is given to two tenants"),
    ("duplicate code", {"integrationPoints": [{"code": "A", "type": "im"}, {"code": "A", "type": "im"}]},
     "integrationPoints[1] (code 'A'):"),
    ("a client that is not the tenant's", {"tenants": [{**TENANT, "clients": {"portal": {
        "clientId": "hubster.portal.api.33333333333333333333333333333333"}}}]},
     "tenants[0] (tenantId '22222222-2222-2222-2222-222222222222'): clientId "
     "'hubster.portal.api.33333333333333333333333333333333' is not the tenant's portal client: it is "
     "hubster.portal.api.22222222222222222222222222222222"),
    ("a secret id given twice", {"tenants": [{**TENANT, "clients": {
        "portal": {"secrets": [{"id": 7, "name": "a"}]}, "engine": {"secrets": [{"id": 7, "name": "b"}]}}}]},
     "tenants[0] (tenantId '22222222-2222-2222-2222-222222222222'): secret id 7 is given twice"),
    ("a secret name given twice", {"tenants": [{**TENANT, "clients": {"portal": {"secrets": [
        {"name": "Same"}, {"name": "same"}]}}}]},
     "The client already has a secret named 'same'."),
    ("an expiration that is no date", {"tenants": [{**TENANT, "clients": {"portal": {"secrets": [
        {"name": "s", "expiration": "2030-02-31T00:00:00"}]}}}]},
     "Value '2030-02-31T00:00:00' of 'clients.portal.secrets[0].expiration' is not valid."),
    ("a secret with a space", {"tenants": [{**TENANT, "clients": {"portal": {"secrets": [
        {"name": "s", "token": "a b"}]}}}]},
     "tenants[0] (tenantId '22222222-2222-2222-2222-222222222222'): Value 'a b' of 'clients.portal.secrets[0].token' "
     "is not valid."),
    ("dangling command", {"transferCommands": [{"hubId": HUB["hubId"], "name": "T", "url": "https://a.example",
                                                "linkDescription": "l"}]},
     "transferCommands[0] (name 'T'): hub 33333333-3333-3333-3333-333333333333 is not defined"),
    ("duplicate command name", {"tenants": [TENANT], "hubs": [HUB], "transferCommands": [
        {"hubId": HUB["hubId"], "name": "T", "url": "https://a.example", "linkDescription": "l"},
        {"hubId": HUB["hubId"], "name": "t", "url": "https://b.example", "linkDescription": "l"}]},
     "transferCommands[1] (name 't'): The hub already has a transfer command named 't'."),
    ("responses of the other kind", {"tenants": [TENANT], "hubs": [HUB], "responseCommands": [
        {"hubId": HUB["hubId"], "name": "R", "integrationTypeId": "agent", "type": "event",
         "responses": [{"type": "text", "text": "hi"}]}]},
     "responseCommands[0] (name 'R'): Value 'text' of 'responses[0].type' is not valid; expected one of: seen"),
    ("a command without its url", {"transferCommands": [{"hubId": HUB["hubId"], "name": "T", "linkDescription": "l"}]},
     "transferCommands[0] (name 'T'): Property 'url' is required."),
    # U+001C is white space to Python's regular expressions, not to Rust's (the compiled check's)
    ("white space in a URL", {"tenants": [TENANT], "hubs": [HUB], "integrations": [
        {"hubId": HUB["hubId"], "channelId": "Direct", "name": "D",
         "configuration": {"integrationType": "Customer", "webhookUrl": "https://a\x1cb"}}]},
     "integrations[0] (name 'D'): Value 'https://a"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in BAD_FIXTURES], ids=[c[0] for c in BAD_FIXTURES])
def test_each_kind_of_bad_fixture_is_refused_naming_file_record_and_field(tmp_path: Path, data: Any,
                                                                          message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FixtureError) as refused:
        create_app(Settings(fixtures=(path,)))
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in BAD_FIXTURES], ids=[c[0] for c in BAD_FIXTURES])
async def test_a_bad_put_state_is_400_and_loses_nothing(api: Api, data: Any, message: str) -> None:
    before = await state(api)
    reply = await api.request("PUT", "/__mockhub/state", token=None, json_body=data)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error.startswith("PUT /__mockhub/state: ")
    assert message in error
    assert await state(api) == before


def test_serve_with_fake_data_reports_it_in_the_banner() -> None:
    process = subprocess.Popen([sys.executable, "-m", "mockhub", "serve", "--port", "0", "--quiet", "--fake",
                                "hubs=2,points=3"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        process.stdout.readline()
        data_line = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(10)
    assert ("the built-in dataset + fake hubs=2,points=3: 6 hubs, 7 integrations, 3 transferCommands, "
            "3 responseCommands, 5 integrationPoints") in data_line


async def test_the_docs_fixture_example_loads_and_serves(make_api: MakeApi, tmp_path: Path) -> None:
    example = re.search(r"A fixture file is one JSON object.*?```json\n(.*?)```", page("data.md"), re.S)
    assert example is not None
    path = tmp_path / "example.json"
    path.write_text(example.group(1))
    api = await make_api(fixtures=(path,))
    listed = (await api.get("/api/v1/integrations", token="acme-token")).json()
    assert [i["name"] for i in listed["results"]] == ["Site chat"]
    assert listed["results"][0]["configuration"]["echo"] is True
    hub = "/hub/33333333-3333-3333-3333-333333333333"
    [shop] = (await api.get(f"/api/v1/commands/transfers{hub}", token="acme-token")).json()
    assert (shop["name"], shop["mountDelay"], shop["description"]) == ("shop", 0, "")
    [hello] = (await api.get(f"/api/v1/commands/responses{hub}", token="acme-token")).json()
    assert hello["responses"] == [{"type": "text", "text": "Hello from Acme!"}]


# -- clients and their secrets ---------------------------------------------------------------------

def client_of(data: dict[str, Any], tenant: int, api: str) -> dict[str, Any]:
    return dict(data["tenants"][tenant]["clients"][api])


async def token_for(api: Api, client_id: str, secret: str) -> Any:
    form = f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
    return await api.request("POST", "/connect/token", token=None, data=form,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})


async def test_the_built_in_tenants_each_have_a_portal_and_an_engine_client_with_a_secret(api: Api) -> None:
    data = json.loads(await state(api))
    assert client_of(data, 0, "portal") == {
        "clientId": "hubster.portal.api.00000000000000000000000000000001",
        "name": "Hubster Portal API Client (Public)", "enabled": True,
        "secrets": [{"id": 1, "name": "mockhub dev portal secret", "token": "mockhub-dev-portal-secret"}]}
    assert client_of(data, 1, "engine")["clientId"] == "hubster.engine.api.ABC1E69FC888875FEE2C45789FD66A00"
    assert [client_of(data, t, a)["secrets"][0]["token"] for t in (0, 1) for a in ("portal", "engine")] == [
        "mockhub-dev-portal-secret", "mockhub-dev-engine-secret", "mockhub-other-portal-secret",
        "mockhub-other-engine-secret"]


async def test_an_old_fixture_file_loads_and_its_tenants_clients_have_no_secret(make_api: MakeApi,
                                                                                  tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"tenants": [TENANT], "hubs": [HUB]}))
    api = await make_api(fixtures=(path,))
    assert (await api.get("/api/v1/hubs", token="t")).json()["total"] == 1
    data = json.loads(await state(api))
    assert client_of(data, 0, "portal")["secrets"] == client_of(data, 0, "engine")["secrets"] == []
    # and the ids it generates are those it generated before clients existed: no draw was added
    hub = await api.post("/api/v1/hubs", {"name": "New", "description": ""}, token="t")
    assert hub.json()["hubId"] == "e3e70682-c209-4cac-a29f-6fbed82c07cd"


async def test_a_fixture_secret_without_a_value_gets_one_from_the_seed(make_api: MakeApi) -> None:
    data = {"tenants": [{**TENANT, "clients": {"engine": {"secrets": [{"name": "made"}]}}}]}
    first, again = await make_api(fixtures=(data,)), await make_api(fixtures=(data,))
    made = client_of(json.loads(await state(first)), 0, "engine")["secrets"][0]
    assert re.fullmatch(r"[A-Za-z0-9]{40}", made["token"]) and made["id"] == 1
    assert client_of(json.loads(await state(again)), 0, "engine")["secrets"][0] == made
    reply = await token_for(first, "hubster.engine.api.22222222222222222222222222222222", made["token"])
    assert reply.json()["scope"] == "hubster-engine-api"


async def test_fake_tenants_have_a_token_and_clients_whose_secrets_get_tokens(make_api: MakeApi) -> None:
    api = await make_api(fake="tenants=2,hubs=1")
    data = json.loads(await state(api))
    fake = data["tenants"][2:]
    assert len(fake) == 2 and all(t["name"] and t["tokens"][0].startswith("mockhub-fake-") for t in fake)
    assert data["hubs"][-1]["tenantId"] == data["tenants"][0]["tenantId"]  # fake hubs stay the default tenant's
    for tenant in fake:
        portal = tenant["clients"]["portal"]
        reply = await token_for(api, portal["clientId"], portal["secrets"][0]["token"])
        assert reply.status == 200
        assert (await api.get("/api/v1/hubs", token=reply.json()["access_token"])).json()["total"] == 0
        assert (await api.get("/api/v1/hubs", token=tenant["tokens"][0])).status == 200
