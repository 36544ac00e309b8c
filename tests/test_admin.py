"""The control API: health, the published contract, reset and the request journal."""

from __future__ import annotations

import json

from openapi_spec_validator import OpenAPIV32SpecValidator, validate

from mockhub.resources import contract_path
from tests.conftest import HUB_A, Api, MakeApi


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


async def test_a_journal_entry_is_cut_to_the_limits_and_says_so(make_api: MakeApi) -> None:
    api = await make_api(journal_headers=20, journal_header_bytes=100, journal_body_bytes=50)
    many = {"X-" + "n" * 300: "long name", **{f"X-Extra-{i}": "v" * 500 for i in range(40)}}
    await api.post("/api/v1/hubs", {"name": "Cut", "description": "d" * 200}, headers=many)
    await api.get("/api/v1/hubs")
    cut, whole = (await api.get("/__mockhub/requests")).json()
    assert cut["cut"] == ["headers", "body"]
    assert len(cut["headers"]) == 20
    assert max(len(value) for value in cut["headers"].values()) == 100
    assert max(len(name) for name in cut["headers"]) == 100
    assert len(cut["body"]) == 50
    assert whole["cut"] == []
    assert whole["headers"]["Authorization"] == "Bearer mock****"


async def test_all_journals_share_a_byte_budget_and_the_oldest_entries_go_first(make_api: MakeApi) -> None:
    api = await make_api(journal_total_bytes=20_000, journal_body_bytes=4096)
    body = {"name": "x" * 2000, "description": ""}
    for session in ("a", "b"):
        for _ in range(4):
            await api.post("/api/v1/hubs", body, headers={"X-Mockhub-Session": session})
    kept = {}
    for session in ("a", "b"):
        reply = await api.get("/__mockhub/requests", headers={"X-Mockhub-Session": session})
        kept[session] = [e["seq"] for e in reply.json()]
    total = sum(len(seqs) for seqs in kept.values())
    assert 0 < total < 8
    assert kept["b"] == [1, 2, 3, 4]  # the newest are kept, from whichever session
    assert kept["a"] == list(range(4 - len(kept["a"]) + 1, 5))
    # a dropped session's entries free their bytes: a new session's requests are all kept again
    await api.delete("/__mockhub/sessions/b")
    for _ in range(4):
        await api.post("/api/v1/hubs", body, headers={"X-Mockhub-Session": "c"})
    reply = await api.get("/__mockhub/requests", headers={"X-Mockhub-Session": "c"})
    assert [e["seq"] for e in reply.json()] == [1, 2, 3, 4]
