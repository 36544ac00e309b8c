"""The scenario's steps for a hub's commands: of each kind (transfer, response) one made, read, listed,
changed and deleted, with the client errors it can provoke, and a second one its hub's deletion takes along."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockhub.verify.client import RESPONSE_COMMANDS, TRANSFER_COMMANDS
from mockhub.verify.portal import CREATE_HUB, DELETE_HUB
from mockhub.verify.probe import Probe
from mockhub.verify.scenario import Action, Json, Step, deleting

Body = Callable[[Probe, str], Json]
"""The body that creates a command named after its second argument, unique to the run."""


@dataclass(frozen=True)
class Kind:
    """What the steps of one kind of command need to know of it."""

    group: str
    noun: str
    collection: str
    schema: str
    body: Body
    change: Json
    """An update's body, and what the updated command then holds."""
    defaults: Json
    """What the command with the fewest fields (``body(probe, "defaults")`` minus them) holds of them."""
    optional: tuple[str, ...]
    """The fields left out of the command made with the defaults."""


def transfer_body(probe: Probe, what: str) -> Json:
    return {"name": probe.unique(what), "description": "Made by mockhub verify; deleted when the run ends.",
            "url": "https://verify.mockhub.invalid/transfer", "linkDescription": "Click here to be transferred",
            "mountDelay": 1000}


def response_body(probe: Probe, what: str) -> Json:
    contact = {"type": "contact", "title": "Eva Green", "properties": [
        {"key": "Email", "value": "eva@verify.mockhub.invalid", "type": "email"}]}
    return {"name": probe.unique(what), "category": "contacts", "description": "Made by mockhub verify.",
            "integrationTypeId": "customer", "type": "message",
            "responses": [{"type": "text", "text": "Below is my contact info"}, contact]}


TRANSFER = Kind("transfer commands", "transfer command", TRANSFER_COMMANDS, "TransferCommand", transfer_body,
                {"linkDescription": "Changed by mockhub verify", "mountDelay": -1},
                {"description": "", "mountDelay": 0}, ("description", "mountDelay"))
RESPONSE = Kind("response commands", "response command", RESPONSE_COMMANDS, "ResponseCommand", response_body,
                {"category": "Office contacts", "description": "Changed by mockhub verify."},
                {"category": "", "description": ""}, ("category", "description"))


def creating(kind: Kind, what: str, leave_out: tuple[str, ...] = ()) -> Action[Json]:
    """A step's action that creates a command in the run's hub (without the fields ``leave_out`` names) and
    checks that it reads as sent, the documented defaults in place of what was left out."""

    async def action(probe: Probe) -> Any:
        hub = probe.made(CREATE_HUB)
        sent = {k: v for k, v in kind.body(probe, what).items() if k not in leave_out}
        made = (await probe.call("POST", f"{kind.collection}/{hub['hubId']}", 200, body=sent)).json()
        expected = {**sent, "hubId": hub["hubId"], **{k: kind.defaults[k] for k in leave_out}}
        probe.same(made, expected, f"the created {kind.noun}")
        return made

    return action


def sending(kind: Kind, status: int, codes: list[int], **changes: Any) -> Action[None]:
    """A step's action that creates a command with ``changes`` to the valid body (``None``: left out) and
    expects ``status`` with the PRT ``codes``."""

    async def action(probe: Probe) -> None:
        hub = probe.made(CREATE_HUB)
        body = {k: v for k, v in {**kind.body(probe, "refused"), **changes}.items() if v is not None}
        await probe.call("POST", f"{kind.collection}/{hub['hubId']}", status, body=body, codes=codes)

    return action


