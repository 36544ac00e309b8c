"""Portal API integrations over HTTP: create, update, get, get by channel type, get collection,
delete, and the hub cascade (Portal docs, Integrations; decisions.md, Integrations). The Api client checks every
response body against the contract."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mockhub.dataset.fixtures import FixtureError, dump
from mockhub.web.keys import SESSIONS
from tests.conftest import HUB_A, HUB_B, INTEGRATION_B, OTHER_TOKEN, Api, MakeApi

BASE = "/api/v1/integrations"
DEV_HUB = "00000000-0000-0000-0000-0000000000a2"
"""Tenant A's hub without integrations in the built-in dataset."""
DEMO_HUB = "00000000-0000-0000-0000-0000000000a3"
"""Tenant A's hub with the built-in WebChat and Slack integrations."""
MISSING = "11111111-1111-1111-1111-111111111111"
FIXTURE_TWILIO = "00000000-0000-0000-0000-0000000000b1"
FIXTURE_DIRECT = "00000000-0000-0000-0000-0000000000b4"
FIXTURE_SYSTEM = "00000000-0000-0000-0000-0000000000b5"
NOW = "2021-01-01T00:00:00.0000000Z"

WELCOME = [{"type": "text", "text": "Welcome to Hubster! How can we help you?"}]
ACCOUNT_SID = "AC1fc1c1722444b0c6313d3ae988b0c6f3"
CONFIGS: dict[str, dict[str, Any]] = {
    "TwilioSMS": {"authToken": "cb8c5367c3c4586ecb589e25570d41a9", "accountSid": ACCOUNT_SID,
                  "numberSid": "PN667435536f4d1cefdf054abf9904d1e2"},
    "Messenger": {"pageAccessToken": "EAAFBmgAdBToBADCvmo5w10tmlh97uxhtorpi5Adrdo0wtwFfXfkNxxLAY29AxwBHJNfXH5rR"},
    "WebChat": {"allowedOrigins": ["localhost", "hubster.io"], "start": WELCOME},
    "Direct": {"integrationType": "Agent", "echo": True, "webhookUrl": "https://url_end_point.com", "start": WELCOME},
    "System": {"webhookUrl": "https://url_end_point.com", "events": ["message:customer", "message:agent"]},
    "Slack": {"code": "1234567890.0987654321.abcdef", "state": "1606780800.secret"},
}
CHANNEL_IDS = {"Direct": 1, "System": 3, "Messenger": 101, "TwilioSMS": 102, "WebChat": 106, "Slack": 1001}
INTEGRATION_TYPES = {"TwilioSMS": "Customer", "Messenger": "Customer", "WebChat": "Customer", "Direct": "Agent",
                     "System": "System", "Slack": "Agent"}
KEY = re.compile(r"^[0-9A-F]{32}$")
SLACK_BOT_TOKEN = re.compile(r"^xoxb-\d{12}-\d{13}-[A-Za-z0-9]{24}$")
SLACK_USER_TOKEN = re.compile(r"^xoxp-\d{12}-\d{12}-\d{13}-[0-9a-f]{32}$")


def body_for(channel: str | int, name: str | None = None, **extra: Any) -> dict[str, Any]:
    channel_name = channel if isinstance(channel, str) else {v: k for k, v in CHANNEL_IDS.items()}[channel]
    return {"channelId": channel, "name": name or f"{channel_name} integration",
            "configuration": CONFIGS[channel_name], **extra}


async def create(api: Api, channel: str, hub_id: str = DEV_HUB, **kw: Any) -> dict[str, Any]:
    reply = await api.post(f"{BASE}/hubs/{hub_id}", body_for(channel, **kw))
    assert reply.status == 200, reply.body
    integration: dict[str, Any] = reply.json()
    return integration


def descriptions(reply: Any) -> list[str]:
    return sorted(e["description"] for e in reply.json()["errors"])


# --- create ---------------------------------------------------------------------------------


async def test_create_twilio_sms_adds_a_phone_number_and_capabilities(api: Api) -> None:
    integration = await create(api, "TwilioSMS")
    config = integration["configuration"]
    assert list(config) == ["accountSid", "authToken", "numberSid", "phoneNumber", "capabilities"]
    assert {k: config[k] for k in CONFIGS["TwilioSMS"]} == CONFIGS["TwilioSMS"]
    assert re.fullmatch(r"\+1[2-9]\d{2}[2-9]\d{6}", config["phoneNumber"])
    assert config["capabilities"] == {"mms": True, "sms": True, "voice": True}
    assert integration["inboundId"] == ACCOUNT_SID


async def test_create_messenger_adds_app_and_page_ids(api: Api) -> None:
    integration = await create(api, "Messenger")
    config = integration["configuration"]
    assert list(config) == ["appId", "pageId", "pageAccessToken"]
    assert re.fullmatch(r"\d{15}", config["appId"])
    assert re.fullmatch(r"\d{15}", config["pageId"])
    assert config["appId"] != config["pageId"]
    assert config["pageAccessToken"] == CONFIGS["Messenger"]["pageAccessToken"]
    assert integration["inboundId"] == config["pageId"]


