"""The Engine API over HTTP: conversations, their activities and the Direct API, with Engine tokens and ENG error
codes (decisions.md, Engine).

Every answer is checked against the contract by the ``api`` helper (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HUB_A, HUB_A3, INTEGRATION_B, OTHER_TOKEN, TENANT_A, TOKEN, Api, MakeApi, Reply
from tests.test_identity import ENGINE_CLIENT, ENGINE_SECRET, access_token

ESTABLISH = "/api/v1/conversations/establish"
CONVERSATIONS = "/api/v1/conversations"
ACTIVITIES = "/api/v1/interactions/activities"
DIRECT = "/inbound/customer/v1/direct/activity"
DIRECT_CUSTOMER = "00000000-0000-0000-0000-0000000000b4"
"""Tenant A's Direct integration of the Customer type (hub HUB_A), in the built-in data."""
SYSTEM_A = "00000000-0000-0000-0000-0000000000b5"
"""Tenant A's System integration (hub HUB_A): events message:customer, message:agent, message:bot."""
WEBCHAT_A3 = "00000000-0000-0000-0000-0000000000b3"
SLACK_A3 = "00000000-0000-0000-0000-0000000000b6"
"""Tenant A's WebChat (Customer) and Slack (Agent) integrations of hub HUB_A3."""
MISSING = "11111111-1111-4111-8111-111111111111"
TEXT = {"type": "text", "text": "Hi there!"}
CAROUSEL = {"type": "carousel", "items": [{"title": "Victorious", "urlType": "image", "url": "http://site.com/1.png"}]}


def codes(reply: Reply, status: int) -> list[str]:
    """The ENG codes of an Engine error answer of ``status``."""
    assert reply.status == status, reply.body
    return [error["description"].rsplit("(code: ", 1)[1].rstrip(")") for error in reply.json()["errors"]]


async def establish(api: Api, binding: str = "customer-1", integration: str = DIRECT_CUSTOMER,
                    **more: Any) -> dict[str, Any]:
    reply = await api.post(ESTABLISH, {"integrationId": integration, "binding": binding, "channelType": "Direct",
                                       **more})
    assert reply.status == 200, reply.body
    return dict(reply.json())


async def add_integration(api: Api, hub: str, channel: str, name: str, configuration: dict[str, Any]) -> str:
    reply = await api.post(f"/api/v1/integrations/hubs/{hub}", {"channelId": channel, "name": name,
                                                                 "configuration": configuration})
    assert reply.status == 200, reply.body
    return str(reply.json()["integrationId"])


async def add_agent(api: Api, hub: str = HUB_A, name: str = "Direct agent", **configuration: Any) -> str:
    """A Direct integration of the Agent type in ``hub``."""
    return await add_integration(api, hub, "Direct", name, {"integrationType": "Agent", **configuration})


async def send(api: Api, conversation: str, body: dict[str, Any], **kw: Any) -> Reply:
    return await api.post(f"{DIRECT}/{conversation}", body, **kw)


