"""The control plane: the pytest fixture and the control API are two doors onto the same operations."""

from __future__ import annotations

from aiohttp import ClientSession

from mockhub.contract.conformance import ResponseChecker
from mockhub.testing import Mockhub
from tests.conftest import Api

HUBS = "/api/v1/hubs"


async def test_the_fixture_and_the_control_api_see_and_change_the_same_state(
        mockhub: Mockhub, checker: ResponseChecker) -> None:
    async with ClientSession() as client:
        api = Api(None, checker, mockhub.url, client)
        rule = mockhub.add_fault({"path": "/nowhere", "status": 503})
        assert (await api.get("/__mockhub/faults", token=None)).json() == [rule]
        added = (await api.post("/__mockhub/faults", {"path": "/elsewhere", "status": 500}, token=None)).json()
        assert (await api.get("/__mockhub/faults", token=None)).json() == [rule, *added]

        await api.post(HUBS, {"name": "Through HTTP", "description": ""})
        assert mockhub.state() == (await api.get("/__mockhub/state", token=None)).json()
        assert any(hub["name"] == "Through HTTP" for hub in mockhub.state()["hubs"])
        assert (await api.get("/__mockhub/requests", token=None)).json() == mockhub.requests
        mockhub.assert_called("POST", HUBS, times=1)

        mockhub.reset()
        assert (await api.get("/__mockhub/faults", token=None)).json() == []
        assert (await api.get("/__mockhub/requests", token=None)).json() == []
        assert (await api.delete("/__mockhub/faults/rule-1", token=None)).status == 404


async def test_the_journal_keeps_the_query_as_sent_and_assert_called_reads_it_once(
        mockhub: Mockhub, checker: ResponseChecker) -> None:
    """A value holding a percent sign or a plus (``%2541`` is the text ``%41``) was journaled decoded, then
    decoded again by ``assert_called``: it matched neither what was sent nor what it meant."""
    async with ClientSession() as client:
        api = Api(None, checker, mockhub.url, client)
        await api.get(f"{HUBS}?pageSize=5&note=%2541&sum=1%2B1&text=a+b")
    [entry] = mockhub.requests
    assert entry["query"] == "pageSize=5&note=%2541&sum=1%2B1&text=a+b"
    mockhub.assert_called("GET", HUBS, query={"note": "%41", "sum": "1+1", "text": "a b"})


async def test_each_test_starts_with_every_session_fresh(mockhub: Mockhub, checker: ResponseChecker) -> None:
    """The fixture's reset (before every test) drops named sessions too: a test's session was the next test's,
    and a suite of more tests than --max-sessions, each in its own session, ran out of sessions."""
    async with ClientSession() as client:
        api = Api(None, checker, mockhub.url, client)
        mine = {"X-Mockhub-Session": "suite-a"}
        before = (await api.get(HUBS, headers=mine)).json()["total"]
        assert (await api.post(HUBS, {"name": "Left behind", "description": ""}, headers=mine)).status == 200
        mockhub.reset()
        assert (await api.get(HUBS, headers=mine)).json()["total"] == before
        sessions = {s["name"]: s for s in (await api.get("/__mockhub/sessions", token=None)).json()}
        assert sessions["suite-a"]["requests"] == 1  # made again by the GET after the reset: a new journal