async def test_create_webchat_adds_echo(api: Api) -> None:
    integration = await create(api, "WebChat")
    assert integration["configuration"] == {"allowedOrigins": ["localhost", "hubster.io"], "echo": True,
                                            "start": WELCOME}
    assert "inboundId" not in integration


@pytest.mark.parametrize("channel", ["Direct", "System"])
async def test_create_direct_and_system_add_two_distinct_signing_keys(api: Api, channel: str) -> None:
    integration = await create(api, channel)
    config = integration["configuration"]
    assert KEY.match(config["publicSigningKey"])
    assert KEY.match(config["privateSigningKey"])
    assert config["publicSigningKey"] != config["privateSigningKey"]
    given = {k: v for k, v in config.items() if not k.endswith("SigningKey")}
    assert given == CONFIGS[channel]


async def test_create_slack_exchanges_the_code_for_tokens(api: Api) -> None:
    integration = await create(api, "Slack")
    config = integration["configuration"]
    assert list(config) == ["botAccessToken", "appAccessToken", "defaultPublicChannel", "teamId", "botName"]
    assert SLACK_BOT_TOKEN.match(config["botAccessToken"])
    assert SLACK_USER_TOKEN.match(config["appAccessToken"])
    assert config["defaultPublicChannel"] == "general"
    assert re.fullmatch(r"T[0-9A-Z]{8}", config["teamId"])
    assert config["botName"] == "Hubster.io"


@pytest.mark.parametrize("channel", list(CONFIGS))
async def test_create_returns_the_integration_and_get_reads_it_back(api: Api, channel: str) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", body_for(channel, name="My cool integration name."))
    assert reply.status == 200
    integration = reply.json()
    assert integration["hubId"] == DEV_HUB
    assert integration["channelId"] == channel
    assert integration["integrationTypeId"] == INTEGRATION_TYPES[channel]
    assert integration["name"] == "My cool integration name."
    assert integration["statusId"] == 3000
    assert integration["created"] == integration["modified"] == NOW
    fetched = await api.get(f"{BASE}/{integration['integrationId']}")
    assert fetched.status == 200
    assert fetched.json() == integration


@pytest.mark.parametrize(("channel", "channel_id"), list(CHANNEL_IDS.items()))
async def test_channel_id_may_be_the_numeric_id_and_is_answered_as_a_name(api: Api, channel: str,
                                                                          channel_id: int) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", body_for(channel_id))
    assert reply.status == 200
    assert reply.json()["channelId"] == channel
    assert reply.json()["integrationTypeId"] == INTEGRATION_TYPES[channel]


@pytest.mark.parametrize("integration_type", ["Customer", "Agent"])
async def test_a_direct_integrations_type_comes_from_its_configuration(api: Api, integration_type: str) -> None:
    body = {"channelId": "Direct", "name": "Direct", "configuration": {"integrationType": integration_type}}
    integration = (await api.post(f"{BASE}/hubs/{DEV_HUB}", body)).json()
    assert integration["integrationTypeId"] == integration_type
    # echo is documented as optional; left out, it is off
    assert integration["configuration"]["echo"] is False


async def test_create_takes_the_given_status(api: Api) -> None:
    integration = await create(api, "WebChat", statusId=3002)
    assert integration["statusId"] == 3002


async def test_hub_ids_in_the_path_are_case_insensitive(api: Api) -> None:
    integration = await create(api, "WebChat", hub_id=DEV_HUB.upper())
    assert integration["hubId"] == DEV_HUB
    fetched = await api.get(f"{BASE}/{integration['integrationId'].upper()}")
    assert fetched.json() == integration


# --- create: validation -----------------------------------------------------------------------


async def test_create_reports_every_missing_property(api: Api) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", {"statusId": 3001, "color": "red"})
    assert reply.status == 400
    assert descriptions(reply) == [
        "Property 'channelId' is required. (code: PRT000301)",
        "Property 'color' is not supported. (code: PRT000303)",
        "Property 'configuration' is required. (code: PRT000301)",
        "Property 'name' is required. (code: PRT000301)",
        "Value '3001' of 'statusId' is not valid; expected one of: 3000, 3002. (code: PRT000206)",
    ]


@pytest.mark.parametrize(("channel_id", "message"), [
    ("Foo", "Value 'Foo' of 'channelId' is not a channel type; expected a name (e.g. TwilioSMS) or its numeric id "
            "(e.g. 102). (code: PRT000206)"),
    (999, "Value '999' of 'channelId' is not a channel type; expected a name (e.g. TwilioSMS) or its numeric id "
          "(e.g. 102). (code: PRT000206)"),
    ("twiliosms", "Value 'twiliosms' of 'channelId' is not a channel type; expected a name (e.g. TwilioSMS) or its "
                  "numeric id (e.g. 102). (code: PRT000206)"),
    ("Bot", "Channel 'Bot' has no documented configuration, so it cannot be created. (code: PRT000206)"),
    (104, "Channel '104' has no documented configuration, so it cannot be created. (code: PRT000206)"),
])
async def test_an_unknown_or_undocumented_channel_is_400(api: Api, channel_id: object, message: str) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", {"channelId": channel_id, "name": "x", "configuration": {}})
    assert reply.status == 400
    assert descriptions(reply) == [message]


