"""Portal API commands over HTTP: transfer commands and response commands of a hub (decisions.md, Commands).

Every answer is checked against the contract by the ``api`` helper (tests/conftest.py). The documentation's
example bodies and answers are quoted here as the documentation gives them (its hub id included).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockhub.contract.contracts import Contract
from tests.conftest import (
    BUILT_IN_COMMANDS,
    HUB_A,
    HUB_A3,
    HUB_B,
    OTHER_TOKEN,
    RESPONSE_A,
    TRANSFER_A,
    Api,
    MakeApi,
)

TRANSFERS = "/api/v1/commands/transfers"
RESPONSES = "/api/v1/commands/responses"
HUB_A2 = "00000000-0000-0000-0000-0000000000a2"
"""Tenant A's second hub in the built-in data."""
MISSING = "11111111-1111-4111-8111-111111111111"
DOC_HUB = "00000000-0000-0000-0000-0000000000a1"
"""The hub of the documentation's examples."""

# -- the documentation's examples ------------------------------------------------------------------

DOC_TRANSFER = {
    "name": "new cool command",
    "description": "Description for command",
    "url": "https://mysite.io",
    "linkDescription": "Click here to be transferred",
    "mountDelay": 1000,
}
"""Transfer Commands > Create and > Update: the example request body (the same for both)."""
DOC_TRANSFER_ANSWER = {"commandId": "5a0623b0-d51a-4b3c-ace1-0175e34fae2f", "hubId": DOC_HUB, **DOC_TRANSFER}
"""Transfer Commands > Create, Update and Get: the example answer."""
DOC_TRANSFER_LIST = [{**DOC_TRANSFER_ANSWER, "name": "new command 2"}]
"""Transfer Commands > Get Collection: the example answer."""

CONTACT_RESPONSE = {
    "type": "contact",
    "imageUrl": "https://image.png",
    "title": "Eva Green",
    "properties": [
        {"key": "Title", "value": "Mighty Health"},
        {"key": "Address", "value": "108 Kirkbride Crescent, Maple, ON", "type": "address;work"},
        {"key": "Cell", "value": "+1 (714) 873-6202", "type": "phone;cell"},
        {"key": "Email", "value": "eva@mightyhealth.com", "type": "email"},
    ],
    "channels": [{"type": "Webchat", "metadata": [{"key": "caption-show", "value": "true"},
                                                  {"key": "caption-color", "value": "white"}]}],
}
DOC_RESPONSE = {
    "name": "contact-eva.green",
    "category": "contacts",
    "description": "Eva's Contact",
    "integrationTypeId": "customer",
    "type": "message",
    "responses": [{"type": "text", "text": "Below is my contact info"}, CONTACT_RESPONSE],
}
"""Response Commands > Create: the example request body."""
DOC_RESPONSE_ANSWER = {"commandId": "00000000-0000-0000-0000-000000000005", "hubId": DOC_HUB, **DOC_RESPONSE}
"""Response Commands > Create: the example answer."""
DOC_RESPONSE_UPDATE = {"category": "Office contacts", "description": "Eva's Office Contact"}
"""Response Commands > Update: the example request body (the page writes a comma after its last property, which
JSON does not allow: decisions.md, Commands)."""
DOC_RESPONSE_UPDATED = {**DOC_RESPONSE_ANSWER, **DOC_RESPONSE_UPDATE}
"""Response Commands > Update and Get: the example answer."""
DOC_EVENT_ANSWER = {
    "commandId": "00000000-0000-0000-0000-000000000006", "hubId": DOC_HUB, "name": "Command-5",
    "category": "Command-5", "description": "Command-5", "integrationTypeId": "agent", "type": "event",
    "responses": [{"type": "payload", "payloadType": "type1", "payload": {"payload": "Hello"}}],
}
DOC_RESPONSE_LIST = [DOC_RESPONSE_UPDATED, DOC_EVENT_ANSWER]
"""Response Commands > Get Collection: the example answer."""

TRANSFER = {"name": "Shop", "url": "https://shop.example/checkout", "linkDescription": "Go to the shop"}
EVENT = {"name": "typing", "integrationTypeId": "agent", "type": "event", "responses": [{"type": "typing_on"}]}


def ids_free(command: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in command.items() if k not in ("commandId", "hubId")}


