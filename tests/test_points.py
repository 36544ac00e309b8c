"""Era integration_points over HTTP: create, list, get, patch, delete, LOOKUP (Era docs, integration_points)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mockhub.contract.contracts import Contract
from mockhub.dataset.fixtures import FixtureError, FixtureLoader, FixtureSource, dump
from mockhub.kernel.clock import Clock
from mockhub.resources import default_fixtures_path
from mockhub.settings import Settings
from mockhub.web.app import create_app
from mockhub.web.keys import SESSIONS
from tests.conftest import ABCDE_TOKEN, POINT_902, POINT_ABCDE, POINTS, Api, MakeApi, Reply

FIELD_ORDER = ["id", "code", "type", "token_local", "token_remote", "token_remote2", "url", "recv_svcscriptcode",
               "recv_svcscriptcode_ws", "send_svcscriptcode", "send_svcscriptcode_ws", "opts", "ext"]
DEFAULT_OPTS = {"title": "", "comment": "", "allow_files_api": False, "issync": False}
ABCDE: dict[str, Any] = {  # Era docs, create / get example
    "id": POINT_ABCDE,
    "code": "ABCDE",
    "type": "public",
    "token_local": ABCDE_TOKEN,
    "token_remote": "",
    "token_remote2": "",
    "url": "http://trapper.com",
    "recv_svcscriptcode": "ws_hook",
    "recv_svcscriptcode_ws": "",
    "send_svcscriptcode": "send_to_web",
    "send_svcscriptcode_ws": "",
    "opts": DEFAULT_OPTS,
    "ext": {"ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T13:34:16.42Z"},
}
T0, T1, T2 = "2021-01-01T00:00:00.00Z", "2021-01-01T00:00:01.00Z", "2021-01-01T00:00:02.00Z"
MISSING = "11111111-1111-1111-1111-111111111111"
JSON = {"Content-Type": "application/json"}


def era_error(reply: Reply, status: int) -> str:
    """Assert an Era error body of ``status`` and return its message."""
    assert reply.status == status, reply.body
    body = reply.json()
    assert body["error_code"] == 1000 + status
    return str(body["error_message"])


async def create(api: Api, code: str, type_: str = "im", **fields: Any) -> dict[str, Any]:
    reply = await api.post(POINTS, {"code": code, "type": type_, **fields})
    assert reply.status == 200, reply.body
    return dict(reply.json())


async def lookup(api: Api, key: Any) -> Reply:
    return await api.request("LOOKUP", POINTS, json_body=key)


async def listing(api: Api, **params: Any) -> Reply:
    """GET the list; dict and list values are sent as JSON."""
    sent = {k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in params.items()}
    return await api.get(POINTS, params=sent)


async def codes(api: Api, **params: Any) -> list[str]:
    reply = await listing(api, mask="code", **params)
    assert reply.status == 200, reply.body
    return [p["code"] for p in reply.json()]


# -- create -------------------------------------------------------------------------------


async def test_create_returns_the_full_entity_in_the_documented_key_order(api: Api) -> None:
    reply = await api.post(POINTS, {"code": "TG1", "type": "telegram", "url": "http://trapper.com",
                                    "recv_svcscriptcode": "ws_hook"})
    assert reply.status == 200
    point = reply.json()
    assert list(point) == FIELD_ORDER
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", point["id"])
    assert re.fullmatch(r"[0-9a-f]{32}", point["token_local"])
    assert point | {"id": "", "token_local": ""} == {
        "id": "", "code": "TG1", "type": "telegram", "token_local": "", "token_remote": "", "token_remote2": "",
        "url": "http://trapper.com", "recv_svcscriptcode": "ws_hook", "recv_svcscriptcode_ws": "",
        "send_svcscriptcode": "", "send_svcscriptcode_ws": "", "opts": DEFAULT_OPTS,
        "ext": {"ct": T0, "lwt": T0},
    }
    assert list(point["opts"]) == list(DEFAULT_OPTS)
    assert (await api.get(f"{POINTS}/{point['id']}")).json() == point


async def test_create_merges_given_opts_into_the_defaults(api: Api) -> None:
    opts = {"issync": True, "title": "Sales", "recv_timeout": 30, "roles": ["agent"],
            "userid": "0b7e0d2c-4a60-4b1f-9d59-5c0a2f7e3c11"}
    point = await create(api, "OPTS", opts=opts)
    assert point["opts"] == {**DEFAULT_OPTS, **opts}


async def test_each_write_gets_its_own_token_and_time(api: Api) -> None:
    first = await create(api, "ONE")
    second = await create(api, "TWO")
    assert first["token_local"] != second["token_local"]
    assert first["id"] != second["id"]
    assert (first["ext"], second["ext"]) == ({"ct": T0, "lwt": T0}, {"ct": T1, "lwt": T1})


async def test_generated_ids_and_tokens_follow_the_seed(make_api: MakeApi) -> None:
    made = []
    for seed in (7, 7, 8):
        api = await make_api(seed=seed)
        point = await create(api, "SEEDED")
        made.append((point["id"], point["token_local"]))
    assert made[0] == made[1]
    assert made[0][0] != made[2][0] and made[0][1] != made[2][1]
    # and from one release to the next: users' snapshots hold them
    assert made[0] == ("6513270e-269e-4d37-b2a7-4de452e6b438", "123b1612dd272d1371c17149d439536b")


async def test_a_given_id_is_kept_lower_case_and_found_in_any_case(api: Api) -> None:
    given = "5A4B3C2D-1E0F-4A1B-8C2D-3E4F5A6B7C8D"
    point = await create(api, "GIVEN", id=given)
    assert point["id"] == given.lower()
    for spelling in (given, given.lower()):
        assert (await api.get(f"{POINTS}/{spelling}")).json() == point


@pytest.mark.parametrize("taken", [POINT_ABCDE, POINT_ABCDE.upper()])
async def test_a_taken_id_is_409(api: Api, taken: str) -> None:
    reply = await api.post(POINTS, {"id": taken, "code": "NEW", "type": "im"})
    assert era_error(reply, 409) == f"Integration point '{POINT_ABCDE}' already exists."
    assert (await lookup(api, "NEW")).status == 404


async def test_a_taken_code_is_409_and_codes_compare_exactly(api: Api) -> None:
    reply = await api.post(POINTS, {"code": "ABCDE", "type": "im"})
    assert era_error(reply, 409) == f"Code 'ABCDE' is already used by integration point '{POINT_ABCDE}'."
    assert len((await listing(api)).json()) == 2
    # decisions.md, Integration points: codes match exactly, so another case is another code
    assert (await create(api, "abcde"))["code"] == "abcde"


async def test_create_reports_every_problem_naming_each_field(api: Api) -> None:
    reply = await api.post(POINTS, {"type": 5, "color": "red", "opts": {"issync": "yes"}, "id": "nope"})
    assert era_error(reply, 400) == (
        "Property 'code' is required. "
        "Property 'color' is not supported. "
        "Property 'opts.issync' must be a boolean. "
        "Property 'type' must be a string. "
        "Value 'nope' of 'id' is not a valid GUID."
    )


@pytest.mark.parametrize(("body", "message"), [
    ({"code": "", "type": "im"}, "Property 'code' must not be empty."),
    ({"code": "X", "type": "im", "token_local": "82ddc7c68623726346a78371173e2f8d"},
     "Property 'token_local' is not supported."),
    ({"code": "X", "type": "im", "ext": {"ct": T0}}, "Property 'ext' is not supported."),
    ({"code": "X", "type": "im", "opts": {"bogus": 1}}, "Property 'opts.bogus' is not supported."),
    ({"code": "X", "type": "im", "opts": {"recv_timeout": -1}}, "Value '-1' of 'opts.recv_timeout' must be >= 0."),
    ({"code": "X"}, "Property 'type' is required."),
    ("ABCDE", "The request body must be an object."),
    ([], "The request body must be an object."),
])
async def test_a_bad_create_body_is_400_naming_the_field(api: Api, body: Any, message: str) -> None:
    assert era_error(await api.post(POINTS, body), 400) == message


@pytest.mark.parametrize(("data", "start"), [
    (b"", "A request body is required."),
    (b"{", "The request body is not valid JSON"),
])
async def test_an_empty_or_malformed_create_body_is_400(api: Api, data: bytes, start: str) -> None:
    reply = await api.request("POST", POINTS, data=data, headers=JSON)
    assert era_error(reply, 400).startswith(start)


async def test_the_api_needs_no_authorization(api: Api) -> None:
    """decisions.md, Integration points: no auth; every operation answers without an Authorization header."""
    created = await api.post(POINTS, {"code": "ANON", "type": "im"}, token=None)
    assert created.status == 200
    point_id = created.json()["id"]
    assert (await api.get(POINTS, token=None)).status == 200
    assert (await api.get(f"{POINTS}/{point_id}", token=None)).status == 200
    assert (await api.patch(f"{POINTS}/{point_id}", {"url": "u"}, token=None)).status == 200
    assert (await api.request("LOOKUP", POINTS, json_body="ANON", token=None)).status == 200
    assert (await api.delete(f"{POINTS}/{point_id}", token=None)).status == 204


# -- get one ------------------------------------------------------------------------------


async def test_get_returns_the_documented_example(api: Api) -> None:
    reply = await api.get(f"{POINTS}/{POINT_ABCDE}")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.json() == ABCDE
    assert list(reply.json()) == FIELD_ORDER


@pytest.mark.parametrize(("params", "expected"), [
    ({"mask": "id,opts.title"}, {"id": POINT_ABCDE, "opts": {"title": ""}}),
    ({"mask": "opts.issync, code , ext.ct"}, {"code": "ABCDE", "opts": {"issync": False},
                                              "ext": {"ct": ABCDE["ext"]["ct"]}}),
    ({"mask": "opts"}, {"opts": DEFAULT_OPTS}),
    ({"mask": "opts,opts.title"}, {"opts": DEFAULT_OPTS}),
    ({"mask": "opts.recv_timeout,type"}, {"type": "public"}),
    ({"mask": "id,opts.title", "flat": "true"}, {"id": POINT_ABCDE, "opts.title": ""}),
    ({"mask": "ext", "flat": "1"}, {"ext.ct": ABCDE["ext"]["ct"], "ext.lwt": ABCDE["ext"]["lwt"]}),
    ({"flat": "false"}, ABCDE),
    ({"flat": "true"}, {**{k: v for k, v in ABCDE.items() if k not in ("opts", "ext")},
                        "opts.title": "", "opts.comment": "", "opts.allow_files_api": False, "opts.issync": False,
                        "ext.ct": ABCDE["ext"]["ct"], "ext.lwt": ABCDE["ext"]["lwt"]}),
])
async def test_get_shows_what_mask_and_flat_ask_for(api: Api, params: dict[str, str],
                                                    expected: dict[str, Any]) -> None:
    reply = await api.get(f"{POINTS}/{POINT_ABCDE}", params=params)
    assert reply.status == 200
    assert reply.json() == expected
    assert list(reply.json()) == list(expected)  # entity order, whatever the mask's


async def test_flat_keeps_arrays_as_values(api: Api) -> None:
    point = await create(api, "ROLES", opts={"roles": ["a", "b"]})
    reply = await api.get(f"{POINTS}/{point['id']}", params={"mask": "opts.roles", "flat": "true"})
    assert reply.json() == {"opts.roles": ["a", "b"]}


async def test_get_of_a_missing_point_is_404(api: Api) -> None:
    reply = await api.get(f"{POINTS}/{MISSING}")
    assert era_error(reply, 404) == f"Integration point '{MISSING}' not found."


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"url": "x"}), ("DELETE", None)])
async def test_a_malformed_id_in_the_path_is_400(api: Api, method: str, body: Any) -> None:
    kwargs = {"json_body": body} if body is not None else {}
    reply = await api.request(method, f"{POINTS}/not-a-guid", **kwargs)
    assert era_error(reply, 400) == "Value 'not-a-guid' of 'id' is not a valid GUID."


@pytest.mark.parametrize(("params", "message"), [
    ({"mask": "nope"}, "Field 'nope' of 'mask' is not a field of an integration point."),
    ({"mask": "tokenlocal"}, "Field 'tokenlocal' of 'mask' is not a field of an integration point; "
                             "did you mean 'token_local'?"),
    ({"mask": "opts.nope"}, "Field 'opts.nope' of 'mask' is not a field of an integration point"),
    ({"mask": "id,,code"}, "Value 'id,,code' of 'mask' is not valid"),
    ({"flat": "yes"}, "Value 'yes' of 'flat' is not valid; expected true or false."),
])
async def test_get_with_a_bad_mask_or_flat_is_400_naming_it(api: Api, params: dict[str, str], message: str) -> None:
    reply = await api.get(f"{POINTS}/{POINT_ABCDE}", params=params)
    assert era_error(reply, 400).startswith(message)


async def test_a_bad_parameter_is_400_before_a_missing_point_is_404(api: Api) -> None:
    reply = await api.get(f"{POINTS}/{MISSING}", params={"mask": "nope"})
    assert era_error(reply, 400).startswith("Field 'nope' of 'mask'")


# -- list ---------------------------------------------------------------------------------


async def test_list_is_a_bare_array_in_creation_order(api: Api) -> None:
    created = [await create(api, f"P{i}") for i in range(3)]
    reply = await listing(api)
    assert reply.status == 200
    points = reply.json()
    assert isinstance(points, list)
    assert points[0] == ABCDE
    assert [p["id"] for p in points] == [POINT_ABCDE, POINT_902, *(p["id"] for p in created)]
    assert points[2:] == created


@pytest.fixture
def many_points(tmp_path: Path) -> Path:
    """A fixture file of 1005 integration points, P0000..P1004."""
    path = tmp_path / "points.json"
    path.write_text(json.dumps({"integrationPoints": [{"code": f"P{i:04d}", "type": "im"} for i in range(1005)]}))
    return path


async def test_limit_defaults_to_100_and_goes_up_to_1000(make_api: MakeApi, many_points: Path) -> None:
    api = await make_api(fixtures=(many_points,))
    assert await codes(api) == [f"P{i:04d}" for i in range(100)]
    assert len(await codes(api, limit=1000)) == 1000
    assert await codes(api, offset=1000, limit=1000) == [f"P{i:04d}" for i in range(1000, 1005)]
    assert await codes(api, offset=250, limit=3) == ["P0250", "P0251", "P0252"]


@pytest.mark.parametrize(("offset", "limit", "expected"), [
    (0, 1, ["ABCDE"]),
    (1, 2, ["902", "N0"]),
    (3, 100, ["N1", "N2"]),
    (5, 1, []),
    (500, 1000, []),
])
async def test_offset_and_limit_page_the_list(api: Api, offset: int, limit: int, expected: list[str]) -> None:
    for i in range(3):
        await create(api, f"N{i}")
    assert await codes(api, offset=offset, limit=limit) == expected


async def test_paging_stays_in_creation_order_after_deletes(api: Api) -> None:
    created = [await create(api, f"D{i}") for i in range(4)]
    assert (await api.delete(f"{POINTS}/{created[1]['id']}")).status == 204
    assert (await api.delete(f"{POINTS}/{POINT_ABCDE}")).status == 204
    assert await codes(api, offset=1, limit=2) == ["D0", "D2"]
    assert await codes(api) == ["902", "D0", "D2", "D3"]


async def test_list_mask_and_flat(api: Api) -> None:
    reply = await listing(api, mask="id,opts.title", limit=1)
    assert reply.json() == [{"id": POINT_ABCDE, "opts": {"title": ""}}]
    reply = await listing(api, mask="id,opts.title", flat="true")
    assert reply.json() == [{"id": POINT_ABCDE, "opts.title": ""}, {"id": POINT_902, "opts.title": ""}]
    flat = (await listing(api, flat="true", limit=1)).json()[0]
    assert {k: v for k, v in flat.items() if "." in k} == {
        "opts.title": "", "opts.comment": "", "opts.allow_files_api": False, "opts.issync": False,
        "ext.ct": ABCDE["ext"]["ct"], "ext.lwt": ABCDE["ext"]["lwt"]}
    assert "opts" not in flat and "ext" not in flat


@pytest.fixture
async def sortable(api: Api) -> Api:
    """After the built-in ABCDE (public) and 902 (telegram): B (im, title z), A (im, title y), C (public)."""
    await create(api, "B", "im", opts={"title": "z", "issync": True})
    await create(api, "A", "im", opts={"title": "y"})
    await create(api, "C", "public", opts={"recv_timeout": 5})
    return api


@pytest.mark.parametrize(("order", "expected"), [
    ([], ["ABCDE", "902", "B", "A", "C"]),
    (["code"], ["902", "A", "ABCDE", "B", "C"]),
    (["-code"], ["C", "B", "ABCDE", "A", "902"]),
    ([{"code": "desc"}], ["C", "B", "ABCDE", "A", "902"]),
    ([{"code": "asc"}], ["902", "A", "ABCDE", "B", "C"]),
    (["type"], ["B", "A", "ABCDE", "C", "902"]),  # ties keep creation order
    (["-type"], ["902", "ABCDE", "C", "B", "A"]),
    (["type", "-code"], ["B", "A", "C", "ABCDE", "902"]),
    ([{"type": "desc"}, "code"], ["902", "ABCDE", "C", "A", "B"]),
    (["opts.title", "code"], ["902", "ABCDE", "C", "A", "B"]),
    (["-opts.issync"], ["B", "ABCDE", "902", "A", "C"]),
    (["opts.recv_timeout"], ["ABCDE", "902", "B", "A", "C"]),  # a missing value sorts first...
    (["-opts.recv_timeout"], ["C", "ABCDE", "902", "B", "A"]),  # ...and last, ties in creation order
    (["-ext.ct"], ["C", "A", "B", "902", "ABCDE"]),
])
async def test_order_sorts_by_one_or_more_keys(sortable: Api, order: list[Any], expected: list[str]) -> None:
    assert await codes(sortable, order=order) == expected


async def test_order_applies_before_paging(sortable: Api) -> None:
    assert await codes(sortable, order=["code"], offset=1, limit=2) == ["A", "ABCDE"]


@pytest.mark.parametrize(("filter_", "expected"), [
    ({}, ["ABCDE", "902", "B", "A", "C"]),
    ({"type": "im"}, ["B", "A"]),
    ({"type": "public", "code": "C"}, ["C"]),
    ({"opts.title": "y"}, ["A"]),
    ({"opts.issync": True}, ["B"]),
    ({"opts.issync": False}, ["ABCDE", "902", "A", "C"]),
    ({"opts.issync": 0}, []),  # JSON equality: false is not 0
    ({"opts.recv_timeout": 5}, ["C"]),
    ({"opts.recv_timeout": 5.0}, ["C"]),
    ({"opts.recv_timeout": None}, ["ABCDE", "902", "B", "A"]),  # null matches a missing field
    ({"id": POINT_902.upper()}, ["902"]),
    ({"ext.ct": ABCDE["ext"]["ct"]}, ["ABCDE"]),
    ({"type": "nope"}, []),
])
async def test_filter_lists_points_equal_on_every_field(sortable: Api, filter_: dict[str, Any],
                                                        expected: list[str]) -> None:
    assert await codes(sortable, filter=filter_) == expected


async def test_filter_order_mask_flat_and_paging_together(sortable: Api) -> None:
    reply = await listing(sortable, filter={"type": "im"}, order=["-code"], mask="code,opts.title", flat="true",
                          offset=1, limit=5)
    assert reply.json() == [{"code": "A", "opts.title": "y"}]
    assert await codes(sortable, filter={"opts.issync": False}, offset=1, limit=2) == ["902", "A"]


@pytest.mark.parametrize(("params", "message"), [
    ({"offset": "-1"}, "Value '-1' of 'offset' must be >= 0."),
    ({"offset": "abc"}, "Value 'abc' of 'offset' is not a number."),
    ({"limit": "0"}, "Value '0' of 'limit' is not valid: it must be >= 1."),
    ({"limit": "1001"}, "Value '1001' of 'limit' is not valid: it must be <= 1000."),
    ({"limit": "2.5"}, "Value '2.5' of 'limit' is not a number."),
    ({"flat": "maybe"}, "Value 'maybe' of 'flat' is not valid; expected true or false."),
    ({"mask": ""}, "Value '' of 'mask' is not valid: give comma-separated field names, e.g. id,opts.title."),
    ({"mask": "id;code"}, "Value 'id;code' of 'mask' is not valid"),
    ({"mask": "id,bogus"}, "Field 'bogus' of 'mask' is not a field of an integration point."),
    ({"mask": "id.x"}, "Field 'id.x' of 'mask' is not a field of an integration point; did you mean 'id'?"),
    ({"order": "code"}, "Value of 'order' is not valid JSON"),
    ({"order": '{"code": "asc"}'}, "Property 'order' must be an array."),
    ({"order": '["nope"]'}, "Field 'nope' of 'order' is not a field of an integration point."),
    ({"order": '["-opts.nope"]'}, "Field 'opts.nope' of 'order' is not a field of an integration point"),
    ({"order": '["opts"]'}, "Field 'opts' of 'order' is an object; name one of its fields, e.g. 'opts.title'."),
    ({"order": '[{"code": "up"}]'}, "Value '{\"code\": \"up\"}' of 'order[0]' is not valid: give a field name, "
                                    "'-' first for descending, or an object {\"field\": \"asc\"} or "
                                    "{\"field\": \"desc\"}."),
    ({"order": '["code", {"code": "asc", "type": "desc"}]'}, "of 'order[1]' is not valid: give a field name"),
    ({"order": "[5]"}, "Value '5' of 'order[0]' is not valid: give a field name"),
    ({"order": '["code desc"]'}, "Value 'code desc' of 'order[0]' is not valid: give a field name"),
    ({"filter": "{"}, "Value of 'filter' is not valid JSON"),
    ({"filter": '[["=", "code", "A"]]'}, "Property 'filter' must be an object."),
    ({"filter": '{"nope": 1}'}, "Field 'nope' of 'filter' is not a field of an integration point."),
    ({"filter": '{"ext": "x"}'}, "Field 'ext' of 'filter' is an object; name one of its fields, e.g. 'ext.ct'."),
    ({"filter": '{"code": ["A"]}'}, "Property 'filter.code' must be a string or a number or a boolean or a null."),
    ([("limit", "5"), ("limit", "6")], "Parameter 'limit' is given 2 times; give it once."),
])
async def test_a_malformed_list_parameter_is_400_naming_it(api: Api, params: Any, message: str) -> None:
    reply = await api.get(POINTS, params=params)
    assert message in era_error(reply, 400)


async def test_every_bad_list_parameter_is_named_in_one_answer(api: Api) -> None:
    reply = await listing(api, mask="nope", order=["nada"], filter={"zip": 1}, limit=0)
    message = era_error(reply, 400)
    # the contract's checks come first and stop the request before the field names are looked at
    assert message == "Value '0' of 'limit' is not valid: it must be >= 1."
    message = era_error(await listing(api, mask="nope", order=["nada"], filter={"zip": 1}), 400)
    assert message == (
        "Field 'nope' of 'mask' is not a field of an integration point. "
        "Field 'nada' of 'order' is not a field of an integration point. "
        "Field 'zip' of 'filter' is not a field of an integration point."
    )


# -- patch --------------------------------------------------------------------------------


async def test_patch_merges_and_moves_only_the_last_write_time(api: Api) -> None:
    reply = await api.patch(f"{POINTS}/{POINT_ABCDE}", {"token_remote": "00ea293c29f9dc30",
                                                        "opts": {"issync": True, "recv_timeout": 10}})
    assert reply.status == 200
    # Era docs, PATCH example: token_remote changed, ext.lwt moved, everything else kept
    expected = {**ABCDE, "token_remote": "00ea293c29f9dc30",
                "opts": {**DEFAULT_OPTS, "issync": True, "recv_timeout": 10},
                "ext": {"ct": ABCDE["ext"]["ct"], "lwt": T0}}
    assert reply.json() == expected
    assert list(reply.json()) == FIELD_ORDER
    assert (await api.get(f"{POINTS}/{POINT_ABCDE}")).json() == expected
    again = await api.patch(f"{POINTS}/{POINT_ABCDE}", {"opts": {"title": "T"}})
    assert again.json()["opts"] == {**DEFAULT_OPTS, "issync": True, "recv_timeout": 10, "title": "T"}
    assert again.json()["ext"] == {"ct": ABCDE["ext"]["ct"], "lwt": T1}


async def test_an_empty_patch_is_a_write(api: Api) -> None:
    reply = await api.patch(f"{POINTS}/{POINT_ABCDE}", {})
    assert reply.json() == {**ABCDE, "ext": {"ct": ABCDE["ext"]["ct"], "lwt": T0}}


@pytest.mark.parametrize(("body", "message"), [
    ({"id": MISSING}, "Property 'id' cannot be changed."),
    ({"token_local": "0" * 32, "url": "x"}, "Property 'token_local' cannot be changed."),
    ({"id": POINT_ABCDE, "token_local": ABCDE_TOKEN},
     "Property 'id' cannot be changed. Property 'token_local' cannot be changed."),
    ({"ext": {"lwt": T0}}, "Property 'ext' is not supported."),
    ({"opts": {"issync": "x"}}, "Property 'opts.issync' must be a boolean."),
    ({"code": ""}, "Property 'code' must not be empty."),
    ({"flavour": 1}, "Property 'flavour' is not supported."),
])
async def test_a_bad_patch_is_400_naming_the_field_and_changes_nothing(api: Api, body: dict[str, Any],
                                                                       message: str) -> None:
    assert era_error(await api.patch(f"{POINTS}/{POINT_ABCDE}", body), 400) == message
    assert (await api.get(f"{POINTS}/{POINT_ABCDE}")).json() == ABCDE


async def test_patch_to_a_taken_code_is_409(api: Api) -> None:
    reply = await api.patch(f"{POINTS}/{POINT_902}", {"code": "ABCDE", "url": "changed"})
    assert era_error(reply, 409) == f"Code 'ABCDE' is already used by integration point '{POINT_ABCDE}'."
    assert (await api.get(f"{POINTS}/{POINT_902}")).json()["url"] == "http://trapper.com"


async def test_patch_may_keep_its_code_and_a_new_code_frees_the_old(api: Api) -> None:
    assert (await api.patch(f"{POINTS}/{POINT_ABCDE}", {"code": "ABCDE"})).status == 200
    assert (await api.patch(f"{POINTS}/{POINT_ABCDE}", {"code": "XYZ"})).json()["code"] == "XYZ"
    assert (await lookup(api, "XYZ")).json() == [POINT_ABCDE]
    assert (await lookup(api, "ABCDE")).status == 404
    assert (await create(api, "ABCDE"))["code"] == "ABCDE"


async def test_patch_of_a_missing_point_is_404(api: Api) -> None:
    reply = await api.patch(f"{POINTS}/{MISSING}", {"url": "x"})
    assert era_error(reply, 404) == f"Integration point '{MISSING}' not found."


async def test_patch_needs_a_body(api: Api) -> None:
    reply = await api.request("PATCH", f"{POINTS}/{POINT_ABCDE}", data=b"", headers=JSON)
    assert era_error(reply, 400) == "A request body is required."


# -- delete -------------------------------------------------------------------------------


async def test_delete_is_204_with_an_empty_body_and_frees_the_keys(api: Api) -> None:
    reply = await api.delete(f"{POINTS}/{POINT_ABCDE.upper()}")
    assert reply.status == 204
    assert reply.body == b""
    assert "Content-Type" not in reply.headers
    assert (await api.get(f"{POINTS}/{POINT_ABCDE}")).status == 404
    assert era_error(await api.delete(f"{POINTS}/{POINT_ABCDE}"), 404) == (
        f"Integration point '{POINT_ABCDE}' not found.")
    for key in (POINT_ABCDE, "ABCDE", ABCDE_TOKEN):
        assert (await lookup(api, key)).status == 404
    assert [p["id"] for p in (await listing(api)).json()] == [POINT_902]
    # the id and the code may be used again
    assert (await create(api, "ABCDE", id=POINT_ABCDE))["id"] == POINT_ABCDE


# -- LOOKUP -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [POINT_ABCDE, POINT_ABCDE.upper(), "ABCDE", ABCDE_TOKEN])
async def test_lookup_finds_a_point_by_id_code_or_token(api: Api, key: str) -> None:
    reply = await lookup(api, key)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.json() == [POINT_ABCDE]


async def test_lookup_finds_created_points(api: Api) -> None:
    point = await create(api, "NEWCODE")
    for key in (point["id"], "NEWCODE", point["token_local"]):
        assert (await lookup(api, key)).json() == [point["id"]]


@pytest.mark.parametrize("key", ["nope", "abcde", ABCDE_TOKEN.upper(), MISSING, " ABCDE"])
async def test_lookup_misses_are_404_lookup_failed(api: Api, key: str) -> None:
    reply = await lookup(api, key)
    assert reply.status == 404
    assert reply.json() == {"error_code": 1404, "error_message": "Lookup failed"}


async def test_lookup_returns_every_point_the_key_names(api: Api) -> None:
    point = await create(api, ABCDE_TOKEN)  # its code is ABCDE's token_local
    assert (await lookup(api, ABCDE_TOKEN)).json() == [point["id"], POINT_ABCDE]


LOOKUP_BAD_BODIES = [
    (b"{}", "The request body must be a string."),
    (b'{"code": "ABCDE"}', "The request body must be a string."),
    (b"42", "The request body must be a string."),
    (b'["ABCDE"]', "The request body must be a string."),
    (b"null", "The request body must be a string."),
    (b'""', "The request body must not be empty."),
    (b"", "A request body is required."),
    (b"ABCDE", "The request body is not valid JSON"),
    (b'"ABCDE', "The request body is not valid JSON: Unterminated string starting at line 1 column 1."),
]


@pytest.mark.parametrize(("data", "message"), LOOKUP_BAD_BODIES)
async def test_lookup_needs_a_json_string(api: Api, data: bytes, message: str) -> None:
    reply = await api.request("LOOKUP", POINTS, data=data, headers=JSON)
    assert era_error(reply, 400).startswith(message)


async def test_lookup_with_a_form_body_is_415(api: Api) -> None:
    reply = await api.request("LOOKUP", POINTS, data=b'"ABCDE"',
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    era_error(reply, 415)


# -- POST with X-HTTP-Method-Override: LOOKUP --------------------------------------------

OVERRIDE = {"X-HTTP-Method-Override": "LOOKUP", **JSON}


@pytest.mark.parametrize("data", [
    json.dumps(POINT_ABCDE.upper()).encode(), b'"902"', json.dumps(ABCDE_TOKEN).encode(), b'"nope"',
    *(data for data, _ in LOOKUP_BAD_BODIES),
])
async def test_the_override_answers_exactly_as_lookup(api: Api, data: bytes) -> None:
    direct = await api.request("LOOKUP", POINTS, data=data, headers=JSON)
    overridden = await api.request("POST", POINTS, data=data, headers=OVERRIDE)
    assert (overridden.status, overridden.json()) == (direct.status, direct.json())


async def test_the_override_finds_and_creates_nothing(api: Api) -> None:
    reply = await api.request("POST", POINTS, data=b'"ABCDE"', headers=OVERRIDE)
    assert reply.json() == [POINT_ABCDE]
    body = {"code": "NEW", "type": "im"}
    reply = await api.request("POST", POINTS, data=json.dumps(body).encode(), headers=OVERRIDE)
    assert era_error(reply, 400) == "The request body must be a string."
    assert len((await listing(api)).json()) == 2


@pytest.mark.parametrize("value", ["GET", "lookup", "PATCH", "", "LOOKUP, GET"])
async def test_any_other_override_is_400_naming_the_header(api: Api, value: str) -> None:
    reply = await api.request("POST", POINTS, json_body={"code": "NEW", "type": "im"},
                              headers={"X-HTTP-Method-Override": value})
    assert era_error(reply, 400) == (
        f"Value '{value}' of 'X-HTTP-Method-Override' is not valid; expected one of: LOOKUP.")
    assert (await lookup(api, "NEW")).status == 404


# -- routing ------------------------------------------------------------------------------


async def test_a_wrong_method_is_405_in_the_era_format(api: Api) -> None:
    reply = await api.put(f"{POINTS}/{POINT_ABCDE}", {"url": "x"})
    assert era_error(reply, 405).startswith("Method PUT is not allowed here")
    assert reply.headers["Allow"] == "DELETE, GET, PATCH"
    assert era_error(await api.request("LOOKUP", f"{POINTS}/{POINT_ABCDE}", json_body="x"), 405)


async def test_an_unknown_era_path_is_404_in_the_era_format(api: Api) -> None:
    assert era_error(await api.get("/rest/v1/service/nothing"), 404) == "No such endpoint."


# -- fixtures -----------------------------------------------------------------------------


async def test_fixture_points_get_generated_tokens_and_times(make_api: MakeApi, tmp_path: Path) -> None:
    path = tmp_path / "points.json"
    given: dict[str, Any] = {"id": "C0FFEE00-0000-4000-8000-000000000001", "code": "GIVEN", "type": "im",
             "token_local": "f" * 32, "ext": {"ct": "2020-02-02T02:02:02.02Z"}, "opts": {"title": "x"}}
    path.write_text(json.dumps({"integrationPoints": [given, {"code": "BARE", "type": "public"}]}))
    api = await make_api(fixtures=(path,))
    first, second = (await listing(api)).json()
    assert first == {"id": given["id"].lower(), "code": "GIVEN", "type": "im", "token_local": "f" * 32,
                     **dict.fromkeys(FIELD_ORDER[4:11], ""), "opts": {**DEFAULT_OPTS, "title": "x"},
                     "ext": {"ct": "2020-02-02T02:02:02.02Z", "lwt": "2020-02-02T02:02:02.02Z"}}
    assert re.fullmatch(r"[0-9a-f]{32}", second["token_local"])
    assert second["ext"] == {"ct": T0, "lwt": T0}
    # loading took the clock's first tick: the next write comes after it
    assert (await create(api, "NEXT"))["ext"]["ct"] == T1


@pytest.mark.parametrize(("records", "message"), [
    ([{"code": "A", "type": "im"}, {"code": "A", "type": "im"}],
     "integrationPoints[1] (code 'A'): Code 'A' is already used by integration point"),
    ([{"code": "A", "type": "im", "token_local": "a" * 32}, {"code": "B", "type": "im", "token_local": "a" * 32}],
     f"integrationPoints[1] (code 'B'): token_local {'a' * 32} is already used by integration point"),
    ([{"id": POINT_ABCDE, "code": "A", "type": "im"}, {"id": POINT_ABCDE, "code": "B", "type": "im"}],
     f"integrationPoints[1] (code 'B'): Integration point '{POINT_ABCDE}' already exists."),
    ([{"code": "A", "type": "im", "token_local": "ABC"}], "integrationPoints[0] (code 'A'): Value 'ABC' of "
                                                          "'token_local' is not valid."),
    ([{"code": "A"}], "integrationPoints[0] (code 'A'): Property 'type' is required."),
])
def test_a_bad_fixture_point_is_named(tmp_path: Path, records: list[dict[str, Any]], message: str,
                                      contract: Contract) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"integrationPoints": records}))
    with pytest.raises(FixtureError) as caught:
        create_app(Settings(fixtures=(path,)), contract=contract)
    assert str(caught.value).startswith(f"{path}: {message}")


async def test_a_dump_loads_back_to_the_same_state(make_api: MakeApi, tmp_path: Path, contract: Contract) -> None:
    api = await make_api()
    await create(api, "NEW", opts={"roles": ["r"]})
    await api.patch(f"{POINTS}/{POINT_902}", {"url": "changed", "opts": {"issync": True}})
    await api.delete(f"{POINTS}/{POINT_ABCDE}")
    assert api.client is not None
    app = api.client.app
    assert app is not None
    state = dump(app[SESSIONS].default.store)
    assert [p["code"] for p in state["integrationPoints"]] == ["902", "NEW"]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(state))
    reloaded = await make_api(fixtures=(path,))
    assert (await listing(reloaded)).json() == (await listing(api)).json()
    for key in ("NEW", "902"):
        assert (await lookup(reloaded, key)).json() == (await lookup(api, key)).json()
    again = FixtureLoader(contract).build([FixtureSource("dump", state)], 0, Clock())
    assert dump(again) == state


def test_the_built_in_points_are_the_documented_examples_with_their_own_tokens(contract: Contract) -> None:
    store = FixtureLoader(contract).build([FixtureSource.read(default_fixtures_path())], 0, Clock())
    points = dump(store)["integrationPoints"]
    assert [(p["id"], p["code"], p["type"]) for p in points] == [
        (POINT_ABCDE, "ABCDE", "public"), (POINT_902, "902", "telegram")]
    assert len({p["token_local"] for p in points}) == 2