async def said(api: Api, conversation: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await send(api, conversation, body)
    assert reply.status == 200, reply.body
    return dict(reply.json())


async def activities(api: Api, conversation: str, side: str, **params: Any) -> list[dict[str, Any]]:
    reply = await api.get(f"{ACTIVITIES}/{conversation}", params={"type": side, **params})
    assert reply.status == 200, reply.body
    return list(reply.json())


# -- establish and get a conversation ------------------------------------------------------------------

async def test_a_direct_customer_establishes_a_conversation_and_its_binding_finds_it_again(api: Api) -> None:
    made = await establish(api, properties={"profile": {"full name": "User name here", "phone": "416-555-0001"},
                                            "additional": {"some_custom1": "value1"}})
    assert made["isNew"] is True
    assert (made["tenantId"], made["hubId"], made["integrationId"]) == (TENANT_A, HUB_A, DIRECT_CUSTOMER)
    assert made["properties"] == {"profile": {"device": "Direct", "full name": "User name here",
                                              "phone": "416-555-0001"},
                                  "additional": {"some_custom1": "value1"}}
    again = await establish(api, properties={"profile": {"full name": "Someone else"}})
    assert again == {**made, "isNew": False}  # found by integration and binding, its properties as they were
    other = await establish(api, binding="customer-2")
    assert other["conversationId"] != made["conversationId"]


async def test_a_profile_left_out_gets_the_device_and_a_fun_name(make_api: MakeApi) -> None:
    first, same_seed = await make_api(), await make_api()
    made = await establish(first)
    assert made["properties"]["profile"]["device"] == "Direct"
    full_name = made["properties"]["profile"]["full name"]
    assert len(full_name.split()) == 2 and made["properties"]["additional"] == {}
    assert (await establish(same_seed))["properties"] == made["properties"]  # one seeded random source


async def test_get_conversation_shows_its_integration_and_hub(api: Api) -> None:
    made = await establish(api)
    reply = await api.get(f"{CONVERSATIONS}/{made['conversationId']}")
    assert reply.status == 200
    conversation = reply.json()
    assert {k: conversation[k] for k in ("conversationId", "integrationId", "tokenId", "properties",
                                         "openedDateTime")} == {
        k: made[k] for k in ("conversationId", "integrationId", "tokenId", "properties", "openedDateTime")}
    integration = conversation["integration"]
    assert (integration["integrationTypeId"], integration["channelId"], integration["hub"]["hubId"]) == (
        "Customer", "Direct", HUB_A)


async def test_establish_refuses_what_the_engine_refuses(api: Api) -> None:
    body = {"integrationId": DIRECT_CUSTOMER, "binding": "b", "channelType": "Direct"}
    assert codes(await api.post(ESTABLISH, {**body, "binding": None} | {}), 400) == ["ENG000202"]
    assert codes(await api.post(ESTABLISH, {k: v for k, v in body.items() if k != "binding"}), 400) == [
        "ENG003001"]
    assert codes(await api.post(ESTABLISH, {**body, "integrationId": "not-a-guid"}), 400) == ["ENG003002"]
    assert codes(await api.post(ESTABLISH, {**body, "channelType": 2000}), 400) == ["ENG000206"]
    assert codes(await api.post(ESTABLISH, {**body, "color": "red"}), 400) == ["ENG000206"]
    assert codes(await api.request("POST", ESTABLISH, data=b"", headers={"Content-Type": "application/json"}),
                 400) == ["ENG003000"]
    assert codes(await api.post(ESTABLISH, {**body, "integrationId": MISSING}), 404) == ["ENG006000"]
    assert codes(await api.post(ESTABLISH, {**body, "integrationId": INTEGRATION_B}), 403) == ["ENG000101"]
    refused = await api.post(ESTABLISH, {**body, "integrationId": WEBCHAT_A3})
    assert codes(refused, 400) == ["ENG000206"]
    assert "a Direct integration of the Customer type" in refused.body.decode()


async def test_a_conversation_is_its_tenant_s_alone(api: Api) -> None:
    made = await establish(api)
    path = f"{CONVERSATIONS}/{made['conversationId']}"
    assert codes(await api.get(path, token=OTHER_TOKEN), 403) == ["ENG000101"]
    assert codes(await api.get(f"{CONVERSATIONS}/{MISSING}"), 404) == ["ENG006500"]
    assert codes(await api.get(f"{CONVERSATIONS}/nope"), 400) == ["ENG003002"]
    assert codes(await api.get(f"{ACTIVITIES}/{made['conversationId']}", token=OTHER_TOKEN,
                               params={"type": "Customer"}), 403) == ["ENG000101"]


# -- tokens: one API each, the static ones for all -----------------------------------------------------

async def test_the_engine_takes_engine_tokens_and_the_static_ones_and_refuses_portal_tokens(api: Api) -> None:
    engine = await access_token(api, ENGINE_CLIENT, ENGINE_SECRET)
    made = await establish(api)
    path = f"{CONVERSATIONS}/{made['conversationId']}"
    assert (await api.get(path, token=engine)).status == 200
    assert (await api.get(path, token=TOKEN)).status == 200
    refused = await api.get(path, token=await access_token(api))
    assert codes(refused, 401) == ["ENG000102"]
    assert "for hubster-portal-api; this API takes tokens of hubster-engine-api" in refused.body.decode()
    assert codes(await api.get("/api/v1/hubs", token=engine), 401) == ["PRT000102"]
    assert codes(await api.get(path, token=None), 401) == ["ENG000102"]


async def test_an_unknown_engine_path_or_method_and_an_injected_fault_speak_the_engine_s_codes(api: Api) -> None:
    assert codes(await api.get(f"{CONVERSATIONS}/{MISSING}/more"), 404) == ["ENG000105"]
    assert codes(await api.delete(f"{CONVERSATIONS}/{MISSING}"), 405) == ["ENG000110"]
    refused = await api.get(ESTABLISH)  # the literal path's, not a conversation id that is no GUID
    assert codes(refused, 405) == ["ENG000110"] and refused.headers["Allow"] == "POST"
    assert codes(await api.get(f"{CONVERSATIONS}/{MISSING}", headers={"X-Mockhub-Fault": "408"}), 408) == [
        "ENG000108"]


# -- the Direct API --------------------------------------------------------------------------------------

@pytest.fixture
async def conversation(api: Api) -> str:
    """A conversation of the Direct customer in HUB_A, which has a Direct agent too."""
    await add_agent(api)
    return str((await establish(api))["conversationId"])


async def test_a_customer_message_is_answered_as_documented(api: Api, conversation: str) -> None:
    answer = await said(api, conversation, {"externalId": "some-external-id", "type": "message", "message": TEXT})
    assert {k: answer[k] for k in ("status", "externalId", "hubId", "conversationId", "integrationId")} == {
        "status": 200, "externalId": "some-external-id", "hubId": HUB_A, "conversationId": conversation,
        "integrationId": DIRECT_CUSTOMER}
    assert set(answer) == {"status", "eventId", "externalId", "hubId", "conversationId", "integrationId",
                           "interactionId"}
    event = await said(api, conversation, {"type": "event", "event": {"type": "typing_on"}})
    assert "interactionId" not in event and event["externalId"] is None
    assert event["eventId"] > answer["eventId"]


async def test_an_activity_is_a_message_or_an_event_never_both(api: Api, conversation: str) -> None:
    both = {"type": "message", "message": TEXT, "event": {"type": "seen"}}
    assert codes(await send(api, conversation, both), 400) == ["ENG005004"]
    assert codes(await send(api, conversation, {"type": "message"}), 400) == ["ENG005003"]
    assert codes(await send(api, conversation, {"type": "message", "event": {"type": "seen"}}), 400) == ["ENG005003"]
    assert codes(await send(api, conversation, {"type": "event", "message": TEXT}), 400) == ["ENG005003"]
    assert codes(await send(api, conversation, {"message": TEXT}), 400) == ["ENG005001"]
    assert codes(await send(api, conversation, {"type": "message", "message": TEXT, "color": "red"}), 400) == [
        "ENG005002"]


async def test_the_messages_own_rules_have_the_direct_api_s_codes(api: Api, conversation: str) -> None:
    def message(value: dict[str, Any]) -> dict[str, Any]:
        return {"type": "message", "message": value}

    assert codes(await send(api, conversation, message({"type": "text"})), 400) == ["ENG005023"]
    assert codes(await send(api, conversation, message({"type": "location"})), 400) == ["ENG005024"]
    assert codes(await send(api, conversation, {**message(TEXT), "sender": {"integrationId": "x"}}), 400) == [
        "ENG005020"]
    assert codes(await send(api, "not-a-guid", message(TEXT)), 400) == ["ENG005020"]
    assert codes(await api.request("POST", f"{DIRECT}/{conversation}", data=b" ",
                                   headers={"Content-Type": "application/json"}), 400) == ["ENG005000"]
    agent = await add_agent(api, name="another agent")
    empty = {"type": "message", "message": {**CAROUSEL, "items": []}, "sender": {"integrationId": agent}}
    assert codes(await send(api, conversation, empty), 400) == ["ENG005015"]
    assert codes(await send(api, MISSING, message(TEXT)), 404) == ["ENG006500"]


async def test_carousels_and_lists_come_from_agents_and_bots_only(api: Api, conversation: str) -> None:
    refused = await send(api, conversation, {"type": "message", "message": CAROUSEL})
    assert codes(refused, 400) == ["ENG005002"]
    assert "sent by agents and bots only" in refused.body.decode()
    agent = await add_agent(api, name="agent two")
    answer = await said(api, conversation, {"type": "message", "message": CAROUSEL, "sender": {"integrationId": agent}})
    assert answer["integrationId"] == agent


async def test_an_agent_or_bot_names_itself_and_only_those_of_the_hub_may(api: Api, conversation: str) -> None:
    text = {"type": "message", "message": TEXT}
    assert codes(await send(api, conversation, {**text, "sender": {"integrationId": MISSING}}), 404) == ["ENG006000"]
    assert codes(await send(api, conversation, {**text, "sender": {"integrationId": SYSTEM_A}}), 403) == [
        "ENG000110"]
    assert codes(await send(api, conversation, {**text, "sender": {"integrationId": SLACK_A3}}), 403) == [
        "ENG000110"]  # an agent, of another hub
    assert codes(await send(api, conversation, {**text, "sender": {"integrationId": INTEGRATION_B}}), 403) == [
        "ENG000101"]
    own = await said(api, conversation, {**text, "sender": {"integrationId": DIRECT_CUSTOMER}})
    assert own["integrationId"] == DIRECT_CUSTOMER  # the customer may name itself


async def test_a_customer_in_a_hub_without_an_agent_or_bot_is_refused(api: Api) -> None:
    made = await establish(api)  # HUB_A has no Agent or Bot integration in the built-in data
    refused = await send(api, made["conversationId"], {"type": "message", "message": TEXT})
    assert codes(refused, 400) == ["ENG005501"]


# -- interactions ----------------------------------------------------------------------------------------

async def test_the_interactions_list_the_activities_of_a_side_after_leid(api: Api, conversation: str) -> None:
    agent = (await activities(api, conversation, "Agent"))
    assert agent == []
    first = await said(api, conversation, {"type": "message", "message": TEXT, "externalId": "one"})
    agent_id = await add_agent(api, name="the answering agent")
    second = await said(api, conversation, {"type": "message", "message": {"type": "text", "text": "Hello!"},
                                            "sender": {"integrationId": agent_id}})
    customer = await activities(api, conversation, "Customer")
    assert [a["eventId"] for a in customer] == [first["eventId"], second["eventId"]]
    one, two = customer
    assert (one["eventTrigger"], one["sender"]["integrationType"], one["recipient"]["integrationType"]) == (
        "message:customer", "Customer", "Agent")
    assert (one["externalId"], one["isEcho"], one["flowProcess"], one["message"]) == ("one", False, "Default", TEXT)
    assert (two["eventTrigger"], two["sender"]["integrationId"], two["recipient"]["integrationId"]) == (
        "message:agent", agent_id, DIRECT_CUSTOMER)
    assert await activities(api, conversation, "agent") == customer  # the page writes 'agent' too
    assert await activities(api, conversation, "Bot") == []
    assert await activities(api, conversation, "Customer", leid=first["eventId"]) == [two]


async def test_a_customer_message_goes_to_the_agent_that_last_answered(api: Api, conversation: str) -> None:
    later = await add_agent(api, name="a later agent")
    await said(api, conversation, {"type": "message", "message": TEXT, "sender": {"integrationId": later}})
    await said(api, conversation, {"type": "message", "message": TEXT})
    last = (await activities(api, conversation, "Customer"))[-1]
    assert last["recipient"]["integrationId"] == later


async def test_the_interactions_endpoint_refuses_a_missing_or_unknown_type(api: Api, conversation: str) -> None:
    path = f"{ACTIVITIES}/{conversation}"
    assert codes(await api.get(path), 400) == ["ENG000200"]
    assert codes(await api.get(path, params={"type": "Robot"}), 400) == ["ENG000206"]
    assert codes(await api.get(path, params={"type": "Agent", "leid": "-1"}), 400) == ["ENG000209"]
    assert codes(await api.get(f"{ACTIVITIES}/{MISSING}", params={"type": "Agent"}), 404) == ["ENG006500"]
    assert codes(await api.get(f"{ACTIVITIES}/nope", params={"type": "Agent"}), 400) == ["ENG000203"]


# -- conversations go with their integration and hub -----------------------------------------------------------

async def test_a_conversation_goes_with_its_integration_and_its_hub(api: Api) -> None:
    customer = await add_integration(api, HUB_A3, "Direct", "Direct customer", {"integrationType": "Customer"})
    made = await establish(api, integration=customer)
    await said(api, made["conversationId"], {"type": "message", "message": TEXT})  # to hub A3's Slack agent
    assert (await api.delete(f"/api/v1/integrations/{customer}")).status == 200
    assert codes(await api.get(f"{CONVERSATIONS}/{made['conversationId']}"), 404) == ["ENG006500"]
    again = await establish(api)
    assert (await api.delete(f"/api/v1/hubs/{HUB_A}")).status == 200
    assert codes(await api.get(f"{CONVERSATIONS}/{again['conversationId']}"), 404) == ["ENG006500"]


async def test_activities_count_towards_the_session_s_records(make_api: MakeApi) -> None:
    api = await make_api(max_session_records=3)
    await add_agent(api)  # one record
    made = await establish(api)  # two
    await said(api, made["conversationId"], {"type": "message", "message": TEXT})  # three
    full = await send(api, made["conversationId"], {"type": "message", "message": TEXT})
    assert codes(full, 429) == ["ENG000111"]
    assert "--max-session-records 3" in full.body.decode()
