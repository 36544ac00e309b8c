"""Webhook deliveries over HTTP: where an accepted activity goes, what each receiver gets (headers, signature, the
System and Direct payloads), the retry schedule, the hosts the mock contacts, and the delivery log
(decisions.md, Webhooks).

Receivers are small aiohttp servers on loopback; the mock runs in process (``make_api``), so its delivery
tasks share the test's event loop.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.kernel.signing import signature_matches
from tests.conftest import HUB_A, HUB_A3, TENANT_A, Api, MakeApi, Reply
from tests.test_bounds import server_side
from tests.test_engine import (
    DIRECT_CUSTOMER,
    SLACK_A3,
    TEXT,
    WEBCHAT_A3,
    add_agent,
    add_integration,
    establish,
    said,
)

ACTIVITIES = "/__mockhub/activities"
DELIVERIES = "/__mockhub/deliveries"
FAST = {"webhook_time_scale": 0.0001}
"""The retry schedule's 30 minutes in 0.18 s."""


@dataclass
class Receiver:
    """A webhook receiver on loopback: what it was sent, and what it answers (``statuses`` in turn, then 200)."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0
    keys: dict[str, str] = field(default_factory=dict)
    """Private signing keys by public key: with any, a delivery not signed with the one its header names is 403."""


MakeReceiver = Callable[..., Awaitable[Receiver]]


@pytest.fixture
def receiver(aiohttp_server: Any) -> MakeReceiver:
    async def make(*statuses: int, delay: float = 0.0, redirect_to: str | None = None) -> Receiver:
        made = Receiver("", list(statuses), delay=delay)

        async def handle(request: web.Request) -> web.StreamResponse:
            made.received.append((dict(request.headers), await request.read()))
            if made.delay:
                await asyncio.sleep(made.delay)
            if redirect_to is not None:
                raise web.HTTPTemporaryRedirect(redirect_to)
            if made.keys and not signature_matches(made.received[-1][1], made.keys.get(
                    request.headers.get("x-hubster-public-key", ""), ""), request.headers.get("x-hubster-signature")):
                return web.json_response({"error": "signature"}, status=403)
            status = made.statuses.pop(0) if made.statuses else 200
            return web.json_response({"received": True}, status=status)

        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        server = await aiohttp_server(app)
        made.url = str(server.make_url("/hubster"))
        return made

    return make


async def records(api: Api, **params: Any) -> list[dict[str, Any]]:
    reply = await api.get(DELIVERIES, token=None, params=params or None)
    assert reply.status == 200, reply.body
    return list(reply.json())


async def settled(api: Api, done: Callable[[list[dict[str, Any]]], bool], seconds: float = 20.0
                  ) -> list[dict[str, Any]]:
    """The delivery log once ``done`` holds for it (a bound, not a timing: it holds long before)."""
    for _ in range(int(seconds / 0.01)):
        found = await records(api)
        if done(found):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"the deliveries never settled: {found}")


def count(kind: str, number: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda found: sum(r["kind"] == kind for r in found) >= number


async def system_integration(api: Api, url: str, events: list[str], hub: str = HUB_A3, name: str = "System") -> dict[
        str, Any]:
    reply = await api.post(f"/api/v1/integrations/hubs/{hub}", {"channelId": "System", "name": name,
                                                                 "configuration": {"webhookUrl": url,
                                                                                   "events": events}})
    assert reply.status == 200, reply.body
    return dict(reply.json())


async def customer_says(api: Api, text: str = "Hi there!", **more: Any) -> Reply:
    body = {"integrationId": WEBCHAT_A3, "binding": "visitor-1", "message": {"type": "text", "text": text}, **more}
    return await api.post(ACTIVITIES, body, token=None)


@pytest.fixture
def webhook_payloads(contract: Contract) -> Iterator[Callable[[str, Any], None]]:
    """Checks a received body against the contract's webhook payload schema."""

    def check(schema: str, value: Any) -> None:
        errors = [e.message for e in contract.schema(schema).iter_errors(value)]
        assert not errors, errors

    yield check


