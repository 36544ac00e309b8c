"""Bad requests get the API's own error body, never a 500 or an HTML page (decisions.md, Errors; issue 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.resources import admin_contract_path, contract_path
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from tests.conftest import POINTS, TOKEN, Api, MakeApi

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize(("data", "code"), [
    (b"", 300),
    (b"   ", 300),
    (b"{", 302),
    (b"{'name': 'single quotes'}", 302),
    (b'{"name": NaN, "description": ""}', 302),
    (b"\xff\xfe{}", 302),
    (b"[]", 302),
    (b'"a string"', 302),
    (b"null", 302),
])
async def test_unusable_bodies_are_400_with_the_body_codes(api: Api, data: bytes, code: int) -> None:
    reply = await api.request("POST", "/api/v1/hubs", token=None, data=data, headers=AUTH)
    assert reply.status == 400
    assert reply.error_codes() == [code]


async def test_deeply_nested_json_is_refused_cleanly(api: Api) -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    reply = await api.request("POST", "/api/v1/hubs", token=None, data=data, headers=AUTH)
    assert reply.status == 400
    assert (await api.get("/api/v1/hubs")).status == 200


async def test_a_body_over_the_limit_is_413(make_api: MakeApi) -> None:
    api = await make_api(max_body_bytes=1024)
    data = b'{"name": "' + b"x" * 2048 + b'", "description": ""}'
    reply = await api.request("POST", "/api/v1/hubs", token=None, data=data, headers=AUTH)
    assert reply.status == 413
    assert reply.json()["status"] == 413
    assert "1024 bytes" in reply.json()["errors"][0]["description"]


async def test_a_non_json_content_type_is_415(api: Api) -> None:
    reply = await api.request("POST", "/api/v1/hubs", data=b"name=x", headers={"Content-Type": "text/plain"})
    assert reply.status == 415
    assert reply.error_codes() == [300]


async def test_json_sent_as_unlabelled_bytes_is_accepted(api: Api) -> None:
    # aiohttp labels raw bytes application/octet-stream; requests sends no Content-Type at all
    reply = await api.request("POST", "/api/v1/hubs", data=b'{"name": "raw", "description": ""}')
    assert reply.status == 200


async def test_form_encoded_bodies_are_415(api: Api) -> None:
    reply = await api.request("POST", "/api/v1/hubs", data=b'{"name": "curl -d", "description": ""}',
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 415


async def test_an_unknown_route_is_404_in_the_portal_format(api: Api) -> None:
    reply = await api.get("/api/v1/nothing-here")
    assert reply.status == 404
    assert reply.error_codes() == [105]


async def test_a_wrong_method_is_405_with_allow(api: Api) -> None:
    reply = await api.request("PATCH", "/api/v1/hubs")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, POST"
    assert reply.json()["status"] == 405
    assert reply.error_codes() == [110]  # PRT000110; a usage limit (429) is PRT000111


async def test_a_wrong_method_and_a_usage_limit_have_distinct_codes(api: Api) -> None:
    wrong = await api.request("PATCH", "/api/v1/hubs")
    limited = await api.get("/api/v1/hubs", headers={"X-Mockhub-Fault": "429"})
    assert (wrong.status, limited.status) == (405, 429)
    assert wrong.error_codes() != limited.error_codes()


async def test_an_unknown_method_is_answered_not_dropped(api: Api) -> None:
    reply = await api.request("PURGE", "/api/v1/hubs")
    assert reply.status == 405


async def test_a_value_nested_past_the_depth_limit_is_refused_and_never_stored(api: Api) -> None:
    # 974 deep was once stored in opts.roles, after which every list of points answered 500
    point = b'{"code": "deep", "type": "public", "opts": {"roles": ' + b"[" * 972 + b"]" * 972 + b"}}"
    era = await api.request("POST", "/rest/v1/service/integration_points", token=None, data=point,
                            headers={"Content-Type": "application/json"})
    assert era.status == 400
    assert "deeper than 64 levels" in era.json()["error_message"]
    portal = await api.request("POST", "/api/v1/hubs", token=None, data=b"[" * 65 + b"]" * 65, headers=AUTH)
    assert portal.status == 400
    assert "deeper than 64 levels" in portal.json()["errors"][0]["description"]
    assert (await api.get("/rest/v1/service/integration_points", token=None)).status == 200
    assert (await api.get("/__mockhub/state", token=None)).status == 200


async def test_the_depth_limit_is_an_option(make_api: MakeApi) -> None:
    api = await make_api(max_json_depth=3)
    point = {"code": "deep", "type": "public", "opts": {"roles": [[1]]}}
    assert (await api.post("/rest/v1/service/integration_points", point, token=None)).status == 400
    point["opts"] = {"roles": [1]}
    assert (await api.post("/rest/v1/service/integration_points", point, token=None)).status == 200


async def test_the_error_dialect_is_the_operations_as_the_contract_declares(aiohttp_client: Any) -> None:
    document = json.loads(contract_path().read_text())
    era = next(tag for tag in document["tags"] if tag["name"] == "Integration points")
    era["x-mockhub-error-format"] = "portal"  # the Era operations now answer errors as the Portal API does,
    schemas = document["components"]["schemas"]  # and their documented error bodies say so
    schemas["EraError"] = schemas["PortalError"]
    contract = Contract(document)
    client = await aiohttp_client(MockhubTestServer(create_app(Settings(), contract=contract)))
    api = Api(client, ResponseChecker(contract, Contract.load(admin_contract_path())))
    reply = await api.get(f"{POINTS}/not-a-guid")
    assert reply.status == 400
    assert reply.error_codes() == [203]


def test_an_operation_without_an_error_dialect_is_refused_at_load() -> None:
    document = json.loads(contract_path().read_text())
    for tag in document["tags"]:
        del tag["x-mockhub-error-format"]
    with pytest.raises(ValueError, match=r"operation [a-zA-Z]+ declares no x-mockhub-error-format"):
        Contract(document)