def steps(kind: Kind, checks: tuple[tuple[str, Action[None]], ...]) -> tuple[tuple[Step[Any], ...], Step[Any]]:
    """The steps of one kind before its hub's deletion (``checks`` are its own refusals), and the one after."""
    group = kind.group
    create = Step(group, f"create a {kind.noun}", creating(kind, kind.noun.split()[0]), needs=(CREATE_HUB,),
                  makes=kind.noun, schema=kind.schema)

    async def name_taken(probe: Probe) -> None:
        made = probe.made(create)
        body = {**kind.body(probe, "x"), "name": made["name"].upper()}
        await probe.call("POST", f"{kind.collection}/{made['hubId']}", 400, body=body, codes=[600])

    async def in_missing_hub(probe: Probe) -> None:
        await probe.call("POST", f"{kind.collection}/{probe.missing_id}", 404, body=kind.body(probe, "x"),
                         codes=[699])

    async def read(probe: Probe) -> None:
        made = probe.made(create)
        answer = await probe.call("GET", f"{kind.collection}/{made['commandId']}", 200)
        probe.same(answer.json(), made, f"the {kind.noun} read back")

    async def missing(probe: Probe) -> None:
        await probe.call("GET", f"{kind.collection}/{probe.missing_id}", 404, codes=[105])

    async def as_other_tenant(probe: Probe) -> None:
        made = probe.made(create)
        await probe.call("GET", f"{kind.collection}/{made['commandId']}", 403, token=probe.other_token, codes=[101])

    async def update(probe: Probe) -> None:
        made = probe.made(create)
        updated = (await probe.call("PUT", f"{kind.collection}/{made['commandId']}", 200, body=kind.change)).json()
        probe.same(updated, {**made, **kind.change}, f"the updated {kind.noun}")

    async def listed(probe: Probe) -> None:
        made = probe.made(create)
        found = (await probe.call("GET", f"{kind.collection}/hub/{made['hubId']}", 200)).json()
        if isinstance(found, list):
            probe.expect([c.get("commandId") for c in found if isinstance(c, dict)] == [made["commandId"]],
                         f"the hub's {kind.noun}s are not the one created")

    delete = deleting(group, f"delete the {kind.noun}", create, kind.collection, "commandId", 200)

    async def deleted(probe: Probe) -> None:
        gone = probe.made(delete)
        await probe.call("GET", f"{kind.collection}/{gone['commandId']}", 404, codes=[105])

    second = Step(group, f"create a {kind.noun} with the defaults, for the hub to take along",
                  creating(kind, "defaults", kind.optional), needs=(CREATE_HUB,), makes=f"second {kind.noun}",
                  schema=kind.schema)

    async def taken_along(probe: Probe) -> None:
        path = f"{kind.collection}/{probe.made(second)['commandId']}"
        if (await probe.call("GET", path, 404, codes=[105])).status == 404:
            probe.deleted(path)

    before = (
        create,
        Step(group, "a taken name, in another case, is 400", name_taken, needs=(create,)),
        *(Step(group, name, action, needs=(CREATE_HUB,)) for name, action in checks),
        Step(group, "a hub that does not exist is 404", in_missing_hub),
        Step(group, f"read the {kind.noun}", read, needs=(create,)),
        Step(group, f"a {kind.noun} that does not exist is 404", missing),
        Step(group, f"another tenant's {kind.noun} is 403", as_other_tenant, needs=(create,), other_tenant=True),
        Step(group, f"update the {kind.noun}", update, needs=(create,)),
        Step(group, f"list the hub's {kind.noun}s", listed, needs=(create,)),
        delete,
        Step(group, f"a deleted {kind.noun} is 404", deleted, needs=(delete,)),
        second,
    )
    return before, Step(group, f"deleting a hub deletes its {kind.noun}s", taken_along, needs=(DELETE_HUB, second))


CAROUSEL = {"type": "carousel", "items": [{"urlType": "image", "url": "https://verify.mockhub.invalid/1.png"}]}
TRANSFER_STEPS, TRANSFERS_TAKEN_ALONG = steps(TRANSFER, (
    ("a missing property is 400", sending(TRANSFER, 400, [301], url=None)),
    ("a url that is not http(s) is 400", sending(TRANSFER, 400, [206], url="ftp://verify.mockhub.invalid")),
))
RESPONSE_STEPS, RESPONSES_TAKEN_ALONG = steps(RESPONSE, (
    ("responses of the other type are 400", sending(RESPONSE, 400, [206], type="event")),
    ("a carousel in a customer command is 400", sending(RESPONSE, 400, [206], responses=[CAROUSEL])),
    ("an empty text message is 400", sending(RESPONSE, 400, [307], responses=[{"type": "text"}])),
))

COMMANDS: tuple[Step[Any], ...] = (*TRANSFER_STEPS, *RESPONSE_STEPS)
"""The steps of the hub's commands, before the hub's deletion."""
COMMANDS_TAKEN_ALONG: tuple[Step[Any], ...] = (TRANSFERS_TAKEN_ALONG, RESPONSES_TAKEN_ALONG)
"""The checks that the hub's deletion took its commands."""
