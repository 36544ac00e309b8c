"""Fault injection (decisions.md, Faults): effects, the four ways in, determinism, expiry, rate limits."""

from __future__ import annotations

import fnmatch
import json
import time
from typing import Any

import aiohttp
import pytest

from tests.conftest import HUB_A, POINTS, TOKEN, Api, MakeApi, ManualTime, Reply

HUBS = "/api/v1/hubs"
AUTH = {"Authorization": "Bearer mockhub-dev-token"}


async def add_fault(api: Api, rule: Any) -> list[dict[str, Any]]:
    reply = await api.post("/__mockhub/faults", rule, token=None)
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


async def statuses(api: Api, n: int, path: str = HUBS) -> list[int]:
    return [(await api.get(path)).status for _ in range(n)]


async def journal(api: Api) -> list[dict[str, Any]]:
    return (await api.get("/__mockhub/requests", token=None)).json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("status", "code"), [(408, 108), (429, 111), (500, 100), (503, 104)])
async def test_a_status_rule_answers_in_the_portal_format(api: Api, status: int, code: int) -> None:
    await add_fault(api, {"path": HUBS, "status": status})
    reply = await api.get(HUBS)
    assert reply.status == status
    assert reply.json()["status"] == status
    assert reply.error_codes() == [code]
    assert reply.json()["errors"][0]["description"].endswith(f"(code: PRT000{code})")
    if status in (429, 503):
        assert reply.headers["Retry-After"] == "1"
    else:
        assert "Retry-After" not in reply.headers


async def test_retry_after_is_configurable(api: Api) -> None:
    await add_fault(api, {"status": 503, "retry_after": 30})
    assert (await api.get(HUBS)).headers["Retry-After"] == "30"


async def test_a_rule_without_method_or_path_matches_every_api_request_but_never_admin(api: Api) -> None:
    await add_fault(api, {"status": 503})
    assert (await api.get(HUBS)).status == 503
    assert (await api.get(f"{HUBS}/{HUB_A}")).status == 503
    assert (await api.get("/__mockhub/health", token=None)).status == 200
    assert (await api.post("/__mockhub/reset", token=None)).status == 200


async def test_method_and_glob_path_narrow_a_rule(api: Api) -> None:
    await add_fault(api, {"method": "get", "path": "/api/v1/hubs/*", "status": 408})
    assert (await api.get(f"{HUBS}/{HUB_A}")).status == 408
    assert (await api.get(HUBS)).status == 200
    assert (await api.put(f"{HUBS}/{HUB_A}", {"statusId": 2000})).status == 200


async def test_times_limits_a_rule_then_it_expires(api: Api) -> None:
    [rule] = await add_fault(api, {"status": 503, "times": 2})
    assert rule == {"id": "rule-1", "status": 503, "times": 2, "matched": 0, "fired": 0, "remaining": 2,
                    "ended": False}
    assert await statuses(api, 4) == [503, 503, 200, 200]
    [state] = (await api.get("/__mockhub/faults", token=None)).json()
    assert {k: state[k] for k in ("matched", "fired", "remaining", "ended")} == {
        "matched": 2, "fired": 2, "remaining": 0, "ended": True}


async def test_after_lets_the_first_requests_pass(api: Api) -> None:
    await add_fault(api, {"status": 500, "after": 2, "times": 1})
    assert await statuses(api, 4) == [200, 200, 500, 200]


async def test_a_sequence_scripts_the_answers_in_order(api: Api) -> None:
    await add_fault(api, {"path": HUBS, "sequence": [503, 429, "pass", 408]})
    assert await statuses(api, 3) == [503, 429, 200]
    [rule] = (await api.get("/__mockhub/faults", token=None)).json()
    assert (rule["matched"], rule["fired"], rule["ended"]) == (3, 2, False)
    assert await statuses(api, 3) == [408, 200, 200]
    [rule] = (await api.get("/__mockhub/faults", token=None)).json()
    assert (rule["matched"], rule["fired"], rule["ended"]) == (4, 3, True)


async def test_probability_replays_exactly_after_reset(api: Api) -> None:
    rule = {"status": 503, "probability": 0.5}
    await add_fault(api, rule)
    first = await statuses(api, 40)
    assert 5 < first.count(503) < 35  # really random, not all or nothing
    await api.post("/__mockhub/reset", token=None)
    await add_fault(api, rule)
    assert await statuses(api, 40) == first