async def new_hub(api: Api, name: str = "Commands") -> str:
    """A hub of tenant A with no command yet."""
    reply = await api.post("/api/v1/hubs", {"name": name, "description": ""})
    assert reply.status == 200
    hub_id: str = reply.json()["hubId"]
    return hub_id


async def create(api: Api, collection: str, body: dict[str, Any], hub: str = HUB_A, **kw: Any) -> dict[str, Any]:
    reply = await api.post(f"{collection}/{hub}", body, **kw)
    assert reply.status == 200, reply.body
    made: dict[str, Any] = reply.json()
    return made


# -- the documented examples -----------------------------------------------------------------------

async def test_the_transfer_examples_are_accepted_and_answered_as_documented(api: Api) -> None:
    hub = await new_hub(api)
    made = await create(api, TRANSFERS, DOC_TRANSFER, hub=hub)
    assert ids_free(made) == ids_free(DOC_TRANSFER_ANSWER)
    assert made["hubId"] == hub
    path = f"{TRANSFERS}/{made['commandId']}"
    changed = {**DOC_TRANSFER, "name": "new command 2"}
    updated = await api.put(path, changed)
    assert updated.status == 200
    assert updated.json() == {**made, **changed}
    assert (await api.get(path)).json() == updated.json()
    listed = await api.get(f"{TRANSFERS}/hub/{hub}")
    assert [ids_free(c) for c in listed.json()] == [ids_free(c) for c in DOC_TRANSFER_LIST]


async def test_the_response_examples_are_accepted_and_answered_as_documented(api: Api) -> None:
    hub = await new_hub(api)
    made = await create(api, RESPONSES, DOC_RESPONSE, hub=hub)
    assert ids_free(made) == ids_free(DOC_RESPONSE_ANSWER)
    path = f"{RESPONSES}/{made['commandId']}"
    updated = await api.put(path, DOC_RESPONSE_UPDATE)
    assert updated.status == 200
    assert ids_free(updated.json()) == ids_free(DOC_RESPONSE_UPDATED)
    assert (await api.get(path)).json() == updated.json()
    await create(api, RESPONSES, ids_free(DOC_EVENT_ANSWER), hub=hub)
    listed = (await api.get(f"{RESPONSES}/hub/{hub}")).json()
    assert [ids_free(c) for c in listed] == [ids_free(c) for c in DOC_RESPONSE_LIST]


@pytest.mark.parametrize(("schema", "example"), [
    ("TransferCommand", DOC_TRANSFER_ANSWER),
    ("TransferCommandList", DOC_TRANSFER_LIST),
    ("ResponseCommand", DOC_RESPONSE_ANSWER),
    ("ResponseCommand", DOC_RESPONSE_UPDATED),
    ("ResponseCommandList", DOC_RESPONSE_LIST),
    ("TransferCommandCreate", DOC_TRANSFER),
    ("TransferCommandUpdate", DOC_TRANSFER),
    ("ResponseCommandCreate", DOC_RESPONSE),
    ("ResponseCommandUpdate", DOC_RESPONSE_UPDATE),
])
def test_every_documented_example_fits_the_contract(contract: Contract, schema: str, example: Any) -> None:
    errors = [e.message for e in contract.schema(schema).iter_errors(example)]
    assert errors == []


async def test_the_built_in_data_holds_the_documented_commands(api: Api) -> None:
    transfers = (await api.get(f"{TRANSFERS}/hub/{HUB_A3}")).json()
    assert transfers == [{**DOC_TRANSFER_ANSWER, "hubId": HUB_A3}]
    assert (await api.get(f"{TRANSFERS}/{TRANSFER_A}")).json() == transfers[0]
    responses = (await api.get(f"{RESPONSES}/hub/{HUB_A3}")).json()
    assert responses == [{**DOC_RESPONSE_ANSWER, "hubId": HUB_A3}, {**DOC_EVENT_ANSWER, "hubId": HUB_A3}]
    assert (await api.get(f"{RESPONSES}/{RESPONSE_A}")).json() == responses[0]
    state = (await api.get("/__mockhub/state", token=None)).json()
    assert len(state["transferCommands"]) == len(state["responseCommands"]) == BUILT_IN_COMMANDS
    tenant_a_hubs = {h["hubId"] for h in state["hubs"] if h["hubId"] != HUB_B}
    assert {c["hubId"] for c in state["transferCommands"] + state["responseCommands"]} <= tenant_a_hubs
    assert (await api.get(f"{RESPONSES}/{RESPONSE_A}", token=OTHER_TOKEN)).status == 403


