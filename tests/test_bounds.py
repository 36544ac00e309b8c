"""Bounds (issue 14): the worst a client can send meets a limit, and the server stays small and well."""

from __future__ import annotations

import json
import re
import tracemalloc
from typing import Any
from urllib.parse import urlencode

import pytest

from mockhub.web.keys import CONTROL, SESSIONS
from tests.conftest import Api, MakeApi, Reply

HUBS = "/api/v1/hubs"
POINTS = "/rest/v1/service/integration_points"


def named(session: str) -> dict[str, str]:
    return {"X-Mockhub-Session": session}


async def assert_well(api: Api) -> None:
    assert (await api.get(HUBS)).status == 200
    assert (await api.get(POINTS, token=None)).status == 200
    assert (await api.get("/__mockhub/state", token=None)).status == 200


async def test_huge_headers_and_bodies_stay_within_the_journal_budget(make_api: MakeApi) -> None:
    budget = 300_000
    api = await make_api(journal_total_bytes=budget)
    headers = {f"X-Junk-{i}": "j" * 4000 for i in range(100)}
    body = json.dumps({"name": "n" * 100, "description": "d" * 500_000})
    for i in range(30):
        reply = await api.request("POST", HUBS, data=body, headers={**headers, **named(f"s{i % 3}"),
                                                                    "Content-Type": "application/json"})
        assert reply.status in (200, 400)
    kept = 0
    for i in range(3):
        listed = await api.get("/__mockhub/requests", token=None, headers=named(f"s{i}"))
        kept += len(listed.body)
        for entry in listed.json():
            assert entry["cut"] == ["headers", "body"]
            assert len(entry["headers"]) <= 64
            assert all(len(value) <= 1024 for value in entry["headers"].values())
    assert 0 < kept < 2 * budget
    await assert_well(api)