async def test_a_different_seed_draws_different_faults(make_api: MakeApi) -> None:
    runs = []
    for seed in (1, 2):
        api = await make_api(seed=seed)
        await add_fault(api, {"status": 503, "probability": 0.5})
        runs.append(await statuses(api, 40))
    assert runs[0] != runs[1]


async def test_delay_only_delays_and_is_journaled(api: Api) -> None:
    await add_fault(api, {"path": HUBS, "delay_ms": 150})
    started = time.monotonic()
    reply = await api.get(HUBS)
    assert reply.status == 200
    assert time.monotonic() - started >= 0.15
    [entry] = await journal(api)
    assert entry["fault"] == "delay 150ms"


async def test_a_delay_rule_and_a_status_rule_combine(api: Api) -> None:
    await add_fault(api, [{"delay_ms": 100}, {"status": 503}])
    started = time.monotonic()
    assert (await api.get(HUBS)).status == 503
    assert time.monotonic() - started >= 0.1


async def test_rate_limit_answers_429_with_an_honest_retry_after_then_recovers(make_api: MakeApi) -> None:
    time = ManualTime()
    api = await make_api(monotonic=time)
    await add_fault(api, {"path": HUBS, "rate_limit": {"requests": 2, "per_seconds": 10}})
    assert await statuses(api, 2) == [200, 200]
    time.advance(7.5)
    limited = await api.get(HUBS)
    assert limited.status == 429
    assert limited.headers["Retry-After"] == "3"  # 2.5 s left, rounded up to whole seconds
    assert (await api.get(f"{HUBS}/{HUB_A}")).status == 200  # other paths are not counted
    time.advance(10.1)  # every request counted so far has left the window
    assert await statuses(api, 2) == [200, 200]
    assert (await api.get(HUBS)).status == 429


async def test_rate_limit_retry_after_counts_down_from_the_window(api: Api) -> None:
    await add_fault(api, {"rate_limit": {"requests": 1, "per_seconds": 60}})
    assert (await api.get(HUBS)).status == 200
    assert (await api.get(HUBS)).headers["Retry-After"] in ("60", "59")


@pytest.mark.parametrize(("header", "status"), [("429", 429), ("503", 503), ("408", 408)])
async def test_the_fault_header_asks_for_a_status(api: Api, header: str, status: int) -> None:
    reply = await api.get(HUBS, headers={"X-Mockhub-Fault": header})
    assert reply.status == status
    [entry] = await journal(api)
    assert entry["fault"] == header


async def test_the_delay_header_delays(api: Api) -> None:
    started = time.monotonic()
    reply = await api.get(HUBS, headers={"X-Mockhub-Delay": "120"})
    assert reply.status == 200
    assert time.monotonic() - started >= 0.12


async def test_the_delay_header_adds_to_the_rules_and_the_fault_header_comes_before_them(api: Api) -> None:
    """A browser app that slows every request must still meet the rules a test set (the delay header used to
    switch them off); a request's own fault header decides first, and the rules do not count it."""
    await add_fault(api, [{"path": HUBS, "status": 503, "times": 2}, {"path": f"{HUBS}/*", "delay_ms": 100}])
    started = time.monotonic()
    assert (await api.get(HUBS, headers={"X-Mockhub-Delay": "50"})).status == 503
    slow = await api.get(f"{HUBS}/{HUB_A}", headers={"X-Mockhub-Delay": "50"})
    assert slow.status == 200 and time.monotonic() - started >= 0.15
    assert (await api.get(HUBS, headers={"X-Mockhub-Fault": "504"})).status == 504
    assert (await api.get(HUBS)).status == 503  # the second of the rule's two: the 504 was the header's
    assert (await api.get(HUBS)).status == 200
    faults = [e["fault"] for e in (await api.get("/__mockhub/requests", token=None)).json()]
    assert faults == ["503", "delay 150ms", "504", "503", None]


@pytest.mark.parametrize(("header", "value"), [
    ("X-Mockhub-Fault", "200"), ("X-Mockhub-Fault", "600"), ("X-Mockhub-Fault", "explode"), ("X-Mockhub-Delay", "soon"),
    ("X-Mockhub-Delay", "600000"),
])
async def test_a_bad_fault_header_is_400_naming_it(api: Api, header: str, value: str) -> None:
    reply = await api.get(HUBS, headers={header: value})
    assert reply.status == 400
    assert header in reply.json()["errors"][0]["description"]


