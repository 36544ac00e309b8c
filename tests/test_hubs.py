"""Portal API hubs over HTTP: create, update, delete, get, get collection (Portal docs, Hubs; decisions.md, Hubs)."""

from __future__ import annotations

import pytest

from tests.conftest import HUB_A, HUB_B, OTHER_TOKEN, TENANT_A, TENANT_B, Api, MakeApi

NEW_HUB = {"name": "Support", "description": "Customer support hub", "closeDormantConversation": 30, "statusId": 2002}


async def test_create_returns_the_hub_with_generated_fields(api: Api) -> None:
    reply = await api.post("/api/v1/hubs", NEW_HUB)
    assert reply.status == 200
    hub = reply.json()
    assert hub["tenantId"] == TENANT_A
    assert {k: hub[k] for k in NEW_HUB} == NEW_HUB
    assert hub["created"] == hub["modified"] == "2021-01-01T00:00:00.0000000Z"
    fetched = await api.get(f"/api/v1/hubs/{hub['hubId']}")
    assert fetched.json() == hub


async def test_create_applies_documented_defaults(api: Api) -> None:
    hub = (await api.post("/api/v1/hubs", {"name": "Minimal", "description": ""})).json()
    assert hub["statusId"] == 2000
    assert hub["closeDormantConversation"] == 0


async def test_create_reports_every_problem_with_its_code(api: Api) -> None:
    reply = await api.post("/api/v1/hubs", {"description": 5, "statusId": 1, "closeDormantConversation": -1,
                                            "color": "red"})
    assert reply.status == 400
    body = reply.json()
    assert body["status"] == 400
    by_code = {e["code"]: e["description"] for e in body["errors"]}
    assert by_code == {
        301: "Property 'name' is required. (code: PRT000301)",
        302: "Property 'description' must be a string. (code: PRT000302)",
        303: "Property 'color' is not supported. (code: PRT000303)",
        206: "Value '1' of 'statusId' is not valid; expected one of: 2000, 2002. (code: PRT000206)",
        209: "Value '-1' of 'closeDormantConversation' must be >= 0. (code: PRT000209)",
    }


@pytest.mark.parametrize("name", ["support", "SUPPORT", "Support"])
async def test_hub_names_are_unique_per_tenant_case_insensitively(api: Api, name: str) -> None:
    assert (await api.post("/api/v1/hubs", NEW_HUB)).status == 200
    reply = await api.post("/api/v1/hubs", {**NEW_HUB, "name": name})
    assert reply.status == 400
    assert reply.error_codes() == [600]
    assert "already exists" in reply.json()["errors"][0]["description"]


async def test_another_tenant_may_use_the_same_name(api: Api) -> None:
    assert (await api.post("/api/v1/hubs", NEW_HUB)).status == 200
    reply = await api.post("/api/v1/hubs", NEW_HUB, token=OTHER_TOKEN)
    assert reply.status == 200
    assert reply.json()["tenantId"] == TENANT_B


async def test_unicode_names_round_trip_exactly(api: Api) -> None:
    name = "Café ☕ Zürich — 東京 🚀"
    hub = (await api.post("/api/v1/hubs", {"name": name, "description": "ünïcödé"})).json()
    fetched = (await api.get(f"/api/v1/hubs/{hub['hubId']}")).json()
    assert fetched["name"] == name
    assert fetched["description"] == "ünïcödé"


async def test_update_changes_only_given_properties_and_modified(api: Api) -> None:
    hub = (await api.post("/api/v1/hubs", NEW_HUB)).json()
    reply = await api.put(f"/api/v1/hubs/{hub['hubId']}", {"statusId": 2000})
    assert reply.status == 200
    updated = reply.json()
    assert updated == {**hub, "statusId": 2000, "modified": "2021-01-01T00:00:01.0000000Z"}
    assert (await api.get(f"/api/v1/hubs/{hub['hubId']}")).json() == updated