CONFIG_PROBLEMS = [
    ("TwilioSMS", {"accountSid": "AC12", "numberSid": 7, "phoneNumber": "+15550100"}, [
        "Property 'configuration.authToken' is required. (code: PRT000301)",
        "Property 'configuration.numberSid' must be a string. (code: PRT000302)",
        "Property 'configuration.phoneNumber' is not supported. (code: PRT000303)",
        "Value 'AC12' of 'configuration.accountSid' is not a Twilio account SID (AC and 32 hex digits). "
        "(code: PRT000206)",
    ]),
    ("Messenger", {"pageAccessToken": ""}, [
        "Property 'configuration.pageAccessToken' must not be empty. (code: PRT000206)",
    ]),
    ("WebChat", {"allowedOrigins": [], "start": [{"type": "text"}, {"type": "gif"}], "echo": True}, [
        "Property 'configuration.allowedOrigins' must not be empty. (code: PRT000306)",
        "Property 'configuration.echo' is not supported. (code: PRT000303)",
        "Property 'configuration.start[0].text' is required. (code: PRT000301)",
        "Value 'gif' of 'configuration.start[1].type' is not valid; expected one of: text, youtube, vimeo, video, "
        "audio, image, attachment, location, contact, card, carousel, list. (code: PRT000206)",
    ]),
    ("Direct", {"integrationType": "Bot", "webhookUrl": "ftp://files.example.com", "echo": "yes"}, [
        "Property 'configuration.echo' must be a boolean. (code: PRT000302)",
        "Value 'Bot' of 'configuration.integrationType' is not valid; expected one of: Customer, Agent. "
        "(code: PRT000206)",
        "Value 'ftp://files.example.com' of 'configuration.webhookUrl' is not an absolute http(s) URL. "
        "(code: PRT000206)",
    ]),
    ("Direct", {"echo": True, "regenerateKeys": True}, [
        "Property 'configuration.integrationType' is required. (code: PRT000301)",
        "Property 'configuration.regenerateKeys' is not supported. (code: PRT000303)",
    ]),
    ("System", {"webhookUrl": "https://url_end_point.com", "events": ["message:robot"]}, [
        "Value 'message:robot' of 'configuration.events[0]' is not valid; expected one of: message, "
        "message:customer, message:agent, message:bot. (code: PRT000206)",
    ]),
    ("System", {"events": []}, [
        "Property 'configuration.events' must not be empty. (code: PRT000306)",
        "Property 'configuration.webhookUrl' is required. (code: PRT000301)",
    ]),
    ("Slack", {"code": ""}, [
        "Property 'configuration.code' must not be empty. (code: PRT000206)",
        "Property 'configuration.state' is required. (code: PRT000301)",
    ]),
]


@pytest.mark.parametrize(("channel", "configuration", "expected"), CONFIG_PROBLEMS,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CONFIG_PROBLEMS)])
async def test_create_checks_the_configuration_against_its_channels_schema(
        api: Api, channel: str, configuration: dict[str, Any], expected: list[str]) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", {"channelId": channel, "name": "x",
                                                      "configuration": configuration})
    assert reply.status == 400
    assert descriptions(reply) == expected
    assert (await api.get(f"{BASE}/hubs/{DEV_HUB}/{channel}")).json() == []


async def test_create_checks_property_types(api: Api) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", {"channelId": "WebChat", "name": 5, "configuration": "x"})
    assert reply.status == 400
    assert descriptions(reply) == [
        "Property 'configuration' must be an object. (code: PRT000302)",
        "Property 'name' must be a string. (code: PRT000302)",
    ]