async def test_admin_lists_and_removes_rules(api: Api) -> None:
    added = await add_fault(api, [{"status": 503, "path": HUBS}, {"id": "slow", "delay_ms": 10}])
    assert [r["id"] for r in added] == ["rule-1", "slow"]
    listed = (await api.get("/__mockhub/faults", token=None)).json()
    assert [r["id"] for r in listed] == ["rule-1", "slow"]
    assert listed[0]["path"] == HUBS
    assert (await api.delete("/__mockhub/faults/rule-1", token=None)).status == 200
    assert (await api.delete("/__mockhub/faults/rule-1", token=None)).status == 404
    assert (await api.get(HUBS)).status == 200
    assert (await api.delete("/__mockhub/faults", token=None)).status == 200
    assert (await api.get("/__mockhub/faults", token=None)).json() == []


@pytest.mark.parametrize(("rule", "message"), [
    ({"status": 302}, "Value '302' of 'status' is not valid: it must be >= 400"),
    ({"status": 503, "colour": "red"}, "Property 'colour' is not supported"),
    ({"path": HUBS}, "A rule needs an effect"),
    ({"status": 503, "fault": "reset"}, "A rule has one effect"),
    ({"status": 503, "probability": 1.5}, "'probability'"),
    ({"sequence": []}, "'sequence' must not be empty"),
    ({"rate_limit": {"requests": 0, "per_seconds": 1}}, "'rate_limit.requests'"),
    ([{"id": "a", "status": 503}, {"id": "a", "status": 408}], "already exists"),
    ("503", "The request body must be"),
])
async def test_a_bad_rule_is_refused_with_what_is_wrong(api: Api, rule: Any, message: str) -> None:
    reply = await api.post("/__mockhub/faults", rule, token=None)
    assert reply.status == 400
    assert message in reply.json()["error"]
    assert (await api.get("/__mockhub/faults", token=None)).json() == []  # all or nothing


async def test_reset_removes_runtime_rules_and_restores_start_up_rules(make_api: MakeApi) -> None:
    api = await make_api(faults=({"path": HUBS, "status": 503, "times": 1},))
    assert await statuses(api, 2) == [503, 200]
    await add_fault(api, {"status": 408})
    await api.post("/__mockhub/reset", token=None)
    assert await statuses(api, 2) == [503, 200]


def test_a_bad_start_up_rule_stops_the_app(make_api: MakeApi) -> None:
    from mockhub.settings import Settings
    from mockhub.web.app import create_app

    with pytest.raises(ValueError, match=r"fault rule 1: .*'status'"):
        create_app(Settings(faults=({"status": 503}, {"status": 302})))


async def raw(api: Api, method: str, path: str, **kwargs: Any) -> Reply:
    """A request whose answer is not checked against the contract (broken bodies, undeclared statuses)."""
    assert api.client is not None
    async with api.client.request(method, path, **kwargs) as response:
        return Reply(response.status, response.headers, await response.read())


async def test_reset_closes_the_connection_without_an_answer(api: Api) -> None:
    await add_fault(api, {"path": HUBS, "fault": "reset", "times": 1})
    with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
        await raw(api, "GET", HUBS)
    assert (await api.get(HUBS)).status == 200  # the server carries on
    entries = await journal(api)
    assert [(e["status"], e["fault"]) for e in entries] == [(0, "reset"), (200, None)]


async def test_malformed_sends_a_truncated_json_body(api: Api) -> None:
    reply = await raw(api, "GET", HUBS, headers={"X-Mockhub-Fault": "malformed", **AUTH})
    status, body = reply.status, reply.body
    assert status == 200
    assert body.startswith(b'{"pageNumber":0')
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


@pytest.mark.parametrize("status", [408, 429, 500, 503])
async def test_a_status_rule_answers_in_the_era_format(api: Api, status: int) -> None:
    await add_fault(api, {"path": "/rest/v1/service/integration_points*", "status": status})
    reply = await api.get("/rest/v1/service/integration_points")
    assert reply.status == status
    assert reply.json()["error_code"] == 1000 + status
    assert reply.json()["error_message"]
    assert ("Retry-After" in reply.headers) == (status in (429, 503))


