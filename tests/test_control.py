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