async def test_the_update_example_with_its_trailing_comma_is_malformed_json(api: Api) -> None:
    made = await create(api, RESPONSES, DOC_RESPONSE, hub=await new_hub(api))
    text = '{\n  "category": "Office contacts",\n  "description": "Eva\'s Office Contact",\n}'
    reply = await api.request("PUT", f"{RESPONSES}/{made['commandId']}", data=text,
                              headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.error_codes() == [302]


# -- transfer commands -----------------------------------------------------------------------------

async def test_a_transfer_command_has_the_documented_defaults(api: Api) -> None:
    made = await create(api, TRANSFERS, TRANSFER)
    assert made == {"commandId": made["commandId"], "hubId": HUB_A, "name": "Shop", "description": "",
                    "url": "https://shop.example/checkout", "linkDescription": "Go to the shop", "mountDelay": 0}
    assert (await api.get(f"{TRANSFERS}/{made['commandId']}")).json() == made


async def test_a_transfer_create_lists_every_problem(api: Api) -> None:
    reply = await api.post(f"{TRANSFERS}/{HUB_A}", {"url": "ftp://files.example", "mountDelay": "soon",
                                                    "description": "x" * 2049, "color": "red"})
    assert reply.status == 400
    assert sorted((e["code"], e["description"]) for e in reply.json()["errors"]) == [
        (206, "Property 'description' must be at most 2048 characters. (code: PRT000206)"),
        (206, "Value 'ftp://files.example' of 'url' is not an absolute http(s) URL. (code: PRT000206)"),
        (301, "Property 'linkDescription' is required. (code: PRT000301)"),
        (301, "Property 'name' is required. (code: PRT000301)"),
        (302, "Property 'mountDelay' must be an integer. (code: PRT000302)"),
        (303, "Property 'color' is not supported. (code: PRT000303)"),
    ]


@pytest.mark.parametrize("delay", [-1, 0, 2147483647, -2147483648])
async def test_mount_delay_may_be_any_32_bit_integer(api: Api, delay: int) -> None:
    assert (await create(api, TRANSFERS, {**TRANSFER, "mountDelay": delay}))["mountDelay"] == delay


async def test_a_whole_number_with_a_fraction_is_stored_as_an_integer(api: Api) -> None:
    text = '{"name": "n", "url": "https://a.example", "linkDescription": "l", "mountDelay": 30.0}'
    reply = await api.request("POST", f"{TRANSFERS}/{HUB_A}", headers={"Content-Type": "application/json"}, data=text)
    assert reply.status == 200
    assert reply.body.count(b'"mountDelay":30}') == 1


async def test_a_transfer_update_changes_what_it_gives_and_needs_link_description(api: Api) -> None:
    made = await create(api, TRANSFERS, {**TRANSFER, "mountDelay": 500, "description": "kept"})
    path = f"{TRANSFERS}/{made['commandId']}"
    refused = await api.put(path, {"mountDelay": -1})
    assert refused.status == 400
    assert refused.error_codes() == [301]
    updated = await api.put(path, {"linkDescription": "Shop now", "mountDelay": -1})
    assert updated.json() == {**made, "linkDescription": "Shop now", "mountDelay": -1}
    again = await api.put(path, {"linkDescription": "Shop now"})
    assert again.json()["mountDelay"] == -1  # left out: kept, not set back to the create's default


# -- names -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["shop", "SHOP", "Shop"])
async def test_names_are_unique_per_hub_and_kind_case_insensitively(api: Api, name: str) -> None:
    await create(api, TRANSFERS, TRANSFER)
    taken = await api.post(f"{TRANSFERS}/{HUB_A}", {**TRANSFER, "name": name})
    assert taken.status == 400
    assert taken.json()["errors"] == [{"code": 600, "description": f"The hub already has a transfer command named "
                                                                  f"'{name}'. (code: PRT000600)"}]
    await create(api, TRANSFERS, {**TRANSFER, "name": name}, hub=HUB_A2)  # another hub
    await create(api, RESPONSES, {**EVENT, "name": name})  # another kind


async def test_an_update_may_not_take_another_commands_name_but_may_keep_its_own(api: Api) -> None:
    first = await create(api, RESPONSES, EVENT)
    second = await create(api, RESPONSES, {**EVENT, "name": "other"})
    refused = await api.put(f"{RESPONSES}/{second['commandId']}", {"name": "TYPING"})
    assert (refused.status, refused.error_codes()) == (400, [600])
    kept = await api.put(f"{RESPONSES}/{first['commandId']}", {"name": "TYPING"})
    assert kept.json()["name"] == "TYPING"
    deleted = await api.delete(f"{RESPONSES}/{first['commandId']}")
    assert deleted.json() == kept.json()
    assert (await api.put(f"{RESPONSES}/{second['commandId']}", {"name": "typing"})).status == 200  # free again


# -- reads, deletes, lists, tenants ----------------------------------------------------------------

@pytest.mark.parametrize("collection", [TRANSFERS, RESPONSES])
async def test_a_hubs_commands_are_listed_in_creation_order_and_delete_answers_the_command(
        api: Api, collection: str) -> None:
    body = TRANSFER if collection == TRANSFERS else EVENT
    hub = await new_hub(api)
    assert (await api.get(f"{collection}/hub/{hub}")).json() == []
    made = [await create(api, collection, {**body, "name": f"c{i}"}, hub=hub) for i in range(3)]
    await create(api, collection, {**body, "name": "elsewhere"}, hub=HUB_A2)
    assert (await api.get(f"{collection}/hub/{hub}")).json() == made
    gone = await api.delete(f"{collection}/{made[1]['commandId']}")
    assert (gone.status, gone.json()) == (200, made[1])
    assert (await api.get(f"{collection}/hub/{hub}")).json() == [made[0], made[2]]
    for method in ("GET", "DELETE"):
        reply = await api.request(method, f"{collection}/{made[1]['commandId']}")
        assert (reply.status, reply.error_codes()) == (404, [105])
    assert (await api.get(f"{collection}/hub/{HUB_B}", token=OTHER_TOKEN)).json() == []


@pytest.mark.parametrize("collection", [TRANSFERS, RESPONSES])
async def test_an_unknown_or_malformed_command_or_hub(api: Api, collection: str) -> None:
    body = TRANSFER if collection == TRANSFERS else EVENT
    update = {"linkDescription": "x"} if collection == TRANSFERS else {"name": "x"}
    for method, path, sent, status, code in [
        ("GET", f"{collection}/{MISSING}", None, 404, 105),
        ("PUT", f"{collection}/{MISSING}", update, 404, 105),
        ("DELETE", f"{collection}/{MISSING}", None, 404, 105),
        ("POST", f"{collection}/{MISSING}", body, 404, 699),
        ("GET", f"{collection}/hub/{MISSING}", None, 404, 699),
        ("GET", f"{collection}/not-a-guid", None, 400, 203),
        ("GET", f"{collection}/hub/not-a-guid", None, 400, 203),
    ]:
        reply = await api.request(method, path, **({"json_body": sent} if sent is not None else {}))
        assert (reply.status, reply.error_codes()) == (status, [code]), (method, path)


@pytest.mark.parametrize("collection", [TRANSFERS, RESPONSES])
async def test_another_tenants_commands_and_hubs_are_403(api: Api, collection: str) -> None:
    body = TRANSFER if collection == TRANSFERS else EVENT
    theirs = await create(api, collection, body, hub=HUB_B, token=OTHER_TOKEN)
    path = f"{collection}/{theirs['commandId']}"
    for method, at, sent in [("GET", path, None), ("PUT", path, {"name": "mine", "linkDescription": "x"}
                                                  if collection == TRANSFERS else {"name": "mine"}),
                             ("DELETE", path, None), ("POST", f"{collection}/{HUB_B}", body),
                             ("GET", f"{collection}/hub/{HUB_B}", None)]:
        reply = await api.request(method, at, **({"json_body": sent} if sent is not None else {}))
        assert (reply.status, reply.error_codes()) == (403, [101]), (method, at)
    assert (await api.get(path, token=OTHER_TOKEN)).json() == theirs
    assert (await api.get(f"{collection}/hub/{HUB_B}", token=OTHER_TOKEN)).json() == [theirs]


async def test_commands_need_a_token(api: Api) -> None:
    for path in (f"{TRANSFERS}/hub/{HUB_A}", f"{RESPONSES}/{MISSING}"):
        reply = await api.get(path, token=None)
        assert (reply.status, reply.error_codes()) == (401, [102])


# -- a deleted hub takes its commands --------------------------------------------------------------

async def test_deleting_a_hub_takes_its_built_in_commands_in_that_session_only(api: Api) -> None:
    session = {"X-Mockhub-Session": "deleting"}
    assert (await api.delete(f"/api/v1/hubs/{HUB_A3}", headers=session)).status == 200
    for path in (f"{TRANSFERS}/{TRANSFER_A}", f"{RESPONSES}/{RESPONSE_A}"):
        reply = await api.get(path, headers=session)
        assert (reply.status, reply.error_codes()) == (404, [105])
        assert (await api.get(path)).status == 200  # the default session still has the hub and its commands
    state = (await api.request("GET", "/__mockhub/state", token=None, headers=session)).json()
    left = state["transferCommands"] + state["responseCommands"]
    assert HUB_A3 not in {c["hubId"] for c in left} and len(left) == 3  # the other hubs' commands stay
    # and the session's data still loads: no command refers to a hub that is gone
    assert (await api.request("PUT", "/__mockhub/state", token=None, json_body=state, headers=session)).status == 200


async def test_deleting_a_hub_deletes_its_commands_in_that_session_only(api: Api) -> None:
    session = {"X-Mockhub-Session": "other"}
    kept = [await create(api, TRANSFERS, TRANSFER), await create(api, RESPONSES, EVENT)]
    gone = [await create(api, TRANSFERS, TRANSFER, headers=session),
            await create(api, RESPONSES, EVENT, headers=session)]
    assert (await api.delete(f"/api/v1/hubs/{HUB_A}", headers=session)).status == 200
    for collection, command in zip((TRANSFERS, RESPONSES), gone, strict=True):
        reply = await api.get(f"{collection}/{command['commandId']}", headers=session)
        assert (reply.status, reply.error_codes()) == (404, [105])
        assert (await api.get(f"{collection}/hub/{HUB_A}", headers=session)).status == 404
    for collection, command in zip((TRANSFERS, RESPONSES), kept, strict=True):
        assert (await api.get(f"{collection}/{command['commandId']}")).json() == command


async def test_a_deleted_hubs_commands_free_the_sessions_room(make_api: MakeApi) -> None:
    api = await make_api(max_session_records=3)
    hub = (await api.post("/api/v1/hubs", {"name": "Room", "description": ""})).json()["hubId"]
    await create(api, TRANSFERS, TRANSFER, hub=hub)
    await create(api, RESPONSES, EVENT, hub=hub)
    full = await api.post(f"{TRANSFERS}/{HUB_A}", TRANSFER)
    assert (full.status, full.error_codes()) == (429, [111])
    assert (await api.delete(f"/api/v1/hubs/{hub}")).status == 200
    for _ in range(3):
        await create(api, TRANSFERS, {**TRANSFER, "name": f"Shop {_}"})


# -- response commands: responses of the command's kind ------------------------------------------

async def test_responses_must_be_of_the_commands_type(api: Api) -> None:
    reply = await api.post(f"{RESPONSES}/{HUB_A}", {**EVENT, "responses": [{"type": "text", "text": "hi"}]})
    assert reply.json()["errors"] == [{"code": 206, "description": "Value 'text' of 'responses[0].type' is not valid; "
                                       "expected one of: seen, typing_on, typing_off, payload. (code: PRT000206)"}]
    reply = await api.post(f"{RESPONSES}/{HUB_A}", {**EVENT, "type": "message"})
    assert reply.status == 400
    expected = "Value 'typing_on' of 'responses[0].type' is not valid; expected one of: text, youtube"
    assert expected in reply.body.decode()


@pytest.mark.parametrize("kind", ["carousel", "list"])
async def test_only_an_agent_command_may_send_a_carousel_or_a_list(api: Api, kind: str) -> None:
    message = {"type": kind, "items": [{"type": "image", "url": "https://site.example/1.png"}]}
    body = {"name": kind, "integrationTypeId": "customer", "type": "message", "responses": [message]}
    reply = await api.post(f"{RESPONSES}/{HUB_A}", body)
    assert reply.json()["errors"] == [{"code": 206, "description": f"Message type '{kind}' of 'responses[0].type' "
                                       "is sent by agents and bots only, not by customers. (code: PRT000206)"}]
    assert (await create(api, RESPONSES, {**body, "integrationTypeId": "agent"}))["responses"] == [message]


async def test_responses_may_not_be_empty_and_the_kind_fields_are_checked(api: Api) -> None:
    reply = await api.post(f"{RESPONSES}/{HUB_A}", {"name": "", "integrationTypeId": "bot", "type": "action",
                                                    "responses": []})
    assert sorted(reply.error_codes()) == [206, 206, 206, 306]
    assert "Property 'responses' must not be empty. (code: PRT000306)" in reply.body.decode()


async def test_a_partial_update_is_checked_with_the_command_it_leaves(api: Api) -> None:
    made = await create(api, RESPONSES, DOC_RESPONSE, hub=await new_hub(api))
    path = f"{RESPONSES}/{made['commandId']}"
    refused = await api.put(path, {"type": "event"})  # the stored responses are messages
    assert refused.status == 400
    assert "Value 'text' of 'responses[0].type' is not valid" in refused.body.decode()
    carousel = {"type": "carousel", "items": [{"urlType": "image", "url": "https://site.example/1.png"}]}
    refused = await api.put(path, {"responses": [carousel]})  # a customer command
    assert "is sent by agents and bots only" in refused.body.decode()
    assert (await api.get(path)).json() == made
    changed = await api.put(path, {"type": "event", "responses": [{"type": "seen"}]})
    assert changed.json() == {**made, "type": "event", "responses": [{"type": "seen"}]}
    agent = await api.put(path, {"type": "message", "integrationTypeId": "agent", "responses": [carousel]})
    assert agent.json()["responses"] == [carousel]
    refused = await api.put(path, {"responses": [], "color": 1})
    assert sorted(refused.error_codes()) == [303, 306]


# -- the activity message and event types ----------------------------------------------------------

EVA = {
    "type": "contact", "imageUrl": "https://site.com/eva.png", "title": "Eva Green", "subtitle": "Mighty Health",
    "properties": [{"key": "Title", "value": "Health Advisor/Coach"},
                   {"key": "Address", "value": "123 Main Street, Maple, ON", "type": "address;work"},
                   {"key": "Cell", "value": "(416) 555-0001", "type": "phone;cell"},
                   {"key": "Email", "value": "eva@mightyhealth.com", "type": "email"}],
    "channels": [{"type": "Webchat", "metadata": [{"key": "caption-show", "value": "true"},
                                                  {"key": "caption-color", "value": "white"}]}]}
ACTIVITY_EXAMPLES: list[dict[str, Any]] = [
    {"type": "text", "text": "Hello there, how can I help you?"},
    {"type": "text", "text": "Here's my contact info", "items": [EVA]},
    {"type": "text", "text": "Select one of the following options", "actions": [
        {"type": "postback", "title": "Yes", "payload": "Yes",
         "channels": [{"type": "Webchat", "metadata": [{"key": "type", "value": "primary"}]}]},
        {"type": "postback", "title": "Maybe", "payload": "Maybe",
         "channels": [{"type": "Webchat", "metadata": [{"key": "type", "value": "danger"}]}]},
        {"type": "reply", "title": "No", "payload": "No",
         "channels": [{"type": "Webchat", "metadata": [{"key": "type", "value": "success"}]}]},
        {"type": "link", "title": "hubster", "url": "https://hubster.io",
         "channels": [{"type": "Webchat", "metadata": [{"key": "type", "value": "info"}]}]}]},
    {"type": "youtube", "url": "https://youtube.com/watch?v=x1245b"},
    {"type": "vimeo", "url": "player.vimeo.com/video/12345678"},
    {"type": "video", "url": "http://site.com/myvideo.mp4"},
    {"type": "audio", "url": "http://site.com/myaudio.mp3"},
    {"type": "image", "url": "http://site.com/myimage.png", "alt": "Some alternate text", "title": "Eva Green",
     "channels": [{"type": "Webchat", "metadata": [{"key": "caption-show", "value": "true"},
                                                   {"key": "caption-color", "value": "white"}]}]},
    {"type": "attachment", "label": "Year end report", "mimeType": "pdf", "url": "http://site.com/myfile.pdf"},
    {"type": "location", "address": "2640 Matheson, Mississauga, ON", "latitude": 43.8425254,
     "longitude": -79.5240196},
    EVA,
    {"type": "card", "urlType": "image", "imageUrl": "https://site.com/car.png", "title": "Victorious",
     "subtitle": "European style", "content": "Lorem Ipsum is simply...",
     "channels": [{"type": "Webchat", "metadata": [{"key": "caption-show", "value": "true"},
                                                   {"key": "caption-color", "value": "white"}]}]},
    {"type": "card", "urlType": "youtube", "imageUrl": "https://youtube.com/embed/abc", "title": "Cosmic Journeys",
     "subtitle": "Space Odyssey", "content": "Lorem Ipsum is simply..."},
    {"type": "carousel", "items": [
        {"title": name, "content": "Lorem Ipsum is...", "urlType": "image", "url": f"http://site.com/image{n}.png",
         "actions": [{"type": "reply", "title": "Select", "payload": name},
                     {"type": "link", "title": "More Info", "url": "https://hubster.io"}]}
        for n, name in enumerate(("Victorious", "Green Dragon", "Panther"), 1)],
     "channels": [{"type": "Webchat", "metadata": [{"key": "caption-show", "value": "true"},
                                                   {"key": "caption-color", "value": "white"}]}]},
    {"type": "carousel", "items": [
        {"title": "Cosmic Journeys", "content": "Lorem Ipsum is...", "urlType": "youtube",
         "url": "youtube.com/embed/1234",
         "actions": [{"type": "reply", "title": "Select", "payload": "Cosmic Journeys"},
                     {"type": "link", "title": "Watch", "url": "youtube.com/embed/1234"}]},
        {"title": "Space", "content": "Lorem Ipsum is...", "urlType": "vimeo", "url": "player.vimeo.com/video/1234",
         "actions": [{"type": "reply", "title": "Select", "payload": "Space"}]},
        {"title": "Elephants", "content": "Lorem Ipsum is...", "urlType": "video", "url": "http://site.com/v1.mp4",
         "actions": [{"type": "link", "title": "Watch", "url": "https//site.com/v1.mp4"}]}]},
    {"type": "list", "items": [
        {"title": "Alien", "content": "Lorem Ipsum is...", "urlType": "image", "url": "http://site.com/image1.png",
         "actions": [{"type": "reply", "title": "Select", "payload": "Alien"}]},
        {"title": "Red Baron", "content": "Lorem Ipsum is...", "urlType": "image", "url": "http://site.com/image2.png"}],
     "actions": [{"type": "postback", "title": "See more options", "payload": "More Options"},
                 {"type": "link", "title": "Check our catalog", "url": "https://hubster.io"}],
     "channels": [{"type": "Webchat", "metadata": [{"key": "caption-show", "value": "true"}]}]},
    {"type": "text", "text": "::resp -n contact.eva.green"},
]
"""The activities page's example of each message type (the first card example lacks a comma after
``content``, which is put back here)."""


async def test_every_message_type_of_the_activities_page_is_a_response(api: Api) -> None:
    body = {"name": "everything", "integrationTypeId": "agent", "type": "message",
            "responses": copy.deepcopy(ACTIVITY_EXAMPLES)}
    made = await create(api, RESPONSES, body)
    assert made["responses"] == ACTIVITY_EXAMPLES
    assert {m["type"] for m in made["responses"]} == {"text", "youtube", "vimeo", "video", "audio", "image",
                                                      "attachment", "location", "contact", "card", "carousel", "list"}


@pytest.mark.parametrize("event", [
    {"type": "seen"}, {"type": "typing_on"}, {"type": "typing_off"},
    {"type": "payload", "payloadType": "my.payload.01", "payload": {"data1": "value1", "data2": "value2"}},
    {"type": "payload", "payloadType": "hubster.transfer",
     "payload": {"url": "http://localhost:4200", "label": "Click here to be transferred", "mount": 1000,
                 "force": False}},
])
async def test_every_event_type_is_a_response(api: Api, event: dict[str, Any]) -> None:
    made = await create(api, RESPONSES, {**EVENT, "responses": [event]})
    assert made["responses"] == [event]


MESSAGE_PROBLEMS: list[tuple[dict[str, Any], list[str]]] = [
    ({"type": "text"}, ["307 Message 'responses[0]' is empty: give at least one of text, items and actions."]),
    ({"type": "text", "items": [{"type": "list", "items": []}]},
     ["206 Value 'list' of 'responses[0].items[0].type' is not valid; expected one of: youtube, vimeo, video, "
      "audio, image, attachment, location, contact, card."]),
    ({"type": "text", "actions": [{"type": "postback", "title": "Yes"}, {"type": "link", "title": "Go"},
                                  {"type": "call", "title": "x"}]},
     ["206 Value 'call' of 'responses[0].actions[2].type' is not valid; expected one of: postback, reply, link.",
      "301 Property 'responses[0].actions[0].payload' is required.",
      "301 Property 'responses[0].actions[1].url' is required."]),
    ({"type": "youtube"}, ["301 Property 'responses[0].url' is required."]),
    ({"type": "vimeo", "url": ""}, ["206 Property 'responses[0].url' must not be empty."]),
    ({"type": "video", "url": "v.mp4", "title": "t"}, ["303 Property 'responses[0].title' is not supported."]),
    ({"type": "audio", "url": 5}, ["302 Property 'responses[0].url' must be a string."]),
    ({"type": "image", "alt": "x"}, ["301 Property 'responses[0].url' is required."]),
    ({"type": "attachment", "url": "f.pdf"}, ["301 Property 'responses[0].label' is required.",
                                              "301 Property 'responses[0].mimeType' is required."]),
    ({"type": "location"}, ["308 Location 'responses[0]' needs an address, or a latitude and a longitude."]),
    ({"type": "location", "address": "Maple, ON", "latitude": 91},
     ["206 Value '91' of 'responses[0].latitude' is not valid: it must be <= 90.",
      "301 Property 'responses[0].longitude' is required when 'responses[0].latitude' is given."]),
    ({"type": "contact", "properties": [{"key": "Cell"}]},
     ["301 Property 'responses[0].properties[0].value' is required.",
      "301 Property 'responses[0].title' is required."]),
    ({"type": "card", "url": "https://site.example/1.png"},
     ["301 Property 'responses[0].urlType' is required when 'responses[0].url' is given."]),
    ({"type": "card", "urlType": "gif"},
     ["206 Value 'gif' of 'responses[0].urlType' is not valid; expected one of: image, youtube, vimeo, video, "
      "audio."]),
    ({"type": "carousel", "items": []}, ["306 Property 'responses[0].items' must not be empty."]),
    ({"type": "carousel", "items": [{"title": "no url"}, {"type": "text", "text": "x"}]},
     ["206 Value 'text' of 'responses[0].items[1].type' is not valid; expected one of: image, youtube, vimeo, "
      "video, audio.",
      "301 Property 'responses[0].items[0].url' is required.",
      "301 Property 'responses[0].items[0].urlType' is required."]),
    ({"type": "list"}, ["301 Property 'responses[0].items' is required."]),
    ({"type": "image", "url": "i.png", "channels": [{"metadata": [{"key": "caption-show", "value": True}]}]},
     ["301 Property 'responses[0].channels[0].type' is required.",
      "302 Property 'responses[0].channels[0].metadata[0].value' must be a string."]),
    ({"type": "gif"}, ["206 Value 'gif' of 'responses[0].type' is not valid; expected one of: text, youtube, vimeo, "
                       "video, audio, image, attachment, location, contact, card, carousel, list."]),
    ({"text": "no type"}, ["301 Property 'responses[0].type' is required."]),
]


@pytest.mark.parametrize(("message", "problems"), MESSAGE_PROBLEMS, ids=[str(m) for m, _ in MESSAGE_PROBLEMS])
async def test_each_message_type_is_checked_field_by_field(api: Api, message: dict[str, Any],
                                                           problems: list[str]) -> None:
    body = {"name": "bad", "integrationTypeId": "agent", "type": "message", "responses": [message]}
    reply = await api.post(f"{RESPONSES}/{HUB_A}", body)
    assert reply.status == 400
    assert sorted(f"{e['code']} {e['description'].split(' (code: ')[0]}" for e in reply.json()["errors"]) == problems


@pytest.mark.parametrize(("event", "problems"), [
    ({"type": "payload"}, ["301 Property 'responses[0].payload' is required.",
                           "301 Property 'responses[0].payloadType' is required."]),
    ({"type": "payload", "payloadType": "x", "payload": "Hello"},
     ["302 Property 'responses[0].payload' must be an object."]),
    ({"type": "seen", "payload": {}}, ["303 Property 'responses[0].payload' is not supported."]),
])
async def test_each_event_type_is_checked_field_by_field(api: Api, event: dict[str, Any], problems: list[str]) -> None:
    reply = await api.post(f"{RESPONSES}/{HUB_A}", {**EVENT, "responses": [event]})
    assert sorted(f"{e['code']} {e['description'].split(' (code: ')[0]}" for e in reply.json()["errors"]) == problems