async def test_faults_apply_to_lookup_too(api: Api) -> None:
    await add_fault(api, {"method": "LOOKUP", "sequence": [503, "pass"]})
    first = await api.request("LOOKUP", "/rest/v1/service/integration_points", json_body="ABCDE")
    assert first.status == 503
    assert first.json()["error_code"] == 1503
    second = await api.request("LOOKUP", "/rest/v1/service/integration_points", json_body="ABCDE")
    assert second.json() == ["b4680fbe-016c-d86f-1d6b-50e54938780c"]


async def test_generated_rule_ids_step_over_ids_a_client_chose(api: Api) -> None:
    [named] = await add_fault(api, {"id": "rule-2", "status": 503, "path": "/x"})
    assert named["id"] == "rule-2"
    assert [r["id"] for r in await add_fault(api, [{"status": 503, "path": "/x"}, {"status": 408, "path": "/y"}])] \
        == ["rule-1", "rule-3"]
    assert (await add_fault(api, {"status": 429, "path": "/z"}))[0]["id"] == "rule-4"


async def test_malformed_keeps_the_answers_own_headers(api: Api) -> None:
    status = (await raw(api, "GET", HUBS, headers={"X-Mockhub-Fault": "malformed"})).status
    assert status == 401
    assert api.client is not None
    async with api.client.get(HUBS, headers={"X-Mockhub-Fault": "malformed"}) as response:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("status", "code"), [(502, 100), (504, 108)])
async def test_gateway_faults_answer_in_each_api_format(api: Api, status: int, code: int) -> None:
    await add_fault(api, {"status": status})
    portal = await api.get(HUBS)  # 502 and 504 are in the contract: the client checks both bodies
    assert (portal.status, portal.error_codes()) == (status, [code])
    assert "gateway" in portal.json()["errors"][0]["description"].lower()
    assert "Retry-After" not in portal.headers
    era = await api.get(POINTS)
    assert (era.status, era.json()["error_code"]) == (status, 1000 + status)


@pytest.mark.parametrize(("status", "code", "header"), [
    (401, 102, "WWW-Authenticate"), (404, 105, None), (409, 106, None), (501, 103, None), (503, 104, "Retry-After"),
])
async def test_the_fault_header_takes_any_error_status_with_its_documented_code(
        api: Api, status: int, code: int, header: str | None) -> None:
    reply = await raw(api, "GET", HUBS, headers={"X-Mockhub-Fault": str(status), **AUTH})
    assert (reply.status, reply.json()["status"], reply.error_codes()) == (status, status, [code])
    if header is not None:
        assert header in reply.headers


async def test_a_status_without_a_documented_code_gets_the_stated_default(api: Api) -> None:
    await add_fault(api, {"sequence": [418, 507]})
    teapot, storage = await raw(api, "GET", HUBS, headers=AUTH), await raw(api, "GET", HUBS, headers=AUTH)
    assert (teapot.status, teapot.error_codes(), storage.status, storage.error_codes()) == (418, [107], 507, [100])
    # An answer the operation does not declare: a deliberate break, and the contract says so.
    assert api.checker.check("GET", HUBS, teapot.status, teapot.headers, teapot.body)


async def test_a_405_fault_names_the_allowed_methods(api: Api) -> None:
    reply = await raw(api, "GET", f"{HUBS}/{HUB_A}", headers={"X-Mockhub-Fault": "405", **AUTH})
    assert reply.status == 405
    assert set(reply.headers["Allow"].split(", ")) >= {"GET", "PUT", "DELETE"}
    # also when the method is one the path does not serve (the answer it would get anyway, with Allow)
    unrouted = await raw(api, "PATCH", f"{HUBS}/{HUB_A}", headers={"X-Mockhub-Fault": "405", **AUTH})
    assert unrouted.status == 405
    assert unrouted.headers.get("Allow") == reply.headers["Allow"]


