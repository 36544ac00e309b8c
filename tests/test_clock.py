"""The session's clock through the control API (POST /__mockhub/clock): set or advanced, per session, reset
with the session; the times of new records and of the journal follow it."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api, MakeApi, Reply

CLOCK = "/__mockhub/clock"


async def change(api: Api, body: Any, session: str | None = None) -> Reply:
    headers = {"X-Mockhub-Session": session} if session else None
    return await api.request("POST", CLOCK, token=None, json_body=body, headers=headers)


async def now(api: Api, session: str | None = None) -> str:
    headers = {"X-Mockhub-Session": session} if session else None
    return str((await api.get(CLOCK, token=None, headers=headers)).json()["now"])


async def test_a_pinned_clock_is_shown_advanced_and_set(api: Api) -> None:
    assert (await api.get(CLOCK, token=None)).json() == {
        "session": "default", "now": "2021-01-01T00:00:00.0000000Z", "pinned": True}
    assert (await change(api, {"advance": "P1DT2H30M"})).json()["now"] == "2021-01-02T02:30:00.0000000Z"
    assert (await change(api, {"advance": "PT0.5S"})).json()["now"] == "2021-01-02T02:30:00.5000000Z"
    assert (await change(api, {"set": "2030-06-01T12:00:00+02:00"})).json()["now"] == "2030-06-01T10:00:00.0000000Z"
    assert (await change(api, {"set": "2020-01-01T00:00:00"})).json()["now"] == "2020-01-01T00:00:00.0000000Z"


async def test_new_records_and_the_journal_take_the_sessions_time(api: Api) -> None:
    await change(api, {"advance": "P30D"})
    hub = (await api.post("/api/v1/hubs", {"name": "Later", "description": ""})).json()
    assert hub["created"] == "2021-01-31T00:00:00.0000000Z"
    journal = (await api.get("/__mockhub/requests", token=None)).json()
    assert journal[-1]["time"] == "2021-01-31T00:00:01.0000000Z"  # the write moved the pinned clock a second


async def test_each_session_has_its_own_clock_and_a_reset_puts_it_back(api: Api) -> None:
    await change(api, {"advance": "P7D"}, session="later")
    assert await now(api, "later") == "2021-01-08T00:00:00.0000000Z"
    assert await now(api) == "2021-01-01T00:00:00.0000000Z"
    await api.request("POST", "/__mockhub/reset", token=None, headers={"X-Mockhub-Session": "later"})
    assert await now(api, "later") == "2021-01-01T00:00:00.0000000Z"


async def test_a_real_time_clock_runs_on_from_where_it_is_put(make_api: MakeApi) -> None:
    api = await make_api(clock=None)
    state = (await change(api, {"set": "2030-01-01T00:00:00Z"})).json()
    assert state["pinned"] is False
    shown = datetime.fromisoformat(state["now"].replace("0Z", "+00:00"))
    assert timedelta(0) <= shown - datetime(2030, 1, 1, tzinfo=UTC) < timedelta(minutes=5)
    later = datetime.fromisoformat((await change(api, {"advance": "P1D"})).json()["now"].replace("0Z", "+00:00"))
    assert timedelta(days=1) <= later - shown < timedelta(days=1, minutes=5)


async def test_records_written_on_real_time_take_the_time_of_their_write(make_api: MakeApi) -> None:
    """To the microsecond, in the Portal form, and across a change of second (the date and time of day of
    each second are written once, the microseconds each time)."""
    api = await make_api(clock=None)
    stamps = []
    for i in range(3):
        before = datetime.now(UTC)
        hub = (await api.post("/api/v1/hubs", {"name": f"Now {i}", "description": ""})).json()
        after = datetime.now(UTC)
        assert hub["created"] == hub["modified"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}0Z", hub["created"]), hub["created"]
        stamps.append(datetime.fromisoformat(hub["created"][:26] + "+00:00"))
        assert before <= stamps[-1] <= after
        if i < 2:
            await asyncio.sleep(0.55)  # three writes over more than a second: at least two seconds are written
    assert stamps[-1] - stamps[0] > timedelta(seconds=1)


@pytest.mark.parametrize(("body", "says"), [
    ({"advance": "P1M"}, "years and months have no fixed length"),
    ({"advance": "30"}, "not an ISO 8601 duration"),
    ({"advance": "-P1D"}, "not an ISO 8601 duration"),
    ({"set": "tomorrow"}, "not an ISO 8601 instant"),
    ({"advance": "P3000000D"}, "cannot move past the year 9999"),
    ({}, "gives one of 'set' (an ISO 8601 instant) and 'advance'"),
    ({"set": "2030-01-01T00:00:00Z", "advance": "P1D"}, "gives one of 'set'"),
    ({"advance": 3600}, "must be a string"),
])
async def test_a_change_that_is_not_one_is_400_and_changes_nothing(api: Api, body: Any, says: str) -> None:
    reply = await change(api, body)
    assert reply.status == 400
    assert says in reply.json()["error"], reply.json()
    assert await now(api) == "2021-01-01T00:00:00.0000000Z"