@pytest.mark.parametrize(("data", "code"), [(b"", 300), (b"{", 302), (b"[]", 302), (b'"text"', 302)])
async def test_unusable_bodies_are_400(api: Api, data: bytes, code: int) -> None:
    reply = await api.request("POST", f"{BASE}/hubs/{DEV_HUB}", data=data,
                              headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.error_codes() == [code]


@pytest.mark.parametrize("name", ["WebChat integration", "WEBCHAT INTEGRATION", "webchat integration"])
async def test_names_are_unique_per_hub_case_insensitively(api: Api, name: str) -> None:
    await create(api, "WebChat")
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", body_for("Direct", name=name))
    assert reply.status == 400
    assert descriptions(reply) == [
        f"An integration named '{name}' already exists in this hub. (code: PRT000700)"]


async def test_another_hub_may_use_the_same_name(api: Api) -> None:
    first = await create(api, "WebChat")
    second = await create(api, "WebChat", hub_id=HUB_A)
    assert first["name"] == second["name"]
    assert first["integrationId"] != second["integrationId"]


# --- update -----------------------------------------------------------------------------------


async def test_update_changes_name_and_status_and_moves_modified(api: Api) -> None:
    integration = await create(api, "WebChat")
    reply = await api.post(f"{BASE}/hubs/{integration['integrationId']}", {"name": "Renamed", "statusId": 3002})
    assert reply.status == 200
    updated = reply.json()
    assert updated == {**integration, "name": "Renamed", "statusId": 3002, "modified": "2021-01-01T00:00:01.0000000Z"}
    assert (await api.get(f"{BASE}/{integration['integrationId']}")).json() == updated


async def test_update_replaces_the_whole_configuration(api: Api) -> None:
    integration = await create(api, "WebChat")
    reply = await api.post(f"{BASE}/hubs/{integration['integrationId']}",
                           {"configuration": {"allowedOrigins": ["app.example.com"]}})
    assert reply.status == 200
    # start is gone (the configuration is replaced, not merged); the server's echo stays
    assert reply.json()["configuration"] == {"allowedOrigins": ["app.example.com"], "echo": True}
    assert reply.json()["created"] == integration["created"]


async def test_update_of_direct_keeps_the_signing_keys_and_rederives_the_type(api: Api) -> None:
    integration = await create(api, "Direct")
    old = integration["configuration"]
    new_config = {"integrationType": "Customer", "webhookUrl": "http://hubster.io/v1/api/integration?customer=1"}
    updated = (await api.post(f"{BASE}/hubs/{integration['integrationId']}", {"configuration": new_config})).json()
    assert updated["integrationTypeId"] == "Customer"
    assert updated["configuration"] == {
        "integrationType": "Customer", "echo": False, "webhookUrl": new_config["webhookUrl"],
        "publicSigningKey": old["publicSigningKey"], "privateSigningKey": old["privateSigningKey"],
    }


@pytest.mark.parametrize("integration_id", [FIXTURE_DIRECT, FIXTURE_SYSTEM])
async def test_regenerate_keys_makes_new_signing_keys_and_is_not_stored(api: Api, integration_id: str) -> None:
    old = (await api.get(f"{BASE}/{integration_id}")).json()
    config = {k: v for k, v in old["configuration"].items() if not k.endswith("SigningKey") and k != "echo"}
    reply = await api.post(f"{BASE}/hubs/{integration_id}", {"configuration": {**config, "regenerateKeys": True}})
    assert reply.status == 200
    new = reply.json()["configuration"]
    assert "regenerateKeys" not in new
    for key in ("publicSigningKey", "privateSigningKey"):
        assert KEY.match(new[key])
        assert new[key] != old["configuration"][key]
    assert (await api.get(f"{BASE}/{integration_id}")).json()["configuration"] == new


async def test_regenerate_keys_false_keeps_them(api: Api) -> None:
    old = (await api.get(f"{BASE}/{FIXTURE_SYSTEM}")).json()["configuration"]
    body = {"configuration": {"webhookUrl": "https://hooks.example.com/hubster", "events": ["message"],
                              "regenerateKeys": False}}
    new = (await api.post(f"{BASE}/hubs/{FIXTURE_SYSTEM}", body)).json()["configuration"]
    assert new == {"events": ["message"], "webhookUrl": "https://hooks.example.com/hubster",
                   "publicSigningKey": old["publicSigningKey"], "privateSigningKey": old["privateSigningKey"]}


@pytest.mark.parametrize("channel", ["TwilioSMS", "Messenger", "Slack"])
async def test_configuration_updates_of_twilio_messenger_and_slack_are_ignored(api: Api, channel: str) -> None:
    integration = await create(api, channel)
    body = {"name": "Still renamed", "configuration": {"authToken": "new", "pageAccessToken": "new", "code": "new"}}
    reply = await api.post(f"{BASE}/hubs/{integration['integrationId']}", body)
    assert reply.status == 200
    assert reply.json()["configuration"] == integration["configuration"]
    assert reply.json()["name"] == "Still renamed"


async def test_update_may_keep_its_own_name_in_another_case(api: Api) -> None:
    integration = await create(api, "WebChat")
    reply = await api.post(f"{BASE}/hubs/{integration['integrationId']}", {"name": "WEBCHAT INTEGRATION"})
    assert reply.status == 200
    assert reply.json()["name"] == "WEBCHAT INTEGRATION"
    # a new integration still collides with it
    assert (await api.post(f"{BASE}/hubs/{DEV_HUB}", body_for("WebChat"))).error_codes() == [700]


async def test_update_to_a_taken_name_is_refused_and_a_released_name_is_free(api: Api) -> None:
    web_chat = await create(api, "WebChat")
    direct = await create(api, "Direct")
    reply = await api.post(f"{BASE}/hubs/{direct['integrationId']}", {"name": "webchat integration"})
    assert reply.status == 400
    assert reply.error_codes() == [700]
    await api.post(f"{BASE}/hubs/{web_chat['integrationId']}", {"name": "Chat"})
    reply = await api.post(f"{BASE}/hubs/{direct['integrationId']}", {"name": "webchat integration"})
    assert reply.status == 200


UPDATE_PROBLEMS = [
    ("Direct", {"configuration": {"echo": True}, "channelId": "Direct"}, [
        "Property 'channelId' is not supported. (code: PRT000303)",
        "Property 'configuration.integrationType' is required. (code: PRT000301)",
    ]),
    ("Direct", {"name": "", "configuration": {"integrationType": "Agent", "regenerateKeys": "yes"}}, [
        "Property 'configuration.regenerateKeys' must be a boolean. (code: PRT000302)",
        "Property 'name' must not be empty. (code: PRT000206)",
    ]),
    ("System", {"statusId": 2000, "configuration": {"events": ["message"]}}, [
        "Property 'configuration.webhookUrl' is required. (code: PRT000301)",
        "Value '2000' of 'statusId' is not valid; expected one of: 3000, 3002. (code: PRT000206)",
    ]),
    ("WebChat", {"configuration": {"allowedOrigins": ["localhost"], "regenerateKeys": True, "echo": False}}, [
        "Property 'configuration.echo' is not supported. (code: PRT000303)",
        "Property 'configuration.regenerateKeys' is not supported. (code: PRT000303)",
    ]),
    ("TwilioSMS", {"configuration": []}, [
        "Property 'configuration' must be an object. (code: PRT000302)",
    ]),
]


@pytest.mark.parametrize(("channel", "body", "expected"), UPDATE_PROBLEMS,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(UPDATE_PROBLEMS)])
async def test_update_checks_the_body_and_the_channels_update_schema(api: Api, channel: str, body: dict[str, Any],
                                                                     expected: list[str]) -> None:
    integration = await create(api, channel)
    reply = await api.post(f"{BASE}/hubs/{integration['integrationId']}", body)
    assert reply.status == 400
    assert descriptions(reply) == expected
    assert (await api.get(f"{BASE}/{integration['integrationId']}")).json() == integration