def server_side(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes traced that the server holds: not what the test client keeps of its requests and replies."""
    client = [tracemalloc.Filter(False, pattern)
              for pattern in ("*/aiohttp/client*", "*/aiohttp/test_utils.py", "*/tests/*", "*/tracemalloc.py")]
    return sum(stat.size for stat in snapshot.filter_traces(client).statistics("filename"))


async def test_the_journals_memory_stays_near_its_budget_whatever_leaves_it(make_api: MakeApi) -> None:
    budget = 2_000_000
    api = await make_api(journal_total_bytes=budget, journal_size=5)
    headers = {f"X-Junk-{i}": "j" * 1000 for i in range(30)}
    for i in range(20):
        await api.get(HUBS, headers={**headers, **named(f"s{i}")})
    tracemalloc.start()
    try:
        ready = server_side(tracemalloc.take_snapshot())
        # entries leave by the budget, by each journal's size and by resets, in every session
        for i in range(300):
            await api.get(HUBS, headers={**headers, **named(f"s{i % 20}")})
            if i % 50 == 49:
                await api.post("/__mockhub/reset", token=None, headers=named("s0"))
        grown = server_side(tracemalloc.take_snapshot()) - ready
    finally:
        tracemalloc.stop()
    assert grown < 1.5 * budget, grown
    await assert_well(api)


async def test_fault_rules_glob_and_depth_limits_hold_under_a_flood(api: Api) -> None:
    rules = [{"path": f"{HUBS}/{i}", "status": 503} for i in range(100)]
    assert (await api.post("/__mockhub/faults", rules, token=None)).status == 201
    for rule in ({"status": 503}, {"status": 503, "path": "/" + "*a" * 1024}):
        assert (await api.post("/__mockhub/faults", rule, token=None)).status == 400
    deep = b'{"code": "d", "type": "im", "opts": {"roles": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    reply = await api.request("POST", POINTS, token=None, data=deep, headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert (await api.get(f"{HUBS}/7")).status == 503
    await assert_well(api)


async def test_a_flood_of_session_names_is_refused_and_evicts_no_one_in_use(make_api: MakeApi) -> None:
    api = await make_api(max_sessions=10)
    await api.post(HUBS, {"name": "Mine", "description": ""}, headers=named("victim"))
    statuses = [(await api.get(HUBS, headers=named(f"flood-{i}"))).status for i in range(99)]
    assert statuses.count(200) == 8 and statuses.count(503) == 91
    assert (await api.get(HUBS, headers=named("victim"))).json()["total"] == 4
    await assert_well(api)


async def test_sessions_share_the_start_up_state_until_they_change_it(make_api: MakeApi) -> None:
    api = await make_api(fake="hubs=2000,points=2000")
    await assert_well(api)
    tracemalloc.start()
    try:
        ready = tracemalloc.get_traced_memory()[0]
        for i in range(20):
            assert (await api.get(HUBS, headers=named(f"reader-{i}"))).status == 200
            created = await api.post(HUBS, {"name": f"Hub {i}", "description": ""}, headers=named(f"writer-{i}"))
            assert created.status == 200
        grown = tracemalloc.get_traced_memory()[0] - ready
    finally:
        tracemalloc.stop()
    # A copy of the indexes of 4,000 records is over 500 KB; 40 sessions that each hold one
    # journal entry and (half of them) one hub need a small part of one such copy.
    assert grown < 2_000_000, grown


async def test_a_session_holds_at_most_max_session_records_of_its_own(make_api: MakeApi) -> None:
    api = await make_api(max_session_records=3)
    full = named("full")
    for i in range(3):
        assert (await api.post(POINTS, {"code": f"q{i}", "type": "im"}, token=None, headers=full)).status == 200
    refused = await api.post(POINTS, {"code": "q3", "type": "im"}, token=None, headers=full)
    assert refused.status == 429 and refused.headers["Retry-After"] == "60"
    assert refused.json()["error_code"] == 1429 and "--max-session-records 3" in refused.json()["error_message"]
    hub = await api.post(HUBS, {"name": "One more", "description": ""}, headers=full)
    assert hub.status == 429 and hub.json()["errors"][0]["code"] == 111
    # changing a start-up record makes it the session's own too; the refused change leaves it as it was
    first = (await api.get(POINTS, token=None, headers=full)).json()[0]
    patched = await api.patch(f"{POINTS}/{first['id']}", {"url": "https://changed.example"}, token=None, headers=full)
    assert patched.status == 429
    assert (await api.get(f"{POINTS}/{first['id']}", token=None, headers=full)).json() == first
    assert (await api.request("LOOKUP", POINTS, token=None, json_body="q3", headers=full)).status == 404
    # another session is unaffected; a delete makes room again, and so does a reset
    assert (await api.post(POINTS, {"code": "q3", "type": "im"}, token=None, headers=named("other"))).status == 200
    own = (await api.request("LOOKUP", POINTS, token=None, json_body="q0", headers=full)).json()[0]
    assert (await api.delete(f"{POINTS}/{own}", token=None, headers=full)).status == 204
    assert (await api.post(POINTS, {"code": "q3", "type": "im"}, token=None, headers=full)).status == 200
    assert (await api.post("/__mockhub/reset", token=None, headers=full)).status in (200, 204)
    assert (await api.post(HUBS, {"name": "After reset", "description": ""}, headers=full)).status == 200
    await assert_well(api)


async def test_records_held_before_a_load_do_not_count_twice_or_stay_counted_after_it(make_api: MakeApi) -> None:
    """What a session held before ``Mockhub.load()`` becomes its base, as the start-up data is: deleting those
    records afterwards must not leave their count behind (it did, and the session ran out of room)."""
    api = await make_api(max_session_records=4)
    made = [(await api.post(POINTS, {"code": f"l{i}", "type": "im"}, token=None)).json()["id"] for i in range(3)]
    assert api.client is not None
    app = api.client.server.app
    app[CONTROL].load(app[SESSIONS].default, {"integrationPoints": [{"code": "loaded", "type": "im"}]})
    for point_id in made:
        assert (await api.delete(f"{POINTS}/{point_id}", token=None)).status == 204
    for i in range(3):  # room for four: the loaded point and three more
        assert (await api.post(POINTS, {"code": f"m{i}", "type": "im"}, token=None)).status == 200
    assert (await api.post(POINTS, {"code": "m3", "type": "im"}, token=None)).status == 429


async def test_a_sessions_own_records_take_at_most_max_session_bytes(make_api: MakeApi) -> None:
    api = await make_api(max_session_bytes=200_000)
    big = {"type": "im", "opts": {"comment": "u" * 20_000}}
    statuses = [(await api.post(POINTS, {**big, "code": f"big{i}"}, token=None)).status for i in range(20)]
    assert 5 <= statuses.count(200) < 10 and statuses[statuses.index(429):] == [429] * statuses.count(429)
    first = (await api.request("LOOKUP", POINTS, token=None, json_body="big0")).json()[0]
    assert (await api.delete(f"{POINTS}/{first}", token=None)).status == 204
    small = await api.post(POINTS, {"code": "small", "type": "im"}, token=None)
    assert small.status == 200  # the room a delete makes is there to use
    dump = await api.get("/__mockhub/state", token=None)
    assert dump.status == 200 and len(dump.json()["integrationPoints"]) == 2 + statuses.count(200)
    # a whole state that does not fit is refused like any bad state (400 naming the record), and changes nothing
    state = {**dump.json(), "integrationPoints": [{**big, "code": f"s{i}"} for i in range(20)]}
    replaced = await api.put("/__mockhub/state", state, token=None)
    assert replaced.status == 400 and "--max-session-bytes 200000" in replaced.json()["error"]
    assert (await api.get("/__mockhub/state", token=None)).json() == dump.json()
    await assert_well(api)


async def test_a_sessions_fault_rules_take_at_most_max_fault_bytes(make_api: MakeApi) -> None:
    api = await make_api(max_fault_bytes=100_000)
    # a body to match of many empty arrays: ten kilobytes of JSON, some two hundred in memory
    heavy = {"path": f"{HUBS}/heavy", "status": 503, "body": [[]] * 3000}
    refused = await api.post("/__mockhub/faults", heavy, token=None)
    assert refused.status == 400 and "(--max-fault-bytes)" in refused.json()["error"]
    # a rate limit is counted with its window full
    counted = {"rate_limit": {"requests": 1000, "per_seconds": 60}, "path": f"{HUBS}/limited"}
    assert (await api.post("/__mockhub/faults", [counted] * 2, token=None)).status == 201
    assert (await api.post("/__mockhub/faults", [counted] * 2, token=None)).status == 400
    assert len((await api.get("/__mockhub/faults", token=None)).json()) == 2
    assert (await api.delete("/__mockhub/faults", token=None)).status == 200
    assert (await api.post("/__mockhub/faults", [counted] * 2, token=None)).status == 201
    await assert_well(api)


async def test_a_reset_after_many_writes_leaves_every_session_whole(make_api: MakeApi) -> None:
    api = await make_api()
    started = (await api.get(HUBS)).json()["total"]
    for i in range(700):  # more than one step of freeing the replaced data
        session = "busy" if i % 7 else "other"
        assert (await api.post(HUBS, {"name": f"Hub {i}", "description": ""}, headers=named(session))).status == 200
    assert (await api.post("/__mockhub/reset", token=None, headers=named("busy"))).status in (200, 204)
    assert (await api.get(HUBS, headers=named("busy"))).json()["total"] == started
    assert (await api.post(HUBS, {"name": "Hub 1", "description": ""}, headers=named("busy"))).status == 200
    assert (await api.get(HUBS, headers=named("other"))).json()["total"] == started + 100
    dump = (await api.get("/__mockhub/state", token=None, headers=named("other"))).json()
    assert (await api.put("/__mockhub/state", dump, token=None, headers=named("again"))).status == 200
    await assert_well(api)


async def test_text_above_u_ffff_counts_as_the_four_bytes_a_character_it_takes(make_api: MakeApi) -> None:
    """One character above U+FFFF makes Python keep every character of its string in four bytes: headers
    counted a byte a character held four times the journal budget."""
    budget = 2_000_000
    api = await make_api(journal_total_bytes=budget)
    wide = {f"X-Wide-{i}": "w" * 1000 + "\U0001f600" for i in range(60)}
    await api.get(HUBS, headers=wide)
    tracemalloc.start()
    try:
        ready = server_side(tracemalloc.take_snapshot())
        for _ in range(60):
            assert (await api.get(HUBS, headers=wide)).status == 200
        grown = server_side(tracemalloc.take_snapshot()) - ready
    finally:
        tracemalloc.stop()
    assert grown < 1.5 * budget, grown
    [entry, *_] = (await api.get("/__mockhub/requests", token=None, params={"limit": 1})).json()
    assert entry["headers"]["X-Wide-0"] == "w" * 1000 + "\U0001f600"
    await assert_well(api)


async def read_journal(api: Api, **params: Any) -> tuple[list[dict[str, Any]], list[Reply]]:
    """Every entry of the journal, a page at a time following each ``Link: rel="next"``; and the pages."""
    entries: list[dict[str, Any]] = []
    pages: list[Reply] = []
    target: str | None = "/__mockhub/requests?" + urlencode(params)
    while target is not None:
        page = await api.get(target, token=None)
        assert page.status == 200
        pages.append(page)
        entries += page.json()
        link = page.headers.get("Link")
        if link is None:
            target = None
        else:
            found = re.fullmatch(r'<([^>]+)>; rel="next"', link)
            assert found is not None, link
            target = found.group(1)
    return entries, pages


async def test_the_journal_is_read_a_bounded_page_at_a_time(make_api: MakeApi) -> None:
    """A journal read rendered it whole: a body of 64 KiB of byte 0x01 is 384 KiB as JSON (each byte is
    ``\\u0001``), so a 64 MiB journal was a 393 MB answer, held whole for a client that did not read it."""
    budget, page_bytes = 3_000_000, 400_000
    api = await make_api(journal_total_bytes=budget, journal_page_bytes=page_bytes)
    control = b"\x01" * 65536
    for i in range(40):
        reply = await api.request("POST", HUBS, data=control, headers={"Content-Type": "application/json",
                                                                       "X-Request": str(i)})
        assert reply.status == 400
    entries, pages = await read_journal(api)
    # what the journal holds, as rendered, is within its budget; each answer within its page's bytes
    assert sum(len(page.body) for page in pages) < budget
    assert len(pages) > 1 and all(len(page.body) <= page_bytes for page in pages)
    assert [entry["seq"] for entry in entries] == list(range(entries[0]["seq"], 41))
    assert entries[-1]["body"] == control.decode()
    # limit and after choose the page; the last page has no Link
    two = await api.get("/__mockhub/requests", token=None, params={"limit": 1, "after": 38})
    assert [entry["seq"] for entry in two.json()] == [39]
    assert two.headers["Link"] == '</__mockhub/requests?limit=1&after=39>; rel="next"'
    last = await api.get("/__mockhub/requests", token=None, params={"after": 39})
    assert [entry["seq"] for entry in last.json()] == [40] and "Link" not in last.headers
    assert (await api.get("/__mockhub/requests", token=None, params={"after": 40})).json() == []
    refused = await api.get("/__mockhub/requests", token=None, params={"limit": 0})
    assert refused.status == 400 and "'limit'" in refused.json()["error"]
    await assert_well(api)


async def test_a_small_journal_is_read_whole_in_one_answer(api: Api) -> None:
    for _ in range(30):
        await api.get(HUBS)
    reply = await api.get("/__mockhub/requests", token=None)
    assert len(reply.json()) == 30 and "Link" not in reply.headers


@pytest.mark.parametrize("escaped", [True, False], ids=["escaped", "utf8"])
async def test_text_beyond_ascii_counts_with_the_utf8_copy_its_answer_leaves(make_api: MakeApi, escaped: bool) -> None:
    """Python keeps a UTF-8 copy of a text beyond ASCII once it is written as JSON (the create's own answer
    writes it): a session's own records are counted with it, so they stay within --max-session-bytes, whether
    the body sent the text as ``\\u`` escapes or as UTF-8."""
    budget = 1_000_000
    api = await make_api(max_session_bytes=budget, journal_total_bytes=50_000)
    wide = "\U0001f600" * 2048  # 8 KB in memory, and 8 KB more as UTF-8
    tracemalloc.start()
    try:
        ready = server_side(tracemalloc.take_snapshot())
        statuses = []
        for i in range(130):
            body = json.dumps({"name": f"Wide {i}", "description": wide}, ensure_ascii=escaped).encode()
            reply = await api.request("POST", HUBS, data=body, headers={"Content-Type": "application/json"})
            statuses.append(reply.status)
        grown = server_side(tracemalloc.take_snapshot()) - ready
    finally:
        tracemalloc.stop()
    assert 200 in statuses and statuses[statuses.index(429):] == [429] * statuses.count(429)
    assert grown < 1.6 * budget, (grown, statuses.count(200))  # counted without it: 2.1 MB
    await assert_well(api)


JSON_TYPE = {"Content-Type": "application/json"}


@pytest.mark.parametrize("big_integer", [False, True], ids=["orjson", "standard-library"])
async def test_text_beyond_ascii_counts_with_its_utf8_copy_however_the_body_is_read(
        make_api: MakeApi, big_integer: bool) -> None:
    """A body with an integer of 19 digits or more is read by the standard library, which keeps no UTF-8 copy
    of a text beyond ASCII; writing the record as JSON makes one later. Its session counts it from the start."""
    budget = 1_000_000
    api = await make_api(max_session_bytes=budget, journal_total_bytes=50_000)
    wide = "\U0001f600" * 2048  # 8 KB in memory, and 8 KB more as UTF-8
    roles = [12345678901234567890123] if big_integer else ["agent"]
    tracemalloc.start()
    try:
        ready = server_side(tracemalloc.take_snapshot())
        statuses = []
        for i in range(130):
            body = json.dumps({"code": f"wide{i}", "type": "im", "opts": {"title": wide, "roles": roles}}).encode()
            reply = await api.request("POST", POINTS, token=None, data=body, headers=JSON_TYPE)
            statuses.append(reply.status)
        grown = server_side(tracemalloc.take_snapshot()) - ready
    finally:
        tracemalloc.stop()
    assert 200 in statuses and statuses[statuses.index(429):] == [429] * statuses.count(429), statuses
    assert grown < 1.6 * budget, (grown, statuses.count(200))  # counted without the copies: 1.8 MB
    await assert_well(api)