async def test_fault_rules_match_query_headers_and_json_body(api: Api) -> None:
    await add_fault(api, [
        {"path": HUBS, "query": {"pageSize": "5"}, "status": 503},
        {"path": HUBS, "headers": {"x-client": "mobile"}, "status": 504},
        {"method": "POST", "path": HUBS, "body": {"name": "Slow"}, "status": 502},
    ])
    assert (await api.get(HUBS, params={"pageSize": 5})).status == 503
    assert (await api.get(HUBS, params={"pageSize": 6})).status == 200
    assert (await api.get(HUBS, headers={"X-CLIENT": "mobile"})).status == 504
    assert (await api.post(HUBS, {"name": "Slow", "description": ""})).status == 502
    assert (await api.post(HUBS, {"name": "Quick", "description": ""})).status == 200
    listed = (await api.get("/__mockhub/faults", token=None)).json()
    assert listed[2]["body"] == {"name": "Slow"} and listed[0]["query"] == {"pageSize": "5"}


async def test_a_session_holds_at_most_max_fault_rules(make_api: MakeApi) -> None:
    api = await make_api(max_fault_rules=3)
    await add_fault(api, [{"status": 503, "path": f"/api/v1/hubs/{i}"} for i in range(2)])
    refused = await api.post("/__mockhub/faults", [{"status": 503}, {"status": 408}], token=None)
    assert refused.status == 400
    assert "at most 3 fault rules (--max-fault-rules)" in refused.json()["error"]
    assert len((await api.get("/__mockhub/faults", token=None)).json()) == 2  # all or nothing
    await add_fault(api, {"status": 408})


async def test_a_long_glob_is_refused_but_a_long_exact_path_is_not(api: Api) -> None:
    refused = await api.post("/__mockhub/faults", {"status": 503, "path": "/" + "*a" * 200}, token=None)
    assert refused.status == 400
    assert "at most 256 characters" in refused.json()["error"]
    await add_fault(api, {"status": 503, "path": "/" + "a" * 1000})


async def test_a_glob_is_compiled_when_the_rule_is_added_not_per_request(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    await add_fault(api, {"path": f"{HUBS}/*[0-9]", "status": 503})

    def compile_again(*_: Any) -> None:
        raise AssertionError("a request compiled a glob")
    monkeypatch.setattr(fnmatch, "_compile_pattern", compile_again)
    monkeypatch.setattr(fnmatch, "translate", compile_again)
    assert await statuses(api, 2, f"{HUBS}/{HUB_A}") == [503, 503]
    assert await statuses(api, 1, f"{HUBS}/{HUB_A[:-1]}f") == [404]


async def test_exact_path_glob_and_pathless_rules_apply_in_the_order_added(api: Api) -> None:
    await add_fault(api, [
        {"path": f"{HUBS}/*", "status": 408, "times": 1},
        {"path": f"{HUBS}/{HUB_A}", "status": 500, "times": 1},
        {"status": 503, "times": 1},
        {"path": f"{HUBS}/{HUB_A}", "status": 429, "times": 1},
        *({"path": f"{HUBS}/other-{i}", "status": 500} for i in range(50)),
    ])
    assert await statuses(api, 5, f"{HUBS}/{HUB_A}") == [408, 500, 503, 429, 200]
    assert await statuses(api, 1) == [200]


async def test_a_rate_limit_counts_at_most_1000_requests(api: Api) -> None:
    refused = await api.post("/__mockhub/faults", {"rate_limit": {"requests": 1001, "per_seconds": 60}}, token=None)
    assert refused.status == 400
    assert "rate_limit.requests" in refused.json()["error"]
    await add_fault(api, {"rate_limit": {"requests": 1000, "per_seconds": 60}})


async def test_a_delayed_connection_reset_for_a_client_already_gone_is_no_error(api: Api) -> None:
    """On an idle kept-alive connection (the express lane) the reset touched the closed socket: an OSError
    recorded as the mock's own error, which the pytest fixture raises."""
    import asyncio
    import socket

    assert api.client is not None
    port = int(api.client.server.port)  # type: ignore[arg-type]

    def leave() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /__mockhub/health HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(65536)
            time.sleep(0.2)  # idle: the next request takes the express lane
            sock.sendall(f"GET {HUBS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                         "X-Mockhub-Fault: reset\r\nX-Mockhub-Delay: 200\r\n\r\n".encode())
            time.sleep(0.05)

    await asyncio.to_thread(leave)
    await asyncio.sleep(0.3)  # the delay runs out with the client gone (make_api checks for recorded errors)
    assert (await api.get(HUBS)).status == 200