async def test_an_update_body_is_not_checked_as_a_create(api: Api) -> None:
    # The create schema would want channelId, name and configuration: an update needs none of them.
    reply = await api.post(f"{BASE}/hubs/{FIXTURE_TWILIO}", {})
    assert reply.status == 200
    assert reply.json()["modified"] == NOW


# --- 401, 403, 404 ------------------------------------------------------------------------------


AUTH_CASES = {"missing": None, "unknown": "Bearer no-such-token", "not bearer": "Basic bW9jazptb2Nr"}


@pytest.mark.parametrize("authorization", list(AUTH_CASES.values()), ids=list(AUTH_CASES))
@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"{BASE}/hubs/{HUB_A}"), ("POST", f"{BASE}/hubs/{FIXTURE_TWILIO}"), ("GET", f"{BASE}/{FIXTURE_TWILIO}"),
    ("DELETE", f"{BASE}/{FIXTURE_TWILIO}"), ("GET", f"{BASE}/hubs/{HUB_A}/TwilioSMS"), ("GET", BASE),
])
async def test_every_integration_operation_needs_a_valid_token(api: Api, method: str, path: str,
                                                               authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    body = body_for("WebChat") if method == "POST" else None
    reply = await api.request(method, path, token=None, headers=headers, json_body=body)
    assert reply.status == 401
    assert reply.error_codes() == [102]


async def test_401_comes_before_lookup_and_validation(api: Api) -> None:
    reply = await api.post(f"{BASE}/hubs/{MISSING}", {"bogus": True}, token="wrong")
    assert reply.status == 401


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", f"{BASE}/hubs/{HUB_A}", body_for("WebChat")),
    ("POST", f"{BASE}/hubs/{FIXTURE_TWILIO}", {"name": "Taken over"}),
    ("GET", f"{BASE}/{FIXTURE_TWILIO}", None),
    ("DELETE", f"{BASE}/{FIXTURE_TWILIO}", None),
    ("GET", f"{BASE}/hubs/{HUB_A}/TwilioSMS", None),
    ("GET", f"{BASE}?hubId={HUB_A}", None),
])
async def test_another_tenants_hub_or_integration_is_403(api: Api, method: str, path: str, body: object) -> None:
    kwargs = {"json_body": body} if body is not None else {}
    reply = await api.request(method, path, token=OTHER_TOKEN, **kwargs)
    assert reply.status == 403
    assert reply.error_codes() == [101]
    # and nothing changed for the owner
    owner = await api.get(f"{BASE}/{FIXTURE_TWILIO}")
    assert owner.json()["name"] == "Twilio Test Number: 16476960489"
    assert (await api.get(f"{BASE}/hubs/{HUB_A}/WebChat")).json() == []


