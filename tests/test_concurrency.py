"""Concurrency (issue 11): races give one winner, nothing is lost, control calls never half-apply."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from mockhub.pytest_plugin import Mockhub
from tests.conftest import HUB_A, TENANT_A, Api

HUBS = "/api/v1/hubs"
POINTS = "/rest/v1/service/integration_points"


async def test_200_concurrent_creates_of_one_name_give_exactly_one_hub(api: Api) -> None:
    replies = await asyncio.gather(*(api.post(HUBS, {"name": "Contested", "description": str(i)})
                                     for i in range(200)))
    statuses = [r.status for r in replies]
    assert statuses.count(200) == 1
    assert statuses.count(400) == 199
    assert all(r.error_codes() == [600] for r in replies if r.status == 400)
    names = [h["name"] for h in (await api.get(HUBS, params={"pageSize": "100"})).json()["results"]]
    assert names.count("Contested") == 1


async def test_1000_concurrent_creates_of_distinct_names_all_land(api: Api) -> None:
    replies = await asyncio.gather(*(api.post(HUBS, {"name": f"Hub {i}", "description": ""}) for i in range(1000)))
    assert {r.status for r in replies} == {200}
    assert len({r.json()["hubId"] for r in replies}) == 1000
    assert (await api.get(HUBS)).json()["total"] == 1003
    points = await asyncio.gather(*(api.post(POINTS, {"code": f"P{i}", "type": "im"}) for i in range(300)))
    assert {r.status for r in points} == {200}
    assert len({r.json()["token_local"] for r in points}) == 300


def consistent(state: dict[str, Any]) -> None:
    """Every record refers to records that exist: nothing half-applied."""
    tenants = {t["tenantId"] for t in state["tenants"]}
    hubs = {h["hubId"] for h in state["hubs"]}
    assert all(h["tenantId"] in tenants for h in state["hubs"])
    assert all(i["hubId"] in hubs for i in state["integrations"])
    assert all(c["hubId"] in hubs for c in state["transferCommands"] + state["responseCommands"])
    assert len({p["code"] for p in state["integrationPoints"]}) == len(state["integrationPoints"])


async def test_resets_fault_changes_and_state_loads_racing_with_traffic(api: Api) -> None:
    startup = (await api.get("/__mockhub/state", token=None)).json()

    async def traffic(n: int) -> list[int]:
        statuses = []
        for i in range(40):
            for reply in (await api.post(HUBS, {"name": f"T{n}-{i}", "description": ""}),
                          await api.get(HUBS),
                          await api.post(f"/api/v1/integrations/hubs/{HUB_A}", {
                              "channelId": "Messenger", "name": f"M{n}-{i}",
                              "configuration": {"pageAccessToken": "x"}}),
                          await api.request("LOOKUP", POINTS, json_body="ABCDE"),
                          await api.delete(f"{HUBS}/{HUB_A}")):
                statuses.append(reply.status)
        return statuses

    async def control() -> None:
        for _ in range(30):
            await api.post("/__mockhub/reset", token=None)
            await api.post("/__mockhub/faults", {"status": 503, "probability": 0.2}, token=None)
            await api.request("PUT", "/__mockhub/state", token=None, json_body=startup)
            await api.delete("/__mockhub/faults", token=None)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(traffic(n) for n in range(4)), control())
    statuses = {s for r in results[:4] for s in r}
    assert all(s < 500 or s == 503 for s in statuses), statuses  # 503s are the injected ones
    assert {200} <= statuses
    consistent((await api.get("/__mockhub/state", token=None)).json())


def test_the_plugin_server_is_safe_while_a_test_thread_arranges_data(mockhub: Mockhub) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def requests() -> None:
        request = urllib.request.Request(f"{mockhub.url}{HUBS}?pageSize=100", headers=mockhub.headers)
        while not stop.is_set():
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    page = json.load(response)
                    assert page["total"] >= 3
                    assert len(page["results"]) == min(page["total"], 100)
            except (AssertionError, urllib.error.URLError) as exc:
                errors.append(exc)
                return

    readers = [threading.Thread(target=requests) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for i in range(200):
            mockhub.load({"hubs": [{"tenantId": "00000000-0000-0000-0000-000000000001", "name": f"Arranged {i}",
                                    "description": ""}]})
            if i % 50 == 0:
                mockhub.add_fault({"path": "/nowhere", "status": 503})
    finally:
        stop.set()
        for reader in readers:
            reader.join(10)
    assert errors == []
    assert len(mockhub.state()["hubs"]) == 4 + 200


def test_state_gives_a_copy_that_the_test_may_change(mockhub: Mockhub) -> None:
    state = mockhub.state()
    state["hubs"][0]["name"] = "MUTATED"
    state["integrations"][0]["configuration"]["events"] = []
    assert mockhub.state()["hubs"][0]["name"] == "Your New Cool Hub Name"
    assert mockhub.state()["integrations"][0]["configuration"] != state["integrations"][0]["configuration"]


def test_load_is_all_or_nothing_and_copies_what_it_is_given(mockhub: Mockhub) -> None:
    from mockhub.dataset.fixtures import FixtureError

    tenant = "00000000-0000-0000-0000-000000000001"
    before = mockhub.state()
    with pytest.raises(FixtureError, match="Dev Hub 1"):
        mockhub.load({"hubs": [{"tenantId": tenant, "name": "New A", "description": ""},
                               {"tenantId": tenant, "name": "Dev Hub 1", "description": ""}]})
    assert mockhub.state() == before
    data = {"hubs": [{"tenantId": tenant, "name": "Mine", "description": "as given"}]}
    mockhub.load(data)
    data["hubs"][0]["description"] = "changed later"
    assert mockhub.state()["hubs"][-1]["description"] == "as given"


def _without_tenant_a(state: dict[str, Any]) -> dict[str, Any]:
    hubs = [h for h in state["hubs"] if h["tenantId"] != TENANT_A]
    kept = {h["hubId"] for h in hubs}
    return {**state, "tenants": [t for t in state["tenants"] if t["tenantId"] != TENANT_A], "hubs": hubs,
            **{section: [r for r in state[section] if r["hubId"] in kept]
               for section in ("integrations", "transferCommands", "responseCommands")}}


async def _slow_post(api: Api, path: str, body: dict[str, Any], gate: asyncio.Event) -> int:
    """POST whose body arrives in two parts, the second once ``gate`` opens."""
    raw = json.dumps(body).encode()

    async def parts() -> Any:
        yield raw[:5]
        await gate.wait()
        yield raw[5:]

    reply = await api.request("POST", path, data=parts(), headers={"Content-Type": "application/json"})  # type: ignore[arg-type]
    return reply.status


async def test_a_write_never_lands_in_the_state_that_replaced_its_own(api: Api) -> None:
    state = (await api.get("/__mockhub/state", token=None)).json()
    gate = asyncio.Event()
    post = asyncio.create_task(_slow_post(api, HUBS, {"name": "Late", "description": ""}, gate))
    await asyncio.sleep(0.1)  # the request line and headers arrive; the body waits on the gate
    assert (await api.put("/__mockhub/state", _without_tenant_a(state), token=None)).status == 200
    gate.set()
    assert await post == 401  # tenant A's token belongs to no tenant of the state now in force
    dump = (await api.get("/__mockhub/state", token=None)).json()
    assert all(h["tenantId"] != TENANT_A for h in dump["hubs"])
    assert (await api.put("/__mockhub/state", dump, token=None)).status == 200


async def test_writes_racing_resets_and_state_replacements_always_leave_a_dump_that_loads(api: Api) -> None:
    state = (await api.get("/__mockhub/state", token=None)).json()
    smaller = _without_tenant_a(state)
    for round_ in range(8):
        gate = asyncio.Event()
        writes = [asyncio.create_task(_slow_post(api, HUBS, {"name": f"H{round_}-{i}", "description": ""}, gate))
                  for i in range(6)]
        writes += [asyncio.create_task(_slow_post(api, POINTS, {"code": f"P{round_}-{i}", "type": "im"}, gate))
                   for i in range(3)]
        writes += [asyncio.create_task(_slow_post(api, f"/api/v1/integrations/hubs/{HUB_A}", {
            "name": f"I{round_}-{i}", "channelId": "WebChat", "configuration": {"allowedOrigins": ["*"]}}, gate))
            for i in range(3)]
        await asyncio.sleep(0.05)
        control = [api.post("/__mockhub/reset", token=None),
                   api.put("/__mockhub/state", smaller if round_ % 2 else state, token=None)]
        assert {r.status for r in await asyncio.gather(*control)} == {200}
        gate.set()
        assert set(await asyncio.gather(*writes)) <= {200, 401, 403, 404}
        dump = (await api.get("/__mockhub/state", token=None)).json()
        assert (await api.put("/__mockhub/state", dump, token=None)).status == 200, round_
        assert (await api.get("/__mockhub/state", token=None)).json() == dump