async def test_update_may_keep_its_own_name_in_another_case(api: Api) -> None:
    hub = (await api.post("/api/v1/hubs", NEW_HUB)).json()
    reply = await api.put(f"/api/v1/hubs/{hub['hubId']}", {"name": "SUPPORT"})
    assert reply.status == 200
    assert reply.json()["name"] == "SUPPORT"
    # the old spelling is free again only for this hub: a new hub still collides
    assert (await api.post("/api/v1/hubs", NEW_HUB)).error_codes() == [600]


async def test_update_to_a_taken_name_is_refused(api: Api) -> None:
    hub = (await api.post("/api/v1/hubs", NEW_HUB)).json()
    reply = await api.put(f"/api/v1/hubs/{hub['hubId']}", {"name": "dev hub 1"})
    assert reply.status == 400
    assert reply.error_codes() == [600]
    assert (await api.get(f"/api/v1/hubs/{hub['hubId']}")).json()["name"] == "Support"


async def test_update_validates_the_body(api: Api) -> None:
    reply = await api.put(f"/api/v1/hubs/{HUB_A}", {"statusId": "paused", "name": ""})
    assert reply.status == 400
    assert sorted(reply.error_codes()) == [206, 302]


async def test_update_of_a_missing_hub_is_404(api: Api) -> None:
    reply = await api.put("/api/v1/hubs/11111111-1111-1111-1111-111111111111", {"statusId": 2000})
    assert reply.status == 404
    assert reply.error_codes() == [699]


async def test_delete_removes_the_hub(api: Api) -> None:
    reply = await api.delete(f"/api/v1/hubs/{HUB_A}")
    assert reply.status == 200
    assert reply.json()["hubId"] == HUB_A
    assert (await api.get(f"/api/v1/hubs/{HUB_A}")).status == 404
    assert (await api.delete(f"/api/v1/hubs/{HUB_A}")).status == 404
    names = [h["name"] for h in (await api.get("/api/v1/hubs")).json()["results"]]
    assert "Your New Cool Hub Name" not in names
    # its name is free again
    assert (await api.post("/api/v1/hubs", {"name": "Your New Cool Hub Name", "description": ""})).status == 200


async def test_get_of_a_missing_hub_is_404_hub_not_found(api: Api) -> None:
    reply = await api.get("/api/v1/hubs/11111111-1111-1111-1111-111111111111")
    assert reply.status == 404
    assert reply.json() == {"status": 404, "errors": [{
        "code": 699,
        "description": "Hub '11111111-1111-1111-1111-111111111111' not found. (code: PRT000699)"}]}


async def test_a_malformed_hub_id_is_400_bad_guid(api: Api) -> None:
    reply = await api.get("/api/v1/hubs/not-a-guid")
    assert reply.status == 400
    assert reply.error_codes() == [203]


async def test_hub_ids_are_case_insensitive(api: Api) -> None:
    reply = await api.get(f"/api/v1/hubs/{HUB_A.upper()}")
    assert reply.status == 200
    assert reply.json()["hubId"] == HUB_A


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PUT", {"statusId": 2000}), ("DELETE", None)])
async def test_another_tenants_hub_is_403(api: Api, method: str, body: object) -> None:
    kwargs = {"json_body": body} if body is not None else {}
    reply = await api.request(method, f"/api/v1/hubs/{HUB_B}", **kwargs)
    assert reply.status == 403
    assert reply.error_codes() == [101]
    # and nothing changed for its owner
    owner = await api.get(f"/api/v1/hubs/{HUB_B}", token=OTHER_TOKEN)
    assert owner.status == 200
    assert owner.json()["modified"] == "2020-10-13T02:42:28.0000000Z"


AUTH_CASES = {
    "missing": None,
    "unknown": "Bearer no-such-token",
    "not bearer": "Basic bW9jazptb2Nr",
    "empty bearer": "Bearer ",
}