async def test_a_tenant_cannot_create_in_another_tenants_hub(api: Api) -> None:
    reply = await api.post(f"{BASE}/hubs/{HUB_B}", body_for("WebChat"))
    assert reply.status == 403
    assert reply.error_codes() == [101]
    assert [i["integrationId"] for i in (await api.get(f"{BASE}/hubs/{HUB_B}/WebChat", token=OTHER_TOKEN)).json()] \
        == [INTEGRATION_B]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"{BASE}/{INTEGRATION_B}"), ("DELETE", f"{BASE}/{INTEGRATION_B}"),
    ("GET", f"{BASE}/hubs/{HUB_B}/WebChat"), ("GET", f"{BASE}?hubId={HUB_B}"),
])
async def test_the_built_in_data_gives_a_403_without_set_up(api: Api, method: str, path: str) -> None:
    reply = await api.request(method, path)
    assert (reply.status, reply.error_codes()) == (403, [101])
    assert (await api.get(f"{BASE}/{INTEGRATION_B}", token=OTHER_TOKEN)).json()["name"] == "Tenant B website chat"


@pytest.mark.parametrize(("method", "path", "code"), [
    ("POST", f"{BASE}/hubs/{MISSING}", 699),
    ("GET", f"{BASE}/{MISSING}", 799),
    ("DELETE", f"{BASE}/{MISSING}", 799),
    ("GET", f"{BASE}/hubs/{MISSING}/WebChat", 699),
    ("GET", f"{BASE}?hubId={MISSING}", 699),
])
async def test_what_does_not_exist_is_404(api: Api, method: str, path: str, code: int) -> None:
    kwargs = {"json_body": body_for("WebChat")} if method == "POST" else {}
    reply = await api.request(method, path, **kwargs)
    assert reply.status == 404
    assert reply.error_codes() == [code]
    assert MISSING in reply.json()["errors"][0]["description"]


@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"{BASE}/hubs/not-a-guid"), ("GET", f"{BASE}/not-a-guid"), ("DELETE", f"{BASE}/not-a-guid"),
    ("GET", f"{BASE}/hubs/not-a-guid/WebChat"), ("GET", f"{BASE}?hubId=not-a-guid"),
])
async def test_a_malformed_id_is_400_bad_guid(api: Api, method: str, path: str) -> None:
    kwargs = {"json_body": body_for("WebChat")} if method == "POST" else {}
    reply = await api.request(method, path, **kwargs)
    assert reply.status == 400
    assert reply.error_codes() == [203]


# --- get by channel type ----------------------------------------------------------------------


async def test_get_by_channel_type_is_a_bare_array_in_creation_order(api: Api) -> None:
    first = await create(api, "Direct", name="Direct Customer 2 (Webhook)")
    await create(api, "WebChat")
    second = await create(api, "Direct", name="Direct Agent (Websocket)")
    await create(api, "Direct", hub_id=HUB_A, name="Elsewhere")
    for channel_type in ("Direct", "1"):
        reply = await api.get(f"{BASE}/hubs/{DEV_HUB}/{channel_type}")
        assert reply.status == 200
        assert reply.json() == [first, second]


async def test_get_by_channel_type_finds_the_built_in_ones(api: Api) -> None:
    reply = await api.get(f"{BASE}/hubs/{DEMO_HUB}/Slack")
    assert [i["name"] for i in reply.json()] == ["Slack for Hubster Demo"]
    assert (await api.get(f"{BASE}/hubs/{DEMO_HUB}/Kik")).json() == []


@pytest.mark.parametrize("channel_type", ["Foo", "999", "twiliosms", "0"])
async def test_an_unknown_channel_type_is_400(api: Api, channel_type: str) -> None:
    reply = await api.get(f"{BASE}/hubs/{DEV_HUB}/{channel_type}")
    assert reply.status == 400
    assert descriptions(reply) == [
        f"Value '{channel_type}' of 'channelType' is not a channel type; expected a name (e.g. TwilioSMS) or its "
        "numeric id (e.g. 102). (code: PRT000206)"]


# --- get collection ---------------------------------------------------------------------------


async def test_collection_holds_the_tenants_integrations_in_creation_order(api: Api) -> None:
    created = await create(api, "WebChat")
    page = (await api.get(BASE)).json()
    assert (page["pageNumber"], page["pageSize"], page["total"]) == (0, 50, 7)
    assert [i["channelId"] for i in page["results"]] == [
        "TwilioSMS", "Messenger", "WebChat", "Direct", "System", "Slack", "WebChat"]
    assert page["results"][-1] == created
    other = (await api.get(BASE, token=OTHER_TOKEN)).json()
    assert (other["total"], [i["integrationId"] for i in other["results"]]) == (1, [INTEGRATION_B])


async def test_collection_pages_and_total_counts_everything(api: Api) -> None:
    for i in range(5):
        await create(api, "WebChat", name=f"Chat {i}")
    pages = [(await api.get(BASE, params={"pageNumber": n, "pageSize": 4})).json() for n in range(4)]
    assert [p["total"] for p in pages] == [11, 11, 11, 11]
    assert [len(p["results"]) for p in pages] == [4, 4, 3, 0]
    assert len({i["integrationId"] for p in pages for i in p["results"]}) == 11