# -- a customer's message, delivered signed ------------------------------------------------------------

async def test_a_customer_message_reaches_a_system_webhook_signed_as_documented(
        make_api: MakeApi, receiver: MakeReceiver, webhook_payloads: Callable[[str, Any], None]) -> None:
    api = await make_api(**FAST)
    got = await receiver()
    system = await system_integration(api, got.url, ["message:customer"])
    sent = await customer_says(api)
    assert sent.status == 200, sent.body
    answer = sent.json()
    assert answer["conversation"]["isNew"] is True and answer["activity"]["eventTrigger"] == "message:customer"
    assert answer["deliveries"] == [{"delivery": "delivery-1", "integrationId": system["integrationId"],
                                     "payload": "system", "url": got.url, "state": "sending"}]
    [attempt] = await settled(api, count("attempt", 1))
    [(headers, body)] = got.received
    configuration = system["configuration"]
    assert {name: headers[name] for name in ("x-source-system", "x-hub-id", "x-integration-id", "x-conversation-id",
                                             "x-hubster-public-key", "Content-Type")} == {
        "x-source-system": "engine.hubster.io", "x-hub-id": HUB_A3, "x-integration-id": system["integrationId"],
        "x-conversation-id": answer["conversation"]["conversationId"],
        "x-hubster-public-key": configuration["publicSigningKey"], "Content-Type": "application/json"}
    assert signature_matches(body, configuration["privateSigningKey"], headers["x-hubster-signature"])
    payload = __import__("json").loads(body)
    webhook_payloads("SystemWebhookPayload", payload)
    assert (payload["tenantId"], payload["integrationId"], payload["activities"]) == (
        TENANT_A, system["integrationId"], [answer["activity"]])
    assert payload["activities"][0]["recipient"]["integrationId"] == SLACK_A3
    assert (attempt["kind"], attempt["attempt"], attempt["status"], attempt["url"], attempt["error"]) == (
        "attempt", 1, 200, got.url, None)
    assert attempt["body"] == body.decode() and attempt["headers"]["x-hubster-signature"] == (
        headers["x-hubster-signature"])


async def test_the_same_binding_is_the_same_conversation_and_a_named_one_is_used(make_api: MakeApi) -> None:
    api = await make_api()
    first = (await customer_says(api)).json()
    again = (await customer_says(api, "Still there?")).json()
    assert again["conversation"] == {**first["conversation"], "isNew": False}
    named = await api.post(ACTIVITIES, {"integrationId": WEBCHAT_A3, "message": TEXT,
                                        "conversationId": first["conversation"]["conversationId"]}, token=None)
    assert named.json()["conversation"]["conversationId"] == first["conversation"]["conversationId"]
    assert first["conversation"]["properties"]["profile"]["device"] == "WebChat"


async def test_the_control_call_refuses_what_no_customer_channel_sends(make_api: MakeApi) -> None:
    api = await make_api()
    refused = await api.post(ACTIVITIES, {"integrationId": SLACK_A3, "binding": "b", "message": TEXT}, token=None)
    assert refused.status == 400 and "Customer integration" in refused.json()["error"]
    carousel = {"type": "carousel", "items": [{"urlType": "image", "url": "http://site.com/1.png"}]}
    refused = await api.post(ACTIVITIES, {"integrationId": WEBCHAT_A3, "binding": "b", "message": carousel},
                             token=None)
    assert refused.status == 400 and "agents and bots only" in refused.json()["error"]
    refused = await api.post(ACTIVITIES, {"integrationId": WEBCHAT_A3, "message": TEXT}, token=None)
    assert refused.status == 400  # neither a conversation nor a binding
    no_agent = await api.post(ACTIVITIES, {"integrationId": DIRECT_CUSTOMER, "binding": "b", "message": TEXT},
                              token=None)
    assert no_agent.status == 400 and "Agent or Bot" in no_agent.json()["error"]


# -- routing -------------------------------------------------------------------------------------------

