"""The scenario's Engine API steps: in the run's hub, a Direct customer integration and a Direct agent (neither
with a webhookUrl, so no webhook is called), a conversation established and read, a message each way through the
Direct API, the activities listed, and the client errors each can provoke. The hub's deletion takes the
conversation along (:data:`ENGINE_TAKEN_ALONG`)."""

from __future__ import annotations

from typing import Any

from mockhub.verify.client import CONVERSATIONS, DIRECT, ESTABLISH, INTEGRATIONS, INTERACTIONS
from mockhub.verify.portal import CREATE_HUB, DELETE_HUB
from mockhub.verify.probe import Probe
from mockhub.verify.scenario import Action, Json, Step

GROUP = "engine"
TEXT = {"type": "text", "text": "Made by mockhub verify."}
CAROUSEL = {"type": "carousel", "items": [{"urlType": "image", "url": "https://verify.mockhub.invalid/1.png"}]}


def direct_integration(kind: str) -> Action[Json]:
    """A step's action that makes a Direct integration of the ``kind`` type (Customer, Agent) in the run's hub."""

    async def action(probe: Probe) -> Any:
        hub = probe.made(CREATE_HUB)
        body = {"channelId": "Direct", "name": probe.unique(f"direct {kind.lower()}"),
                "configuration": {"integrationType": kind}}
        return (await probe.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 200, body=body)).json()

    return action


CUSTOMER = Step(GROUP, "create a Direct customer integration", direct_integration("Customer"), needs=(CREATE_HUB,),
                makes="Direct customer integration", schema="Integration")
AGENT = Step(GROUP, "create a Direct agent integration", direct_integration("Agent"), needs=(CREATE_HUB,),
             makes="Direct agent integration", schema="Integration")


def establishing(probe: Probe) -> Json:
    return {"integrationId": probe.made(CUSTOMER)["integrationId"], "binding": probe.unique("customer"),
            "channelType": "Direct", "properties": {"profile": {"full name": "Mockhub Verify"}}}


async def establish(probe: Probe) -> Any:
    made = (await probe.call("POST", ESTABLISH, 200, body=establishing(probe), token=probe.engine_token)).json()
    probe.same(made, {"isNew": True, "integrationId": probe.made(CUSTOMER)["integrationId"]}, "the conversation")
    return made


ESTABLISHED = Step(GROUP, "establish a conversation", establish, needs=(CUSTOMER,), makes="conversation",
                   schema="EstablishedConversation")


async def establish_again(probe: Probe) -> None:
    made = probe.made(ESTABLISHED)
    again = (await probe.call("POST", ESTABLISH, 200, body=establishing(probe), token=probe.engine_token)).json()
    probe.same(again, {"isNew": False, "conversationId": made["conversationId"]}, "the conversation found again")


async def establish_without_binding(probe: Probe) -> None:
    body = {k: v for k, v in establishing(probe).items() if k != "binding"}
    await probe.call("POST", ESTABLISH, 400, body=body, token=probe.engine_token, codes=[3001])


async def establish_for_missing_integration(probe: Probe) -> None:
    body = {"integrationId": probe.missing_id, "binding": "b", "channelType": "Direct"}
    await probe.call("POST", ESTABLISH, 404, body=body, token=probe.engine_token, codes=[6000])


async def read(probe: Probe) -> None:
    made = probe.made(ESTABLISHED)
    found = (await probe.call("GET", f"{CONVERSATIONS}/{made['conversationId']}", 200,
                              token=probe.engine_token)).json()
    probe.same(found, {k: made[k] for k in ("conversationId", "integrationId", "tokenId", "properties")},
               "the conversation read back")


async def read_missing(probe: Probe) -> None:
    await probe.call("GET", f"{CONVERSATIONS}/{probe.missing_id}", 404, token=probe.engine_token, codes=[6500])


async def read_as_other_tenant(probe: Probe) -> None:
    made = probe.made(ESTABLISHED)
    await probe.call("GET", f"{CONVERSATIONS}/{made['conversationId']}", 403, token=probe.other_token, codes=[101])