async def test_collection_filters_by_hub(api: Api) -> None:
    created = [await create(api, "WebChat", name=f"Chat {i}") for i in range(3)]
    page = (await api.get(BASE, params={"hubId": DEV_HUB, "pageSize": 2, "pageNumber": 1})).json()
    assert (page["total"], page["results"]) == (3, created[2:])
    demo = (await api.get(BASE, params={"hubId": DEMO_HUB.upper()})).json()
    assert [i["name"] for i in demo["results"]] == ["Webchat for Hubster Demo (Blank)", "Slack for Hubster Demo"]
    other = (await api.get(BASE, params={"hubId": HUB_B}, token=OTHER_TOKEN)).json()
    assert [i["name"] for i in other["results"]] == ["Tenant B website chat"]


@pytest.mark.parametrize(("params", "codes"), [
    ({"pageNumber": "-1"}, [209]), ({"pageSize": "0"}, [206]), ({"pageSize": "101"}, [206]),
    ({"pageNumber": "x", "pageSize": "y"}, [210, 210]),
])
async def test_bad_paging_is_400(api: Api, params: dict[str, str], codes: list[int]) -> None:
    reply = await api.get(BASE, params=params)
    assert reply.status == 400
    assert sorted(reply.error_codes()) == codes


# --- delete and the hub cascade ---------------------------------------------------------------


async def test_delete_answers_the_integration_and_removes_it(api: Api) -> None:
    integration = await create(api, "Direct")
    reply = await api.delete(f"{BASE}/{integration['integrationId']}")
    assert reply.status == 200
    assert reply.json() == integration
    assert (await api.get(f"{BASE}/{integration['integrationId']}")).error_codes() == [799]
    assert (await api.delete(f"{BASE}/{integration['integrationId']}")).error_codes() == [799]
    # an integration id no longer names an update target
    assert (await api.post(f"{BASE}/hubs/{integration['integrationId']}", {"name": "x"})).error_codes() == [699]
    assert (await api.get(f"{BASE}/hubs/{DEV_HUB}/Direct")).json() == []
    assert (await api.get(BASE)).json()["total"] == 6
    # the name is free again
    assert (await create(api, "Direct"))["name"] == integration["name"]


async def test_deleting_a_hub_deletes_its_integrations(api: Api) -> None:
    mine = [await create(api, channel) for channel in ("WebChat", "Direct", "Slack")]
    assert (await api.get(BASE)).json()["total"] == 9
    assert (await api.delete(f"/api/v1/hubs/{DEV_HUB}")).status == 200
    for integration in mine:
        assert (await api.get(f"{BASE}/{integration['integrationId']}")).error_codes() == [799]
    page = (await api.get(BASE, params={"pageSize": 3, "pageNumber": 1})).json()
    assert page["total"] == 6
    assert [i["name"] for i in page["results"]] == ["Direct Customer (Webhook)", "My cool integration name.",
                                                    "Slack for Hubster Demo"]
    assert (await api.get(BASE, params={"hubId": DEV_HUB})).error_codes() == [699]
    # the other hubs' integrations are untouched
    assert (await api.get(f"{BASE}/{FIXTURE_TWILIO}")).status == 200


# --- determinism, fixtures and dumps ------------------------------------------------------------


async def generated_values(api: Api) -> list[dict[str, Any]]:
    created = [await create(api, channel) for channel in CONFIGS]
    rekeyed = await api.post(f"{BASE}/hubs/{FIXTURE_DIRECT}", {"configuration": {
        "integrationType": "Agent", "regenerateKeys": True}})
    return [*created, rekeyed.json()]


async def test_the_same_seed_gives_the_same_generated_values(make_api: MakeApi) -> None:
    first = await generated_values(await make_api(seed=7))
    second = await generated_values(await make_api(seed=7))
    assert first == second
    other = await generated_values(await make_api(seed=8))
    assert [i["integrationId"] for i in other] != [i["integrationId"] for i in first]
    assert other[0]["configuration"]["phoneNumber"] != first[0]["configuration"]["phoneNumber"]
    assert other[-1]["configuration"] != first[-1]["configuration"]


async def test_the_built_in_dataset_has_one_integration_of_each_documented_channel(api: Api) -> None:
    page = (await api.get(BASE)).json()
    assert sorted(i["channelId"] for i in page["results"]) == sorted(CONFIGS)
    assert {i["hubId"] for i in page["results"]} == {HUB_A, DEMO_HUB}
    twilio = (await api.get(f"{BASE}/{FIXTURE_TWILIO}")).json()
    assert twilio["inboundId"] == twilio["configuration"]["accountSid"]
    assert twilio["configuration"]["phoneNumber"] == "+16476960489"