@pytest.mark.parametrize("authorization", list(AUTH_CASES.values()), ids=list(AUTH_CASES))
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/hubs"), ("GET", "/api/v1/hubs"), ("GET", f"/api/v1/hubs/{HUB_A}"),
    ("PUT", f"/api/v1/hubs/{HUB_A}"), ("DELETE", f"/api/v1/hubs/{HUB_A}"),
])
async def test_every_hub_operation_needs_a_valid_token(api: Api, method: str, path: str,
                                                       authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    reply = await api.request(method, path, token=None, headers=headers, json_body={"name": "x", "description": ""})
    assert reply.status == 401
    assert reply.error_codes() == [102]
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_401_comes_before_validation(api: Api) -> None:
    reply = await api.post("/api/v1/hubs", {"bogus": True}, token="wrong")
    assert reply.status == 401


async def test_collection_defaults_to_page_0_of_50_in_creation_order(api: Api) -> None:
    created = [(await api.post("/api/v1/hubs", {"name": f"Hub {i}", "description": ""})).json() for i in range(3)]
    page = (await api.get("/api/v1/hubs")).json()
    assert (page["pageNumber"], page["pageSize"], page["total"]) == (0, 50, 6)
    names = [h["name"] for h in page["results"]]
    assert names == ["Your New Cool Hub Name", "Dev Hub 1", "Hubster Demo (blank)", "Hub 0", "Hub 1", "Hub 2"]
    assert page["results"][3:] == created


async def test_collection_pages_and_total_counts_everything(api: Api) -> None:
    for i in range(7):
        await api.post("/api/v1/hubs", {"name": f"Hub {i}", "description": ""})
    pages = [(await api.get("/api/v1/hubs", params={"pageNumber": n, "pageSize": 4})).json() for n in range(4)]
    assert [p["total"] for p in pages] == [10, 10, 10, 10]
    assert [len(p["results"]) for p in pages] == [4, 4, 2, 0]
    all_ids = [h["hubId"] for p in pages for h in p["results"]]
    assert len(set(all_ids)) == 10


async def test_collection_is_scoped_to_the_tenant(api: Api) -> None:
    page = (await api.get("/api/v1/hubs", token=OTHER_TOKEN)).json()
    assert [h["hubId"] for h in page["results"]] == [HUB_B]
    assert page["total"] == 1


async def test_collection_stays_in_order_after_deletes(api: Api) -> None:
    hubs = [(await api.post("/api/v1/hubs", {"name": f"Hub {i}", "description": ""})).json() for i in range(4)]
    await api.delete(f"/api/v1/hubs/{hubs[1]['hubId']}")
    page = (await api.get("/api/v1/hubs", params={"pageNumber": 1, "pageSize": 3})).json()
    assert [h["name"] for h in page["results"]] == ["Hub 0", "Hub 2", "Hub 3"]
    assert page["total"] == 6


@pytest.mark.parametrize(("params", "codes"), [
    ({"pageNumber": "-1"}, [209]),
    ({"pageSize": "0"}, [206]),
    ({"pageSize": "101"}, [206]),
    ({"pageSize": "50000"}, [206]),
    ({"pageNumber": "abc"}, [210]),
    ({"pageSize": "1.5"}, [210]),
    ({"pageNumber": "-1", "pageSize": "x"}, [209, 210]),
    ([("pageSize", "5"), ("pageSize", "6")], [206]),
])
async def test_bad_paging_is_400_with_each_problem(api: Api, params: object, codes: list[int]) -> None:
    reply = await api.get("/api/v1/hubs", params=params)
    assert reply.status == 400
    assert sorted(reply.error_codes()) == codes


async def test_paging_bounds_themselves_are_accepted(api: Api) -> None:
    for size in ("1", "100"):
        reply = await api.get("/api/v1/hubs", params={"pageSize": size})
        assert reply.status == 200
        assert reply.json()["pageSize"] == int(size)


async def test_an_empty_dataset_has_no_tenant_so_every_token_is_refused(make_api: MakeApi) -> None:
    api = await make_api(empty=True)
    assert (await api.get("/api/v1/hubs")).status == 401


async def test_a_clock_pinned_at_the_last_second_there_is_still_takes_writes(make_api: MakeApi) -> None:
    """The pinned clock moves a second per write: at the end of year 9999 it stays there (every write was a 500)."""
    api = await make_api(clock="9999-12-31T23:59:59Z")
    for name in ("Last", "After the last"):
        created = await api.post("/api/v1/hubs", {"name": name, "description": ""})
        assert created.status == 200 and created.json()["created"] == "9999-12-31T23:59:59.0000000Z"