async def test_an_activity_reaches_the_system_integrations_whose_events_match_and_no_others(
        make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    got = await receiver()
    hooks = {events: (await system_integration(api, f"{got.url}/{index}", list(events), name=f"S{index}"))[
        "integrationId"] for index, events in enumerate([("message",), ("message:agent",), ("message:customer",),
                                                         ("message:bot",), ("message", "message:agent")])}
    customer = await add_integration(api, HUB_A3, "Direct", "Customer", {"integrationType": "Customer"})
    conversation = (await establish(api, integration=customer))["conversationId"]
    await said(api, conversation, {"type": "message", "message": TEXT, "sender": {"integrationId": SLACK_A3}})
    found = await settled(api, count("attempt", 3))
    assert [r["kind"] for r in found if r["payload"] == "direct"] == ["websocket"]  # the customer, without a URL
    found = [r for r in found if r["payload"] == "system"]
    reached = sorted(r["integrationId"] for r in found)
    assert reached == sorted([hooks[("message",)], hooks[("message:agent",)], hooks[("message", "message:agent")]])
    assert len(got.received) == 3  # once each, however many of its events match
    await said(api, conversation, {"type": "event", "event": {"type": "typing_on"}})  # no filter takes an event
    await said(api, conversation, {"type": "message", "message": TEXT})
    found = [r for r in await settled(api, count("attempt", 6)) if r["payload"] == "system"]
    assert sorted(r["integrationId"] for r in found[3:]) == sorted([
        hooks[("message",)], hooks[("message:customer",)], hooks[("message", "message:agent")]])


async def test_a_direct_recipient_gets_the_direct_payload_and_an_echoing_sender_its_echo(
        make_api: MakeApi, receiver: MakeReceiver, webhook_payloads: Callable[[str, Any], None]) -> None:
    api = await make_api(**FAST)
    agent_hook, customer_hook = await receiver(), await receiver()
    agent = await add_agent(api, HUB_A, webhookUrl=agent_hook.url)
    customer = await add_integration(api, HUB_A, "Direct", "Echoing customer", {
        "integrationType": "Customer", "echo": True, "webhookUrl": customer_hook.url})
    conversation = (await establish(api, integration=customer))["conversationId"]
    answer = await said(api, conversation, {"type": "message", "message": TEXT})
    await settled(api, count("attempt", 2))
    [(_, to_agent)], [(_, echo)] = agent_hook.received, customer_hook.received
    direct, echoed = __import__("json").loads(to_agent), __import__("json").loads(echo)
    webhook_payloads("DirectWebhookPayload", direct)
    webhook_payloads("DirectWebhookPayload", echoed)
    assert (direct["integrationId"], direct["activity"]["isEcho"], direct["activity"]["eventId"]) == (
        agent, False, answer["eventId"])
    assert (echoed["integrationId"], echoed["activity"]["isEcho"]) == (customer, True)
    assert direct["activity"]["sender"]["integrationId"] == customer


async def test_a_direct_integration_without_a_webhook_url_is_recorded_as_delivered_by_websocket(
        make_api: MakeApi) -> None:
    api = await make_api()
    await add_agent(api, HUB_A)  # no webhookUrl
    conversation = (await establish(api))["conversationId"]
    await said(api, conversation, {"type": "message", "message": TEXT})
    [record] = [r for r in await records(api) if r["payload"] == "direct"]
    assert (record["kind"], record["url"], record["attempt"]) == ("websocket", None, None)
    assert "websocket, which mockhub does not serve" in record["error"]


# -- the retry schedule -----------------------------------------------------------------------------------

async def test_a_receiver_that_fails_gets_six_attempts_then_the_tenant_is_notified(
        make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    got = await receiver(*[500] * 6)
    await system_integration(api, got.url, ["message"])
    await customer_says(api)
    found = await settled(api, count("tenant-notified", 1))
    attempts = [r for r in found if r["kind"] == "attempt"]
    assert [(r["attempt"], r["after_seconds"], r["status"]) for r in attempts] == [
        (1, 0, 500), (2, 120, 500), (3, 240, 500), (4, 360, 500), (5, 480, 500), (6, 600, 500)]
    assert len(got.received) == 6 and len({body for _, body in got.received}) == 1  # the same delivery each time
    notice = found[-1]
    assert notice["kind"] == "tenant-notified" and "all 6 attempts failed, the last: answered 500" in notice["error"]


async def test_a_receiver_that_recovers_stops_the_retries(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    got = await receiver(503, 500)
    await system_integration(api, got.url, ["message"])
    await customer_says(api)
    found = await settled(api, lambda found: any(r["status"] == 200 for r in found))
    assert [r["status"] for r in found] == [503, 500, 200]
    await customer_says(api, "another")  # a later delivery: the log grows by its one attempt only
    found = await settled(api, count("attempt", 4))
    assert len(found) == 4 and not any(r["kind"] == "tenant-notified" for r in found)


async def test_no_answer_within_the_timeout_is_a_failed_attempt(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(webhook_timeout=0.05, **FAST)
    got = await receiver(delay=5)
    await system_integration(api, got.url, ["message"])
    await customer_says(api)
    found = await settled(api, count("attempt", 2))
    assert found[0]["status"] is None and found[0]["error"] == "no answer within 0.05 s"
    got.delay = 0  # it answers again


# -- only loopback and the hosts allowed are contacted --------------------------------------------------

async def test_a_url_outside_the_allowed_hosts_is_never_contacted(make_api: MakeApi, receiver: MakeReceiver) -> None:
    """0.0.0.0 reaches this machine's listener, but is no loopback name or address: refused, it sees nothing."""
    api = await make_api(**FAST)
    listener = await receiver()
    elsewhere = listener.url.replace("127.0.0.1", "0.0.0.0")
    await system_integration(api, elsewhere, ["message"])
    assert [d["state"] for d in (await customer_says(api)).json()["deliveries"]] == ["refused"]
    [refused] = await records(api)  # at once: nothing was tried
    assert (refused["attempt"], refused["url"], refused["status"]) == (1, elsewhere, None)
    assert "neither loopback nor allowed by --webhook-allow-host" in refused["error"]
    assert listener.received == []
    allowed = await make_api(webhook_allow_hosts=("0.0.0.0",), **FAST)  # the same URL, allowed: it arrives
    await system_integration(allowed, elsewhere, ["message"])
    await customer_says(allowed)
    await settled(allowed, count("attempt", 1))
    assert len(listener.received) == 1


async def test_a_redirect_is_not_followed(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    elsewhere = await receiver()
    redirecting = await receiver(redirect_to=elsewhere.url.replace("127.0.0.1", "0.0.0.0"))
    await system_integration(api, redirecting.url, ["message"])
    await customer_says(api)
    found = await settled(api, count("tenant-notified", 1))
    assert {r["status"] for r in found if r["kind"] == "attempt"} == {307}
    assert elsewhere.received == []


# -- keys, reset, bounds, the log ---------------------------------------------------------------------------

async def test_regenerated_keys_sign_the_deliveries_made_after(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    got = await receiver()
    system = await system_integration(api, got.url, ["message"])
    await customer_says(api)
    await settled(api, count("attempt", 1))
    changed = await api.post(f"/api/v1/integrations/hubs/{system['integrationId']}", {"configuration": {
        "webhookUrl": got.url, "events": ["message"], "regenerateKeys": True}})
    keys = changed.json()["configuration"]
    assert keys["privateSigningKey"] != system["configuration"]["privateSigningKey"]
    await customer_says(api, "again")
    await settled(api, count("attempt", 2))
    (old_headers, old_body), (new_headers, new_body) = got.received
    assert new_headers["x-hubster-public-key"] == keys["publicSigningKey"]
    assert signature_matches(new_body, keys["privateSigningKey"], new_headers["x-hubster-signature"])
    assert not signature_matches(new_body, system["configuration"]["privateSigningKey"],
                                 new_headers["x-hubster-signature"])
    assert signature_matches(old_body, system["configuration"]["privateSigningKey"], old_headers["x-hubster-signature"])


def delivery_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("mockhub delivery-")]


async def test_a_reset_cancels_the_deliveries_under_way_and_empties_the_log(
        make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api()  # the documented schedule: the second attempt is two minutes away
    got = await receiver(500)
    await system_integration(api, got.url, ["message"])
    await customer_says(api)
    await settled(api, count("attempt", 1))
    assert len(delivery_tasks()) == 1
    assert (await api.post("/__mockhub/reset", token=None)).status == 200
    for _ in range(3):
        await asyncio.sleep(0)  # the cancelled task ends
    assert delivery_tasks() == []
    assert await records(api) == []


async def test_a_full_queue_drops_a_delivery_and_says_so(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(webhook_queue=1)
    got = await receiver(500)
    await system_integration(api, got.url, ["message"])
    first = (await customer_says(api)).json()
    second = (await customer_says(api, "again")).json()
    assert [d["state"] for d in first["deliveries"] + second["deliveries"]] == ["sending", "dropped"]
    dropped = [r for r in await records(api) if r["kind"] == "dropped"]
    assert len(dropped) == 1 and "--webhook-queue 1" in dropped[0]["error"]


async def test_the_server_s_deliveries_under_way_are_bounded_across_sessions(
        make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(webhook_queue_total=1)
    got = await receiver(500)  # failing: the first delivery stays under way, waiting for its second attempt
    other = {"X-Mockhub-Session": "other-suite"}
    for headers in ({}, other):
        reply = await api.post(f"/api/v1/integrations/hubs/{HUB_A3}", {
            "channelId": "System", "name": "System", "configuration": {"webhookUrl": got.url, "events": ["message"]}},
            headers=headers)
        assert reply.status == 200, reply.body
    first = (await customer_says(api)).json()
    body = {"integrationId": WEBCHAT_A3, "binding": "visitor-2", "message": {"type": "text", "text": "Hello?"}}
    second = (await api.post(ACTIVITIES, body, token=None, headers=other)).json()
    assert [d["state"] for d in first["deliveries"] + second["deliveries"]] == ["sending", "dropped"]
    reply = await api.get(DELIVERIES, token=None, headers=other)
    dropped = [r for r in reply.json() if r["kind"] == "dropped"]
    assert len(dropped) == 1 and "--webhook-queue-total 1" in dropped[0]["error"]
    assert (await api.post("/__mockhub/reset", token=None)).status == 200  # the first is cancelled: room again
    third = (await api.post(ACTIVITIES, body, token=None, headers=other)).json()
    assert [d["state"] for d in third["deliveries"]] == ["sending"]


async def test_the_log_is_paged_like_the_journal_and_can_be_cleared(make_api: MakeApi) -> None:
    api = await make_api()
    await add_agent(api, HUB_A)
    conversation = (await establish(api))["conversationId"]
    for _ in range(3):
        await said(api, conversation, {"type": "message", "message": TEXT})  # each: a websocket record
    page = await api.get(DELIVERIES, token=None, params={"limit": "2"})
    assert [r["seq"] for r in page.json()] == [1, 2] and "after=2" in page.headers["Link"]
    rest = await api.get(DELIVERIES, token=None, params={"after": "2"})
    # each message: a websocket record for the Direct agent, a refused one for HUB_A's System integration
    assert [r["seq"] for r in rest.json()] == [3, 4, 5, 6] and "Link" not in rest.headers
    assert [r["kind"] for r in page.json() + rest.json()] == ["websocket", "refused"] * 3
    assert (await api.delete(DELIVERIES, token=None)).status == 200
    assert await records(api) == []


async def test_the_server_s_stop_cancels_every_delivery(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api()
    got = await receiver(500)
    await system_integration(api, got.url, ["message"])
    await customer_says(api)
    await settled(api, count("attempt", 1))
    assert api.client is not None and len(delivery_tasks()) == 1
    await api.client.close()
    assert delivery_tasks() == []


# -- delivery faults ------------------------------------------------------------------------------------------

FAULTS = "/__mockhub/delivery-faults"


async def signed_receiver(api: Api, receiver: MakeReceiver, events: tuple[str, ...] = ("message",)) -> tuple[
        Receiver, dict[str, Any]]:
    """A receiver that checks signatures, behind a System integration of hub HUB_A3."""
    got = await receiver()
    system = await system_integration(api, got.url, list(events), name=" ".join(events))
    configuration = system["configuration"]
    got.keys[configuration["publicSigningKey"]] = configuration["privateSigningKey"]
    return got, system


async def add_faults(api: Api, rules: Any) -> Reply:
    return await api.post(FAULTS, rules, token=None)


async def test_a_tampered_signature_is_refused_403_by_a_receiver_that_checks_and_the_retry_passes(
        make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    await signed_receiver(api, receiver)
    added = await add_faults(api, {"payload": "system", "fault": "bad-signature", "times": 1})
    assert added.status == 201 and added.json()[0]["id"] == "delivery-fault-1"
    await customer_says(api)
    found = await settled(api, lambda found: any(r["status"] == 200 for r in found))
    assert [(r["status"], r["fault"]) for r in found] == [(403, "bad-signature"), (200, None)]
    assert found[0]["headers"]["x-hubster-signature"] != found[1]["headers"]["x-hubster-signature"]
    assert found[0]["body"] == found[1]["body"]
    [rule] = (await api.get(FAULTS, token=None)).json()
    assert (rule["matched"], rule["fired"], rule["remaining"], rule["ended"]) == (1, 1, 0, True)  # then it ended


async def test_a_missing_header_a_duplicate_a_delay_and_a_failure_on_purpose(
        make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    got, system = await signed_receiver(api, receiver)
    await add_faults(api, [{"fault": "missing-header", "header": "x-hubster-public-key", "times": 1},
                           {"fault": "duplicate", "after": 1, "times": 1},
                           {"fault": "fail", "delay_ms": 5, "after": 2, "times": 1}])
    await customer_says(api)
    found = await settled(api, lambda found: sum(r["status"] == 200 for r in found) >= 2)
    assert [(r["attempt"], r["status"], r["fault"]) for r in found] == [
        (1, 403, "missing-header x-hubster-public-key"),  # the receiver cannot find the key: 403, retried
        (2, 200, "duplicate"), (2, 200, "duplicate"),  # the same attempt twice: both answered
    ]
    assert "x-hubster-public-key" not in got.received[0][0]
    assert got.received[1] == got.received[2]
    await customer_says(api, "again")  # the third matching attempt: delayed, then counted failed whatever came
    found = await settled(api, lambda found: len(found) >= 5)
    assert [(r["attempt"], r["status"], r["fault"]) for r in found[3:]] == [(1, 200, "delay 5ms, fail"),
                                                                            (2, 200, None)]
    assert system["integrationId"] == found[-1]["integrationId"]


async def test_a_fault_applies_to_the_attempts_it_matches_only(make_api: MakeApi, receiver: MakeReceiver) -> None:
    api = await make_api(**FAST)
    first, one = await signed_receiver(api, receiver)
    second, _ = await signed_receiver(api, receiver, ("message:customer",))
    await add_faults(api, {"headers": {"x-integration-id": one["integrationId"]}, "fault": "bad-signature"})
    await customer_says(api)
    await settled(api, lambda found: any(r["status"] == 200 for r in found) and count("tenant-notified", 1)(found))
    assert [r["status"] for r in await records(api) if r["integrationId"] == one["integrationId"]
            and r["kind"] == "attempt"] == [403] * 6
    assert len(second.received) == 1 and len(first.received) == 6


async def test_a_delivery_fault_is_checked_against_the_webhooks_of_the_contract(make_api: MakeApi) -> None:
    api = await make_api()

    async def refused(rule: Any) -> str:
        reply = await add_faults(api, rule)
        assert reply.status == 400, reply.body
        return str(reply.json()["error"])

    assert "the webhooks send" in await refused({"headers": {"x-signature": "x"}, "fault": "fail"})
    assert "'header' is not valid: the webhooks send" in await refused({"fault": "missing-header",
                                                                        "header": "x-signature"})
    assert "'header' is not supported" in await refused({"fault": "duplicate", "header": "x-hub-id"})
    assert "needs an effect" in await refused({"payload": "direct"})
    assert "body.activities[0].type" in await refused({"body": {"activities": [{"type": "action"}]}, "fault": "fail"})
    assert "activity" in await refused({"payload": "system", "body": {"activity": {"type": "message"}},
                                        "fault": "fail"})
    assert "[1].fault" in await refused([{"fault": "fail"}, {"fault": "explode"}])
    subset = {"payload": "system", "body": {"activities": [{"message": {"type": "text"}}]}, "fault": "fail"}
    assert (await add_faults(api, subset)).status == 201  # a subset of what a System payload holds
    assert (await api.get(FAULTS, token=None)).json()[0]["body"] == subset["body"]
    assert (await api.delete(f"{FAULTS}/delivery-fault-1", token=None)).status == 200
    assert (await api.delete(f"{FAULTS}/delivery-fault-1", token=None)).status == 404
    await add_faults(api, {"fault": "fail"})
    assert (await api.post("/__mockhub/reset", token=None)).status == 200
    assert (await api.get(FAULTS, token=None)).json() == []


def test_the_payloads_verify_webhook_sends_fit_the_contract_s_webhooks(
        webhook_payloads: Callable[[str, Any], None]) -> None:
    """The receiver check (``mockhub verify-webhook``) and the mock's own deliveries send one shape: the contract's."""
    from mockhub.verify.webhook_payloads import make_deliveries

    for seed in range(5):
        made = make_deliveries(seed, "3EF951F619CD4F5E820C73622C0F1A3C", "FA96D15568654A4482772E00BA941BCB")
        webhook_payloads("SystemWebhookPayload", made.payloads["system"])
        webhook_payloads("DirectWebhookPayload", made.payloads["direct"])


async def test_the_delivery_logs_records_hold_about_what_they_count(make_api: MakeApi, receiver: MakeReceiver) -> None:
    """A record's body is counted at its length against --journal-total-bytes: it must not hold more (orjson's
    bytes hold a 4 KiB buffer at least, whatever their length)."""
    api = await make_api(**FAST)
    got = await receiver()
    await system_integration(api, got.url, ["message"])

    async def held_after(sent: int) -> int:
        """Bytes the server holds once ``sent`` messages in all were delivered and logged."""
        for number in range(len(got.received), sent):
            await customer_says(api, f"message {number}")
        await settled(api, count("attempt", sent))
        await records(api, limit=1)  # (the last answer read a small one: the whole log's is not held then)
        got.received.clear()  # (what the receiver kept is the test's own)
        got.received.extend([({}, b"")] * sent)
        # (aiohttp's stream buffers left out too: the test client's hold the log's pages it read)
        streams = tracemalloc.Filter(False, "*/aiohttp/streams.py")
        return server_side(tracemalloc.take_snapshot().filter_traces([streams]))

    tracemalloc.start()
    try:
        first, more = await held_after(100), await held_after(300)
    finally:
        tracemalloc.stop()
    # each message keeps its activity in the conversation, its delivery's records and the body sent (under 1 KiB):
    # about 4 KiB in all here, and 3 KiB more when the body holds orjson's buffer
    assert (more - first) / 200 < 5.5 * 1024, (more - first) / 200


async def test_the_log_keeps_the_first_kilobyte_of_an_answer_that_comes_in_pieces(
        make_api: MakeApi, aiohttp_server: Any) -> None:
    async def in_pieces(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        for piece in ("a", "b", "c"):
            await response.write(piece.encode() * 600)
            await asyncio.sleep(0.05)  # (each piece reaches the client alone)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/hubster", in_pieces)
    server = await aiohttp_server(app)
    api = await make_api(**FAST)
    await system_integration(api, str(server.make_url("/hubster")), ["message"])
    await customer_says(api)
    [attempt] = await settled(api, count("attempt", 1))
    assert attempt["answer"] == "a" * 600 + "b" * 424