def sending(body: Json, status: int, codes: list[int], *, as_agent: bool = False) -> Action[Json]:
    """A step's action that sends ``body`` into the run's conversation (from its agent if ``as_agent``)."""

    async def action(probe: Probe) -> Any:
        sent = {**body, "sender": {"integrationId": probe.made(AGENT)["integrationId"]}} if as_agent else body
        path = f"{DIRECT}/{probe.made(ESTABLISHED)['conversationId']}"
        answer = (await probe.call("POST", path, status, body=sent, token=probe.engine_token, codes=codes)).json()
        if status == 200 and isinstance(answer, dict):
            probe.expect("interactionId" in answer, "a message's answer has no interactionId")
        return answer

    return action


CUSTOMER_SAYS = Step(GROUP, "the customer sends a message", sending({"type": "message", "message": TEXT}, 200, []),
                     needs=(AGENT, ESTABLISHED), makes="customer's activity", schema="DirectActivityAccepted")
AGENT_SAYS = Step(GROUP, "the agent answers", sending({"type": "message", "message": TEXT}, 200, [], as_agent=True),
                  needs=(AGENT, ESTABLISHED), makes="agent's activity", schema="DirectActivityAccepted")


async def list_activities(probe: Probe) -> None:
    first, second = probe.made(CUSTOMER_SAYS), probe.made(AGENT_SAYS)
    path = f"{INTERACTIONS}/{probe.made(ESTABLISHED)['conversationId']}"
    listed = (await probe.call("GET", path, 200, token=probe.engine_token, params={"type": "Customer"})).json()
    if isinstance(listed, list):
        probe.expect([a.get("eventId") for a in listed if isinstance(a, dict)] == [first["eventId"],
                                                                                  second["eventId"]],
                     "the customer's activities are not the two sent, in order")
    after = (await probe.call("GET", path, 200, token=probe.engine_token,
                              params={"type": "Agent", "leid": str(first["eventId"])})).json()
    if isinstance(after, list):
        probe.expect([a.get("eventId") for a in after if isinstance(a, dict)] == [second["eventId"]],
                     "the activities after the first one's eventId are not the agent's one")


async def list_without_type(probe: Probe) -> None:
    path = f"{INTERACTIONS}/{probe.made(ESTABLISHED)['conversationId']}"
    await probe.call("GET", path, 400, token=probe.engine_token, codes=[200])


async def taken_along(probe: Probe) -> None:
    await probe.call("GET", f"{CONVERSATIONS}/{probe.made(ESTABLISHED)['conversationId']}", 404,
                     token=probe.engine_token, codes=[6500])


ENGINE: tuple[Step[Any], ...] = (
    CUSTOMER,
    AGENT,
    ESTABLISHED,
    Step(GROUP, "the same binding finds the conversation", establish_again, needs=(CUSTOMER, ESTABLISHED)),
    Step(GROUP, "a conversation request without a binding is 400", establish_without_binding, needs=(CUSTOMER,)),
    Step(GROUP, "an integration that does not exist is 404", establish_for_missing_integration),
    Step(GROUP, "read the conversation", read, needs=(ESTABLISHED,)),
    Step(GROUP, "a conversation that does not exist is 404", read_missing),
    Step(GROUP, "another tenant's conversation is 403", read_as_other_tenant, needs=(ESTABLISHED,),
         other_tenant=True),
    CUSTOMER_SAYS,
    AGENT_SAYS,
    Step(GROUP, "a message and an event together are 400",
         sending({"type": "message", "message": TEXT, "event": {"type": "seen"}}, 400, [5004]),
         needs=(AGENT, ESTABLISHED)),
    Step(GROUP, "a customer's carousel is 400", sending({"type": "message", "message": CAROUSEL}, 400, [5002]),
         needs=(AGENT, ESTABLISHED)),
    Step(GROUP, "list the conversation's activities", list_activities, needs=(ESTABLISHED, CUSTOMER_SAYS, AGENT_SAYS)),
    Step(GROUP, "the activities without a type are 400", list_without_type, needs=(ESTABLISHED,)),
)
"""The Engine's steps, before the hub's deletion."""
ENGINE_TAKEN_ALONG: tuple[Step[Any], ...] = (
    Step(GROUP, "deleting a hub deletes its conversations", taken_along, needs=(DELETE_HUB, ESTABLISHED)),
)
