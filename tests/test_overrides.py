"""Overrides over HTTP: answers on demand that the contract allows, and deliberate breaks that are flagged."""

from __future__ import annotations

from typing import Any

import pytest

from mockhub.settings import Settings
from mockhub.web.app import create_app
from mockhub.web.keys import CONTROL
from tests.conftest import HUB_A, POINTS, Api, MakeApi, Reply

HUBS = "/api/v1/hubs"
OVERRIDES = "/__mockhub/overrides"
LONG = "x" * 300


async def add(api: Api, rule: Any, **kw: Any) -> list[dict[str, Any]]:
    reply = await api.post(OVERRIDES, rule, token=None, **kw)
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


async def journal(api: Api, **kw: Any) -> list[dict[str, Any]]:
    return (await api.get("/__mockhub/requests", token=None, **kw)).json()  # type: ignore[no-any-return]


async def raw(api: Api, method: str, path: str, **kw: Any) -> Reply:
    """A request whose answer is not checked against the contract (for off-contract answers)."""
    assert api.client is not None
    headers = {"Authorization": "Bearer mockhub-dev-token", **kw.pop("headers", {})}
    async with api.client.request(method, path, headers=headers, **kw) as response:
        return Reply(response.status, response.headers, await response.read())


async def test_an_on_contract_override_is_served_and_journaled(api: Api) -> None:
    hub = (await api.get(f"{HUBS}/{HUB_A}")).json()
    [added] = await add(api, {"id": "long", "method": "GET", "path": f"{HUBS}/{HUB_A}",
                              "response": {"body": {**hub, "description": LONG}}})
    assert added["state"] == {"served": 0}
    reply = await api.get(f"{HUBS}/{HUB_A}")  # checked against the contract by the client
    assert reply.status == 200
    assert reply.json() == {**hub, "description": LONG}
    assert (await api.get(HUBS)).json()["results"][0]["description"] != LONG  # other operations untouched
    entries = await journal(api)
    assert entries[1]["override"] == "long"
    assert "off_contract" not in entries[1]
    assert "override" not in entries[2]
    [listed] = (await api.get(OVERRIDES, token=None)).json()
    assert listed["state"] == {"served": 1}


async def test_an_off_contract_override_is_refused_listing_every_problem(api: Api) -> None:
    reply = await api.post(OVERRIDES, [
        {"method": "GET", "path": f"{HUBS}/{HUB_A}", "response": {"body": {"hubId": "nope", "statusId": "x"}}},
        {"method": "GET", "path": f"{HUBS}/{HUB_A}", "response": {"status": 418, "body": {}}},
        {"method": "PATCH", "path": HUBS, "response": {"body": {}}},
        {"method": "GET", "path": "/api/v1/hubs/*", "response": {"merge": {"statusId": "paused", "colour": 1}}},
    ], token=None)
    assert reply.status == 400
    error = reply.json()["error"]
    for problem in ("Value 'nope' of '[0].response.body.hubId' is not a valid GUID.",
                    "Property '[0].response.body.statusId' must be an integer.",
                    "Property '[0].response.body.name' is required.",
                    "Value '418' of '[1].response.status' is not valid: GET /api/v1/hubs/{hubId} declares 200, 400",
                    "PATCH /api/v1/hubs is no operation of the contract.",
                    "Property '[3].response.merge.statusId' must be an integer.",
                    "Property '[3].response.merge.colour' is not supported."):
        assert problem in error
    assert (await api.get(OVERRIDES, token=None)).json() == []  # all or none


