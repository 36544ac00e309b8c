"""The request journal as users read it: what each entry shows, what is cut, and what it counts against the budget."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from mockhub.testing import Mockhub
from tests.conftest import Api, MakeApi, raw_exchange
from tests.test_bounds import read_journal

HUBS = "/api/v1/hubs"
TOKEN = "mockhub-dev-token"


def instant(shown: str) -> datetime:
    return datetime.fromisoformat(shown.replace("0Z", "+00:00"))


async def rendered_within_budget(api: Api, budget: int) -> list[dict[str, Any]]:
    """Every entry the journal holds, having checked that reading them all renders at most ``budget`` bytes."""
    entries, pages = await read_journal(api)
    assert sum(len(page.body) for page in pages) <= budget
    return entries


async def test_headers_that_render_larger_than_they_are_count_as_they_render(make_api: MakeApi) -> None:
    """A quote or a backslash renders as two bytes, an accented letter as two, an emoji as four: an entry counts
    what its headers render, so reading the whole journal stays within the budget, and shows them as sent."""
    budget = 300_000
    api = await make_api(journal_total_bytes=budget)
    sent = {"X-Quotes": '"' * 1000, "X-Backslashes": "\\" * 1000, "X-Accents": "é" * 1000, "X-Wide": "😀" * 1000,
            "X-Mixed": 'a"\\é😀' * 200}
    for _ in range(60):
        assert (await api.get(HUBS, headers=sent)).status == 200
    entries = await rendered_within_budget(api, budget)
    assert 5 < len(entries) < 60
    assert {name: entries[-1]["headers"][name] for name in sent} == sent


async def test_masked_secrets_count_as_they_are_shown(make_api: MakeApi) -> None:
    """A cookie of many short parts is shown longer than it came (``a;a`` is ``****; ****``), and so is a form's
    empty client secret (``client_secret=`` is ``client_secret=****``): each counts as shown, so reading the
    journal stays within the budget."""
    budget = 400_000
    api = await make_api(journal_total_bytes=budget)
    cookies = {"Cookie": "a;" * 500}
    for _ in range(200):
        assert (await api.get(HUBS, headers=cookies)).status == 200
    [*_, entry] = await rendered_within_budget(api, budget)
    assert entry["headers"]["Cookie"] == "; ".join(["****"] * 500)
    form = b"client_secret=&" * 4000
    for _ in range(20):
        reply = await api.request("POST", "/connect/token", token=None, data=form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status in (400, 401)
    [*_, entry] = await rendered_within_budget(api, budget)
    assert entry["body"] == "client_secret=****&" * 4000


async def test_each_cut_is_named_and_only_what_was_cut(make_api: MakeApi) -> None:
    api = await make_api(journal_headers=8, journal_header_bytes=50, journal_body_bytes=30)
    await api.get(HUBS, headers={f"X-Many-{i}": "v" for i in range(10)})
    await api.get(HUBS, headers={"X-Long": "l" * 51})
    await api.get(HUBS, headers={"X-" + "n" * 49: "long name"})
    await api.post(HUBS, {"name": "A body longer than thirty bytes", "description": ""})
    await api.get(HUBS, headers={"X-Fits": "f" * 50})
    entries = (await api.get("/__mockhub/requests", token=None)).json()
    assert [entry["cut"] for entry in entries] == [["headers"], ["headers"], ["headers"], ["body"], []]
    many, long_value, long_name, long_body, whole = entries
    assert len(many["headers"]) == 8
    assert long_value["headers"]["X-Long"] == "l" * 50
    assert "X-" + "n" * 48 in long_name["headers"]
    assert len(long_body["body"]) == 30 and long_body["headers"]["Authorization"] == "Bearer mock****"
    assert whole["headers"]["X-Fits"] == "f" * 50


def port_of(api: Api) -> int:
    assert api.client is not None
    return int(api.client.server.port)  # type: ignore[arg-type]


async def test_headers_show_as_the_request_has_them_and_repeated_ones_all_match(mockhub: Mockhub) -> None:
    """A client that writes names in lower case (as Node's fetch does) sees the known ones as aiohttp names them;
    a name that came twice is shown once, with its last value, and ``assert_called`` finds the request by either."""
    await asyncio.to_thread(raw_exchange, int(mockhub.url.rsplit(":", 1)[1]), (
        f"GET {HUBS} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: text/plain\r\n"
        "x-tag: one\r\nx-tag: two\r\nConnection: close\r\n\r\n").encode())
    [entry] = mockhub.requests
    assert entry["headers"] == {"Host": "127.0.0.1", "Authorization": "Bearer mock****", "Content-Type": "text/plain",
                                "x-tag": "two", "Connection": "close"}
    mockhub.assert_called("GET", HUBS, headers={"X-Tag": "one"})
    mockhub.assert_called("GET", HUBS, headers={"X-TAG": "two", "Authorization": f"Bearer {TOKEN}"})


async def test_text_that_is_not_unicode_is_shown_replaced(api: Api) -> None:
    """Invalid UTF-8 in a header or a body is shown with each bad byte replaced; the journal reads on whole."""
    body = b'{"name": "\xff\xfe", "description": ""}'
    await asyncio.to_thread(raw_exchange, port_of(api), (
        f"POST {HUBS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nX-Raw: caf\xc3\xa9 \xff!\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1") + body)
    await api.get(HUBS)
    odd, plain = (await api.get("/__mockhub/requests", token=None)).json()
    assert odd["headers"]["X-Raw"] == "café ?!"
    assert odd["body"] == '{"name": "\ufffd\ufffd", "description": ""}'
    assert plain["headers"]["Authorization"] == "Bearer mock****"


async def test_an_entry_is_timed_by_its_sessions_clock(make_api: MakeApi) -> None:
    api = await make_api(clock=None)
    before = datetime.now(UTC)
    await api.get(HUBS)
    after = datetime.now(UTC)
    await api.request("POST", "/__mockhub/clock", token=None, json_body={"set": "2030-01-01T00:00:00Z"})
    await api.get(HUBS)
    on_time, moved = (await api.get("/__mockhub/requests", token=None)).json()
    assert before <= instant(on_time["time"]) <= after
    assert timedelta(0) <= instant(moved["time"]) - datetime(2030, 1, 1, tzinfo=UTC) < timedelta(minutes=5)


async def test_pages_number_the_entries_kept_after_the_oldest_left(make_api: MakeApi) -> None:
    api = await make_api(journal_size=5)
    for i in range(12):
        await api.get(HUBS, params={"n": str(i)})
    entries = (await api.get("/__mockhub/requests", token=None)).json()
    assert [(entry["seq"], entry["query"]) for entry in entries] == [(seq, f"n={seq - 1}") for seq in range(8, 13)]
    page = await api.get("/__mockhub/requests?" + urlencode({"limit": 2, "after": 9}), token=None)
    assert [entry["seq"] for entry in page.json()] == [10, 11]
    assert page.headers["Link"] == '</__mockhub/requests?limit=2&after=11>; rel="next"'
    assert [entry["seq"] for entry in (await api.get("/__mockhub/requests?after=3", token=None)).json()] == [
        8, 9, 10, 11, 12]