async def test_a_dump_loads_back_into_the_same_state(api: Api, make_api: MakeApi, tmp_path: Path) -> None:
    await create(api, "Slack")
    await create(api, "Direct", hub_id=HUB_A)
    await api.post(f"{BASE}/hubs/{FIXTURE_SYSTEM}", {"name": "Renamed", "configuration": {
        "webhookUrl": "https://hooks.example.com", "events": ["message"], "regenerateKeys": True}})
    await api.delete(f"{BASE}/{FIXTURE_TWILIO}")
    assert api.client is not None
    state = dump(api.client.server.app[SESSIONS].default.store)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    reloaded = await make_api(fixtures=(path,))
    for token in (None, OTHER_TOKEN):
        kwargs = {"token": token} if token else {}
        for path in (BASE, "/api/v1/hubs"):
            assert (await reloaded.get(path, **kwargs)).json() == (await api.get(path, **kwargs)).json()
    # names stay taken after the reload
    assert (await reloaded.post(f"{BASE}/hubs/{DEV_HUB}", body_for("Slack"))).error_codes() == [700]


async def test_fixture_integrations_get_the_server_fields_they_leave_out(make_api: MakeApi, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({
        "tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["my-token"]}],
        "hubs": [{"hubId": "33333333-3333-3333-3333-333333333333", "tenantId": "22222222-2222-2222-2222-222222222222",
                  "name": "Mine", "description": ""}],
        "integrations": [
            {"hubId": "33333333-3333-3333-3333-333333333333", "channelId": 1001, "name": "Slack",
             "configuration": {"teamId": "T0123ABCD"}},
            {"hubId": "33333333-3333-3333-3333-333333333333", "channelId": "Direct", "name": "Direct",
             "configuration": {"integrationType": "Customer"}},
        ],
    }))
    api = await make_api(fixtures=(path,))
    slack, direct = (await api.get(BASE, token="my-token")).json()["results"]
    assert slack["channelId"] == "Slack"
    assert slack["configuration"]["teamId"] == "T0123ABCD"
    assert SLACK_BOT_TOKEN.match(slack["configuration"]["botAccessToken"])
    assert direct["integrationTypeId"] == "Customer"
    assert KEY.match(direct["configuration"]["publicSigningKey"])


INTEGRATION = {"hubId": HUB_A, "channelId": "WebChat", "name": "Chat", "configuration": {"allowedOrigins": ["x"]}}


@pytest.mark.parametrize(("records", "expected"), [
    ([{**INTEGRATION, "hubId": MISSING}],
     f"integrations[0] (name 'Chat'): hub {MISSING} is not defined in 'hubs'"),
    ([{**INTEGRATION, "integrationTypeId": "Agent"}],
     "integrations[0] (name 'Chat'): integrationTypeId 'Agent' does not fit the channel and configuration "
     "(derived: 'Customer')"),
    ([{**INTEGRATION, "inboundId": "x"}],
     "integrations[0] (name 'Chat'): inboundId 'x' does not fit the channel and configuration "
     "(derived: none for this channel)"),
    ([{**INTEGRATION, "channelId": "TwilioSMS", "configuration": {"accountSid": "AC1", "authToken": "t",
                                                                   "numberSid": "PN" + "0" * 32}}],
     "integrations[0] (name 'Chat'): Value 'AC1' of 'configuration.accountSid' is not a Twilio account SID"),
    ([{**INTEGRATION, "channelId": "Kik"}],
     "integrations[0] (name 'Chat'): Channel 'Kik' has no documented configuration, so it cannot be loaded."),
    ([INTEGRATION, {**INTEGRATION, "name": "CHAT"}],
     "integrations[1] (name 'CHAT'): An integration named 'CHAT' already exists in this hub."),
    ([{**INTEGRATION, "integrationId": FIXTURE_TWILIO.upper()}],
     f"integrations[0] (integrationId '{FIXTURE_TWILIO.upper()}'): integration {FIXTURE_TWILIO} is defined twice"),
])
async def test_a_bad_fixture_integration_stops_start_up_naming_it(make_api: MakeApi, tmp_path: Path,
                                                                  records: list[dict[str, Any]], expected: str) -> None:
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"integrations": records}))
    default = Path(__file__).parent.parent / "fixtures" / "default.json"
    with pytest.raises(FixtureError) as caught:
        await make_api(fixtures=(default, path))
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(("channel_id", "expected"), [("106", "WebChat"), (106, "WebChat")])
async def test_a_numeric_channel_id_may_be_a_number_or_a_string_of_digits(api: Api, channel_id: object,
                                                                          expected: str) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", {"channelId": channel_id, "name": f"Chat {channel_id!r}",
                                                      "configuration": {"allowedOrigins": ["localhost"]}})
    assert reply.status == 200
    assert reply.json()["channelId"] == expected


@pytest.mark.parametrize("channel_id", ["103", "999", "1e2", " 106"])
async def test_other_numeric_strings_are_refused(api: Api, channel_id: str) -> None:
    reply = await api.post(f"{BASE}/hubs/{DEV_HUB}", {"channelId": channel_id, "name": "x", "configuration": {}})
    assert reply.status == 400
