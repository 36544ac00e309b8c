"""The control API: health, the published contract, reset and the request journal (SPEC 6)."""

from __future__ import annotations

import json

from openapi_spec_validator import OpenAPIV32SpecValidator, validate

from mockhub.resources import contract_path
from tests.conftest import HUB_A, Api


async def test_health(api: Api) -> None:
    reply = await api.get("/__mockhub/health")
    assert reply.status == 200
    assert reply.json()["status"] == "ok"


async def test_the_published_contract_is_the_file_and_is_valid_openapi(api: Api) -> None:
    reply = await api.get("/__mockhub/openapi.json")
    assert reply.status == 200
    published = reply.json()
    assert published == json.loads(contract_path().read_text())
    validate(published)
    assert (await api.get("/__mockhub/openapi.json", params={"version": "3.1"})).json() == published


async def test_the_contract_is_also_served_in_its_openapi_3_2_form(api: Api) -> None:
    reply = await api.get("/__mockhub/openapi.json", params={"version": "3.2"})
    assert reply.status == 200
    assert reply.json() == json.loads(contract_path().with_name("openapi-3.2.json").read_text())
    validate(reply.json(), cls=OpenAPIV32SpecValidator)
    refused = await api.get("/__mockhub/openapi.json", params={"version": "3.0"})
    assert refused.status == 400 and "version" in refused.body.decode()


async def test_reset_restores_the_start_up_state_exactly(api: Api) -> None:
    before = (await api.get("/api/v1/hubs")).json()
    created = (await api.post("/api/v1/hubs", {"name": "Temp", "description": ""})).json()
    await api.put(f"/api/v1/hubs/{HUB_A}", {"name": "Renamed"})
    assert (await api.post("/__mockhub/reset", token=None)).status == 200
    assert (await api.get("/api/v1/hubs")).json() == before
    # the random sequence and clock restart too: the same request makes the same hub
    again = (await api.post("/api/v1/hubs", {"name": "Temp", "description": ""})).json()
    assert again == created


async def test_the_journal_records_requests_with_status_and_masks_tokens(api: Api) -> None:
    await api.post("/api/v1/hubs", {"name": "Journal", "description": ""})
    await api.get("/api/v1/hubs", params={"pageSize": "2"})
    await api.get("/api/v1/hubs/not-a-guid")
    entries = (await api.get("/__mockhub/requests")).json()
    assert [(e["method"], e["path"], e["query"], e["status"]) for e in entries] == [
        ("POST", "/api/v1/hubs", "", 200),
        ("GET", "/api/v1/hubs", "pageSize=2", 200),
        ("GET", "/api/v1/hubs/not-a-guid", "", 400),
    ]
    assert json.loads(entries[0]["body"]) == {"name": "Journal", "description": ""}
    assert entries[0]["headers"]["Authorization"] == "Bearer mock****"
    assert [e["seq"] for e in entries] == [1, 2, 3]


async def test_the_journal_is_bounded_and_can_be_cleared(make_api: object) -> None:
    api = await make_api(journal_size=3)  # type: ignore[operator]
    for _ in range(5):
        await api.get("/api/v1/hubs")
    entries = (await api.get("/__mockhub/requests")).json()
    assert [e["seq"] for e in entries] == [3, 4, 5]
    assert (await api.delete("/__mockhub/requests")).status == 200
    assert (await api.get("/__mockhub/requests")).json() == []


async def test_admin_requests_are_not_journaled(api: Api) -> None:
    await api.get("/__mockhub/health")
    assert (await api.get("/__mockhub/requests")).json() == []
