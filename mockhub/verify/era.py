"""The scenario's Era steps: an integration point made, read (whole, masked, flat), listed, patched, looked
up and deleted, with each client error it can provoke on the way."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mockhub.verify.client import POINTS
from mockhub.verify.probe import Probe
from mockhub.verify.scenario import FORM, Action, Json, Step, ask, deleting

GROUP = "integration points"


def point_body(probe: Probe) -> Json:
    return {"code": probe.unique("point"), "type": "im", "opts": {"title": "mockhub verify"}}


async def create_point(probe: Probe) -> Any:
    sent = point_body(probe)
    point = (await probe.call("POST", POINTS, 200, body=sent)).json()
    probe.same(point, {"code": sent["code"], "type": "im"}, "the created point")
    if isinstance(point, dict) and isinstance(point.get("opts"), dict):
        probe.expect(point["opts"].get("title") == "mockhub verify", "the created point lost opts.title")
    return point


CREATE_POINT: Step[Json] = Step(GROUP, "create a point", create_point, makes="point", schema="IntegrationPoint")


async def point_code_taken(probe: Probe) -> None:
    await probe.call("POST", POINTS, 409, body=point_body(probe))


async def read_point(probe: Probe) -> None:
    point = probe.made(CREATE_POINT)
    probe.same((await probe.call("GET", f"{POINTS}/{point['id']}", 200)).json(), point, "the point read back")


def read_point_as(params: Mapping[str, str], shown: Callable[[Json], Any]) -> Action[None]:
    """A step that reads the point with ``params`` (mask, flat) and expects exactly ``shown(point)``."""

    async def action(probe: Probe) -> None:
        point = probe.made(CREATE_POINT)
        wanted = shown(point)
        answer = await probe.call("GET", f"{POINTS}/{point['id']}", 200, params=params)
        probe.expect(answer.json() == wanted, f"{'&'.join(f'{k}={v}' for k, v in params.items())} should give "
                                              f"exactly {json.dumps(wanted)}")

    return action


async def list_points_page(probe: Probe) -> list[Json] | None:
    first = (await probe.call("GET", POINTS, 200, params={"offset": "0", "limit": "1"})).json()
    if not isinstance(first, list):
        return None
    probe.expect(len(first) == 1, f"limit=1 gave {len(first)} points")
    return first if all(isinstance(p, dict) for p in first) else None


FIRST_POINTS: Step[list[Json]] = Step(GROUP, "list points a page at a time", list_points_page, needs=(CREATE_POINT,),
                                      makes="first points")


async def list_points_next_page(probe: Probe) -> None:
    first = probe.made(FIRST_POINTS)
    second = (await probe.call("GET", POINTS, 200, params={"offset": "1", "limit": "1"})).json()
    if isinstance(second, list):
        probe.expect(len(second) <= 1, f"limit=1 gave {len(second)} points")
        probe.expect(not second or not first or second[0] != first[0], "offset=1 repeats the point at offset 0")


async def list_points_filtered(probe: Probe) -> None:
    point = probe.made(CREATE_POINT)
    found = (await probe.call("GET", POINTS, 200, params={"filter": json.dumps({"code": point["code"]})})).json()
    if isinstance(found, list):
        probe.expect([p.get("id") for p in found if isinstance(p, dict)] == [point["id"]],
                     f"filter by code should list exactly the point {point['id']}")


async def patch_point(probe: Probe) -> None:
    point = probe.made(CREATE_POINT)
    change = {"url": "https://verify.mockhub.invalid/hook", "opts": {"comment": "changed by mockhub verify"}}
    patched = (await probe.call("PATCH", f"{POINTS}/{point['id']}", 200, body=change)).json()
    probe.same(patched, {"id": point["id"], "code": point["code"], "url": change["url"]}, "the patched point")
    if isinstance(patched, dict):
        probe.same(patched.get("opts"), {"title": point["opts"]["title"], "comment": "changed by mockhub verify"},
                   "the patched point's opts")
        probe.same(patched.get("ext"), {"ct": point["ext"]["ct"]}, "the patched point's ext")


async def patch_point_token(probe: Probe) -> None:
    point = probe.made(CREATE_POINT)
    await probe.call("PATCH", f"{POINTS}/{point['id']}", 400, body={"token_local": "0" * 32})


def lookup(field: str) -> Action[None]:
    """A step that LOOKUPs the point by ``field`` (its code or token_local) and expect its id among the ids."""

    async def action(probe: Probe) -> None:
        point = probe.made(CREATE_POINT)
        ids = (await probe.call("LOOKUP", POINTS, 200, body=point[field])).json()
        probe.expect(isinstance(ids, list) and point["id"] in ids, f"LOOKUP by {field} does not give {point['id']}")

    return action


async def lookup_miss(probe: Probe) -> None:
    error = (await probe.call("LOOKUP", POINTS, 404, body=probe.unique("nothing"))).json()
    probe.same(error, {"error_code": 1404, "error_message": "Lookup failed"}, "the LOOKUP miss")


async def point_wrong_method(probe: Probe) -> None:
    point = probe.made(CREATE_POINT)
    await probe.call("PUT", f"{POINTS}/{point['id']}", 405, body={})


DELETE_POINT = deleting(GROUP, "delete the point (204, no body)", CREATE_POINT, POINTS, "id", 204)


def on_deleted_point(method: str) -> Action[None]:
    """A step that sends ``method`` to the deleted point and expects 404."""

    async def action(probe: Probe) -> None:
        await probe.call(method, f"{POINTS}/{probe.made(DELETE_POINT)['id']}", 404)

    return action


ERA: tuple[Step[Any], ...] = (
    CREATE_POINT,
    Step(GROUP, "a taken code is 409", point_code_taken, needs=(CREATE_POINT,)),
    Step(GROUP, "a missing code is 400", ask("POST", POINTS, 400, body={"type": "im"})),
    Step(GROUP, "a body that is not JSON is 415", ask("POST", POINTS, 415, **FORM)),
    Step(GROUP, "read the point", read_point, needs=(CREATE_POINT,)),
    Step(GROUP, "read the point through a mask", read_point_as(
        {"mask": "id,opts.title"}, lambda p: {"id": p["id"], "opts": {"title": p["opts"]["title"]}}),
         needs=(CREATE_POINT,)),
    Step(GROUP, "read the point flat", read_point_as(
        {"mask": "code,opts.title", "flat": "true"}, lambda p: {"code": p["code"], "opts.title": p["opts"]["title"]}),
         needs=(CREATE_POINT,)),
    Step(GROUP, "a point that does not exist is 404", ask("GET", POINTS + "/{missing}", 404)),
    Step(GROUP, "a malformed point id is 400", ask("GET", f"{POINTS}/not-a-guid", 400)),
    FIRST_POINTS,
    Step(GROUP, "the next page is another point", list_points_next_page, needs=(FIRST_POINTS,)),
    Step(GROUP, "list points filtered by code", list_points_filtered, needs=(CREATE_POINT,)),
    Step(GROUP, "limit 0 is 400", ask("GET", POINTS, 400, params={"limit": "0"})),
    Step(GROUP, "patch the point", patch_point, needs=(CREATE_POINT,)),
    Step(GROUP, "patching token_local is 400", patch_point_token, needs=(CREATE_POINT,)),
    Step(GROUP, "LOOKUP by code", lookup("code"), needs=(CREATE_POINT,)),
    Step(GROUP, "LOOKUP by token_local", lookup("token_local"), needs=(CREATE_POINT,)),
    Step(GROUP, "LOOKUP of a key nothing has is 404 Lookup failed", lookup_miss),
    Step(GROUP, "LOOKUP of a body that is not a JSON string is 400", ask("LOOKUP", POINTS, 400, body=5)),
    Step(GROUP, "a method the point does not have is 405 with Allow", point_wrong_method, needs=(CREATE_POINT,)),
    DELETE_POINT,
    Step(GROUP, "a deleted point is 404", on_deleted_point("GET"), needs=(DELETE_POINT,)),
    Step(GROUP, "deleting it again is 404", on_deleted_point("DELETE"), needs=(DELETE_POINT,)),
)
"""The Era steps, in the order they run."""