async def test_off_contract_lets_a_deliberate_break_through_flagged(make_api: MakeApi,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    api = await make_api(access_log=True)
    await add(api, {"id": "teapot", "method": "GET", "path": f"{HUBS}/{HUB_A}", "off_contract": True,
                    "response": {"status": 418, "headers": {"X-Why": "test"}, "body": {"tea": True}}})
    reply = await raw(api, "GET", f"{HUBS}/{HUB_A}")
    assert (reply.status, reply.json(), reply.headers["X-Why"]) == (418, {"tea": True}, "test")
    assert api.checker.check("GET", f"{HUBS}/{HUB_A}", reply.status, reply.headers, reply.body)  # really off
    [entry] = await journal(api)
    assert (entry["override"], entry["off_contract"], entry["status"]) == ("teapot", True, 418)
    [line] = [line for line in capsys.readouterr().err.splitlines() if f'"GET {HUBS}/{HUB_A}" 418 ' in line]
    assert line.endswith(" override=teapot off_contract")


async def test_a_merge_changes_the_stateful_answer_and_keeps_the_rest(api: Api) -> None:
    before = (await api.get(f"{HUBS}/{HUB_A}")).json()
    await add(api, {"method": "GET", "path": f"{HUBS}/*", "response": {"merge": {"statusId": 2002}}})
    after = (await api.get(f"{HUBS}/{HUB_A}")).json()
    assert after == {**before, "statusId": 2002}
    await api.put(f"{HUBS}/{HUB_A}", {"name": "Renamed"})  # the state goes on underneath
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["name"] == "Renamed"


WEBCHAT = "/api/v1/integrations/00000000-0000-0000-0000-0000000000b3"
"""Tenant A's WebChat integration."""


async def test_a_merge_that_would_break_the_contract_whatever_it_merges_into_is_refused(api: Api) -> None:
    """Every required property was dropped at every depth: an array (which replaces) of hubs without ids
    was accepted, and the page answered hubs without hubId."""
    reply = await api.post(OVERRIDES, {"method": "GET", "path": HUBS,
                                       "response": {"merge": {"results": [{}, {"name": "only a name"}]}}}, token=None)
    assert reply.status == 400
    said = reply.json()["error"]
    assert "Property 'response.merge.results[0].hubId' is required." in said
    assert "Property 'response.merge.results[1].hubId' is required." in said
    assert "results[1].name' is required" not in said
    assert (await api.get(OVERRIDES, token=None)).json() == []


async def test_a_merge_into_an_object_gives_only_what_it_changes(api: Api) -> None:
    """A WebChat configuration merged in was refused: with every required dropped, every channel's
    configuration rule applied to it at once."""
    before = (await api.get(WEBCHAT)).json()
    await add(api, {"method": "GET", "path": WEBCHAT,
                    "response": {"merge": {"configuration": {"allowedOrigins": ["app.example"]}}}})
    after = (await api.get(WEBCHAT)).json()  # checked against the contract by the client
    assert after["configuration"] == {**before["configuration"], "allowedOrigins": ["app.example"]}


async def test_a_merge_whose_answer_breaks_the_contract_is_a_500_naming_it(make_api: MakeApi) -> None:
    """A WebChat integration merged into a Slack one was answered as it came: the contract says what a Slack
    configuration holds, which a merge of channelId alone cannot tell when it is added."""
    api = await make_api()
    await add(api, {"id": "to-slack", "method": "GET", "path": WEBCHAT[:-1] + "?",  # tenant A's, b1 to b6
                    "response": {"merge": {"channelId": "Slack"}}})
    slack = await api.get(WEBCHAT[:-1] + "6")
    assert slack.status == 200 and slack.json()["channelId"] == "Slack"  # a Slack one stays on the contract
    reply = await api.get(WEBCHAT)  # checked against the contract: a 500 in the Portal's format
    assert reply.status == 500
    [error] = reply.json()["errors"]
    assert error["code"] == 100
    assert error["description"].startswith("Override 'to-slack' merged an answer the contract does not allow: ")
    assert "configuration" in error["description"]
    assert (await journal(api))[-1]["override"] == "to-slack"
    assert api.client is not None
    [recorded] = api.client.server.app[CONTROL].server_errors(clear=True)  # the pytest fixture fails the test
    assert recorded.startswith("Override 'to-slack' merged an answer")
    # off_contract lets the same merge through, flagged
    await api.delete(OVERRIDES, token=None)
    await add(api, {"id": "on-purpose", "method": "GET", "path": WEBCHAT, "off_contract": True,
                    "response": {"merge": {"channelId": "Slack"}}})
    flagged = await raw(api, "GET", WEBCHAT)
    assert (flagged.status, flagged.json()["channelId"]) == (200, "Slack")
    assert (await journal(api))[-1]["off_contract"] is True


async def test_a_merge_leaves_an_error_answer_alone_and_does_not_count_it(api: Api) -> None:
    missing = f"{HUBS}/00000000-0000-0000-0000-00000000dead"
    await add(api, {"method": "GET", "path": f"{HUBS}/*", "times": 1, "response": {"merge": {"statusId": 2002}}})
    assert (await api.get(missing)).status == 404
    assert "override" not in (await journal(api))[-1]
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["statusId"] == 2002  # the one use is still there
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["statusId"] == 2000


async def test_query_header_and_body_narrow_an_override(api: Api) -> None:
    page = (await api.get(HUBS)).json()
    await add(api, [
        {"method": "GET", "path": HUBS, "query": {"pageSize": 10}, "headers": {"x-client": "web"},
         "response": {"body": {**page, "total": 99}}},
        {"method": "POST", "path": HUBS, "body": {"name": "Boom"}, "response": {"status": 400, "body": {
            "status": 400, "errors": [{"code": 600, "description": "Taken. (code: PRT000600)"}]}}},
    ])
    assert (await api.get(HUBS, params={"pageSize": "10"}, headers={"X-Client": "web"})).json()["total"] == 99
    assert (await api.get(HUBS, params={"pageSize": "10"})).json()["total"] == page["total"]
    assert (await api.get(HUBS, headers={"X-Client": "web"})).json()["total"] == page["total"]
    assert (await api.post(HUBS, {"name": "Boom", "description": "extra keys are fine"})).status == 400
    assert (await api.post(HUBS, {"name": "Fine", "description": ""})).status == 200


async def test_times_limits_an_override_then_the_mock_answers(api: Api) -> None:
    down = {"status": 503, "errors": [{"code": 104, "description": "Down. (code: PRT000104)"}]}
    await add(api, {"id": "twice", "method": "GET", "path": f"{HUBS}/{HUB_A}", "times": 2,
                    "response": {"status": 503, "headers": {"Retry-After": "5"}, "body": down}})
    assert [(await api.get(f"{HUBS}/{HUB_A}")).status for _ in range(3)] == [503, 503, 200]
    [state] = (await api.get(OVERRIDES, token=None)).json()
    assert state["state"] == {"served": 2, "remaining": 0}


async def test_the_first_matching_override_answers(api: Api) -> None:
    await add(api, [{"method": "GET", "path": f"{HUBS}/*", "times": 1, "response": {"merge": {"statusId": 2002}}},
                    {"method": "GET", "path": f"{HUBS}/{HUB_A}", "response": {"merge": {"name": "Second"}}}])
    first, second = [(await api.get(f"{HUBS}/{HUB_A}")).json() for _ in range(2)]
    assert (first["statusId"], first["name"] != "Second") == (2002, True)
    assert (second["statusId"], second["name"]) == (2000, "Second")


async def test_overrides_belong_to_their_session_and_go_with_a_reset(api: Api) -> None:
    mine = {"X-Mockhub-Session": "mine"}
    await add(api, {"method": "GET", "path": f"{HUBS}/*", "response": {"merge": {"statusId": 2002}}}, headers=mine)
    assert (await api.get(f"{HUBS}/{HUB_A}", headers=mine)).json()["statusId"] == 2002
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["statusId"] == 2000
    assert (await api.get(OVERRIDES, token=None)).json() == []
    sessions = {s["name"]: s["overrides"] for s in (await api.get("/__mockhub/sessions", token=None)).json()}
    assert sessions == {"default": 0, "mine": 1}
    await api.post("/__mockhub/reset", token=None, headers=mine)
    assert (await api.get(f"{HUBS}/{HUB_A}", headers=mine)).json()["statusId"] == 2000


async def test_overrides_are_listed_and_removed_one_or_all(api: Api) -> None:
    rule = {"method": "GET", "path": f"{HUBS}/*", "response": {"merge": {"statusId": 2002}}}
    added = await add(api, [rule, {**rule, "id": "mine"}, rule])
    assert [a["id"] for a in added] == ["override-1", "mine", "override-2"]
    assert (await api.delete(f"{OVERRIDES}/mine", token=None)).status == 200
    assert (await api.delete(f"{OVERRIDES}/mine", token=None)).status == 404
    assert [o["id"] for o in (await api.get(OVERRIDES, token=None)).json()] == ["override-1", "override-2"]
    assert (await api.delete(OVERRIDES, token=None)).status == 200
    assert (await api.get(OVERRIDES, token=None)).json() == []
    reply = await api.post(OVERRIDES, [{**rule, "id": "a"}, {**rule, "id": "a"}], token=None)
    assert (reply.status, "already exists" in reply.json()["error"]) == (400, True)


@pytest.mark.parametrize(("rule", "message"), [
    ({"method": "GET", "path": HUBS}, "Property 'response' is required."),
    ({"method": "GET", "path": HUBS, "response": {"merge": {}, "status": 200}}, "a merge or a whole answer"),
    ({"method": "GET", "path": HUBS, "response": {}, "colour": 1}, "Property 'colour' is not supported."),
    ({"method": "DELETE", "path": f"{POINTS}/{HUB_A}", "response": {"status": 204, "body": {}}},
     "answers 204 without a body"),
    ({"method": "GET", "path": HUBS, "response": {"status": 429, "body": {"status": 429, "errors": []}}},
     "Property 'response.headers.Retry-After' is required"),
    ({"method": "GET", "path": HUBS, "response": {"status": 200}}, "Property 'response.body' is required"),
])
async def test_a_bad_override_is_refused_saying_why(api: Api, rule: Any, message: str) -> None:
    reply = await api.post(OVERRIDES, rule, token=None)
    assert reply.status == 400
    assert message in reply.json()["error"]


@pytest.mark.parametrize(("headers", "message"), [
    ({"X-Injected": "a\r\nSet-Cookie: stolen=1"}, "Value 'a\r\nSet-Cookie: stolen=1' of 'response.headers.X-Injected'"),
    ({"X-Nul": "a\u0000b"}, "of 'response.headers.X-Nul' is not valid"),
    ({"Two words": "v"}, "Value 'Two words' of 'response.headers' is not valid"),
    ({"Content-Length": "5"}, "'response.headers.Content-Length' is not supported: the server sets it"),
    ({"transfer-encoding": "chunked"}, "'response.headers.transfer-encoding' is not supported"),
    ({"Connection": "close"}, "'response.headers.Connection' is not supported"),
])
async def test_an_override_cannot_send_a_header_that_breaks_the_connection(api: Api, headers: dict[str, str],
                                                                          message: str) -> None:
    """Even off_contract: such a header broke the answer (a dropped connection, a cut body) and the next ones
    on the connection; refused when added, the mock's own answers go on."""
    rule = {"method": "GET", "path": HUBS, "off_contract": True, "response": {"body": {}, "headers": headers}}
    reply = await api.post(OVERRIDES, rule, token=None)
    assert reply.status == 400
    assert message in reply.json()["error"]
    assert (await api.get(OVERRIDES, token=None)).json() == []
    assert (await api.get(HUBS)).status == 200


async def test_an_overrides_header_replaces_the_mocks_own_whatever_its_case(api: Api) -> None:
    await add(api, [{"method": "GET", "path": HUBS, "off_contract": True, "response": {
        "headers": {"content-type": "application/vnd.hubs+json"},
        "body": {"pageNumber": 0, "pageSize": 50, "total": 0, "results": []}}},
        {"method": "GET", "path": f"{HUBS}/*", "off_contract": True, "response": {
            "merge": {"statusId": 2002}, "headers": {"content-type": "application/hal+json"}}}])
    for path, wanted in ((HUBS, "application/vnd.hubs+json"), (f"{HUBS}/{HUB_A}", "application/hal+json")):
        reply = await raw(api, "GET", path)
        assert reply.status == 200
        assert reply.headers.getall("Content-Type") == [wanted]  # one header, not the mock's and the override's


async def test_an_override_on_the_contract_keeps_the_operations_media_type(api: Api) -> None:
    rule = {"method": "GET", "path": HUBS, "response": {"headers": {"Content-Type": "text/plain"},
                                                        "body": {"pageNumber": 0, "pageSize": 50, "total": 0,
                                                                 "results": []}}}
    reply = await api.post(OVERRIDES, rule, token=None)
    assert reply.status == 400
    assert "'response.headers.Content-Type'" in reply.json()["error"] and "application/json" in reply.json()["error"]
    assert (await api.post(OVERRIDES, {**rule, "response": {**rule["response"], "headers": {
        "content-type": "application/json; charset=utf-8"}}}, token=None)).status == 201


async def test_an_era_override_and_a_lookup_override(api: Api) -> None:
    await add(api, [
        {"method": "LOOKUP", "path": POINTS, "body": "ABCDE",
         "response": {"body": ["00000000-0000-0000-0000-0000000000aa"]}},
        {"method": "DELETE", "path": f"{POINTS}/*", "response": {"status": 204}},
    ])
    looked = await api.request("LOOKUP", POINTS, json_body="ABCDE")
    assert looked.json() == ["00000000-0000-0000-0000-0000000000aa"]
    assert (await api.request("LOOKUP", POINTS, json_body="nothing")).status == 404
    gone = await api.delete(f"{POINTS}/00000000-0000-0000-0000-0000000000bb")
    assert (gone.status, gone.body) == (204, b"")


async def test_start_up_overrides_come_back_after_every_reset(make_api: MakeApi) -> None:
    api = await make_api(overrides=({"method": "GET", "path": f"{HUBS}/*", "response": {"merge": {"statusId": 2002}}},))
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["statusId"] == 2002
    await api.delete(OVERRIDES, token=None)
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["statusId"] == 2000
    await api.post("/__mockhub/reset", token=None)
    assert (await api.get(f"{HUBS}/{HUB_A}")).json()["statusId"] == 2002


def test_a_bad_start_up_override_stops_the_server_naming_it() -> None:
    bad = {"method": "GET", "path": HUBS, "response": {"status": 201, "body": {}}}
    with pytest.raises(ValueError, match=r"override 0: Value '201' of 'response.status' is not valid"):
        create_app(Settings(overrides=(bad,)))


async def test_a_sessions_overrides_hold_at_most_max_override_bytes(make_api: MakeApi) -> None:
    api = await make_api(max_override_bytes=4000)
    hub = (await api.get(f"{HUBS}/{HUB_A}")).json()
    await add(api, {"method": "GET", "path": f"{HUBS}/{HUB_A}", "response": {"body": {**hub, "description": LONG}}})
    big = {"method": "GET", "path": f"{HUBS}/{HUB_A}", "response": {"body": {**hub, "description": "y" * 1500}}}
    refused = await api.post(OVERRIDES, big, token=None)
    assert refused.status == 400
    assert "at most 4000 bytes in memory (--max-override-bytes)" in refused.json()["error"]
    assert len((await api.get(OVERRIDES, token=None)).json()) == 1
    assert (await api.delete(OVERRIDES, token=None)).status == 200
    await add(api, big)  # the bytes of removed overrides are free again


async def test_a_session_holds_at_most_a_thousand_overrides(api: Api) -> None:
    rule = {"method": "GET", "path": f"{HUBS}/*", "response": {"merge": {"statusId": 2002}}}
    assert len(await add(api, [rule] * 1000)) == 1000
    reply = await api.post(OVERRIDES, rule, token=None)
    assert (reply.status, reply.json()["error"]) == (
        400, "A session holds at most 1000 overrides; it has 1000.")
    assert len((await api.get(OVERRIDES, token=None)).json()) == 1000
    assert (await api.delete(OVERRIDES, token=None)).status == 200
    too_many = await api.post(OVERRIDES, [rule] * 1001, token=None)  # at once: the limit named, not 'not valid'
    assert (too_many.status, too_many.json()["error"]) == (
        400, "The request body holds 1001 items; it may hold at most 1000.")


async def test_a_lookup_sent_as_post_with_the_override_header_is_matched_as_the_lookup_it_is(api: Api) -> None:
    """Answered as the LOOKUP it names, it is matched as one: by a LOOKUP override and fault rule, not by one
    written for creating a point (whose merge turned the LOOKUP's array into an object)."""
    as_post = {"X-HTTP-Method-Override": "LOOKUP"}
    await add(api, [{"method": "POST", "path": POINTS, "response": {"merge": {"url": "https://merged"}}},
                    {"method": "LOOKUP", "path": POINTS, "body": "SOLD", "response": {"body": [HUB_A]}}])
    found = await api.request("POST", POINTS, token=None, json_body="ABCDE", headers=as_post)
    assert found.status == 200 and isinstance(found.json(), list)  # the create's merge left it alone
    sold = await api.request("POST", POINTS, token=None, json_body="SOLD", headers=as_post)
    assert sold.json() == [HUB_A]
    added = await api.post("/__mockhub/faults", {"method": "LOOKUP", "path": POINTS, "status": 503}, token=None)
    assert added.status == 201
    assert (await api.request("POST", POINTS, token=None, json_body="ABCDE", headers=as_post)).status == 503


async def test_a_browser_app_can_read_the_headers_an_override_sends(api: Api) -> None:
    await add(api, {"method": "GET", "path": HUBS, "off_contract": True, "response": {
        "headers": {"X-Total-Count": "0", "Location": "/elsewhere"},
        "body": {"pageNumber": 0, "pageSize": 50, "total": 0, "results": []}}})
    reply = await raw(api, "GET", HUBS, headers={"Origin": "http://localhost:5173"})
    exposed = {name.strip().lower() for name in reply.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-total-count", "location", "retry-after"} <= exposed
