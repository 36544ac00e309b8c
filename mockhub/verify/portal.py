"""The scenario's Portal API steps: requests without a resource, then a hub and its integrations made,
read, listed, changed and deleted, with each client error they can provoke on the way. The hub's deletion
(:data:`HUB_DELETION`) comes after the steps of its commands (:mod:`.commands`)."""

from __future__ import annotations

from typing import Any

from mockhub.verify.client import HUBS, INTEGRATIONS
from mockhub.verify.probe import Probe
from mockhub.verify.scenario import FORM, Action, Json, Step, ask, deleting

MAX_PAGES = 50
"""How far a listing step pages before it gives up looking for what it created."""


# -- hubs ---------------------------------------------------------------------------------------

def hub_body(probe: Probe, **changes: Any) -> Json:
    return {"name": probe.unique("hub"), "description": "Made by mockhub verify; deleted when the run ends.",
            "closeDormantConversation": 7, "statusId": 2000, **changes}


async def create_hub(probe: Probe) -> Any:
    sent = hub_body(probe)
    hub = (await probe.call("POST", HUBS, 200, body=sent)).json()
    probe.same(hub, sent, "the created hub")
    return hub


CREATE_HUB: Step[Json] = Step("hubs", "create a hub", create_hub, makes="hub", schema="Hub")


def hub_with(**changes: Any) -> Action[None]:
    """A step that creates a hub with ``changes`` to the valid body and expects 400 with the PRT code ``code``."""
    code = changes.pop("code")

    async def action(probe: Probe) -> None:
        await probe.call("POST", HUBS, 400, body=hub_body(probe, **changes), codes=[code])

    return action


async def hub_name_taken(probe: Probe) -> None:
    await probe.call("POST", HUBS, 400, body=hub_body(probe, name=probe.unique("hub").upper()), codes=[600])


async def read_hub(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    probe.same((await probe.call("GET", f"{HUBS}/{hub['hubId']}", 200)).json(), hub, "the hub read back")


async def read_hub_as_other_tenant(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    await probe.call("GET", f"{HUBS}/{hub['hubId']}", 403, token=probe.other_token, codes=[101])


async def update_hub(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    change = {"statusId": 2002, "description": "Changed by mockhub verify."}
    updated = (await probe.call("PUT", f"{HUBS}/{hub['hubId']}", 200, body=change)).json()
    probe.same(updated, {**change, "name": hub["name"], "hubId": hub["hubId"]}, "the updated hub")


async def list_hubs_page(probe: Probe) -> Any:
    page = (await probe.call("GET", HUBS, 200, params={"pageNumber": "0", "pageSize": "1"})).json()
    probe.same(page, {"pageNumber": 0, "pageSize": 1}, "the page")
    if isinstance(page, dict):
        probe.expect(len(page.get("results", [])) == 1, "a page of size 1 of a tenant with a hub holds one hub")
    return page


FIRST_PAGE: Step[Json] = Step("hubs", "list hubs a page at a time", list_hubs_page, makes="first page",
                              schema="HubPage")


async def list_hubs_next_page(probe: Probe) -> None:
    first = probe.made(FIRST_PAGE)
    page = (await probe.call("GET", HUBS, 200, params={"pageNumber": "1", "pageSize": "1"})).json()
    probe.same(page, {"pageNumber": 1, "pageSize": 1, "total": first["total"]}, "the second page")
    if isinstance(page, dict) and page.get("results") and first["results"]:
        probe.expect(page["results"][0].get("hubId") != first["results"][0]["hubId"],
                     "the second page repeats the first page's hub")


async def list_hubs_finds_the_hub(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    for number in range(MAX_PAGES):  # 100 a page, each page checked, until the hub shows up
        page = (await probe.call("GET", HUBS, 200, params={"pageNumber": str(number), "pageSize": "100"})).json()
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list) or any(isinstance(r, dict) and r.get("hubId") == hub["hubId"]
                                                for r in results):
            return
        if len(results) < 100:
            break
    probe.expect(False, f"the hub {hub['hubId']} is on no page of {HUBS}")


# -- integrations -------------------------------------------------------------------------------

def webchat(probe: Probe, origin: str, name: str = "webchat") -> Json:
    return {"channelId": "WebChat", "name": probe.unique(name), "configuration": {"allowedOrigins": [origin]}}


async def create_integration(probe: Probe) -> Any:
    hub = probe.made(CREATE_HUB)
    sent = webchat(probe, "verify.mockhub.invalid")
    made = (await probe.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 200, body=sent)).json()
    probe.same(made, {"hubId": hub["hubId"], "channelId": "WebChat", "integrationTypeId": "Customer",
                      "name": sent["name"], "statusId": 3000}, "the created integration")
    if isinstance(made, dict):
        probe.same(made.get("configuration"), sent["configuration"], "the created integration's configuration")
    return made


CREATE_INTEGRATION: Step[Json] = Step("integrations", "create an integration", create_integration,
                                      needs=(CREATE_HUB,), makes="integration", schema="Integration")


async def integration_name_taken(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    await probe.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 400, body=webchat(probe, "x.invalid"),
                     codes=[700])


async def integration_unknown_channel(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    body = {**webchat(probe, "x.invalid", "pigeon"), "channelId": "Pigeon"}
    await probe.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 400, body=body, codes=[206])


async def integration_in_missing_hub(probe: Probe) -> None:
    await probe.call("POST", f"{INTEGRATIONS}/hubs/{probe.missing_id}", 404, body=webchat(probe, "x.invalid"),
                     codes=[699])


async def read_integration(probe: Probe) -> None:
    made = probe.made(CREATE_INTEGRATION)
    answer = await probe.call("GET", f"{INTEGRATIONS}/{made['integrationId']}", 200)
    probe.same(answer.json(), made, "the integration read back")


async def read_integration_as_other_tenant(probe: Probe) -> None:
    made = probe.made(CREATE_INTEGRATION)
    await probe.call("GET", f"{INTEGRATIONS}/{made['integrationId']}", 403, token=probe.other_token, codes=[101])


async def integrations_by_channel(probe: Probe) -> None:
    made = probe.made(CREATE_INTEGRATION)
    found = (await probe.call("GET", f"{INTEGRATIONS}/hubs/{made['hubId']}/WebChat", 200)).json()
    if isinstance(found, list):
        probe.expect(any(isinstance(i, dict) and i.get("integrationId") == made["integrationId"] for i in found),
                     "the hub's WebChat integrations do not include the created one")


async def integrations_by_unknown_channel(probe: Probe) -> None:
    hub = probe.made(CREATE_HUB)
    await probe.call("GET", f"{INTEGRATIONS}/hubs/{hub['hubId']}/Pigeon", 400, codes=[206])


async def list_integrations_of_hub(probe: Probe) -> None:
    made = probe.made(CREATE_INTEGRATION)
    page = (await probe.call("GET", INTEGRATIONS, 200, params={"hubId": made["hubId"], "pageSize": "1"})).json()
    probe.same(page, {"pageNumber": 0, "pageSize": 1, "total": 1}, "the hub's integrations")
    if isinstance(page, dict) and page.get("results"):
        probe.expect(page["results"][0].get("integrationId") == made["integrationId"],
                     "the hub's only integration is not the created one")


async def update_integration(probe: Probe) -> None:
    made = probe.made(CREATE_INTEGRATION)
    configuration = {"allowedOrigins": ["changed.mockhub.invalid"]}
    change = {"statusId": 3002, "configuration": configuration}
    updated = (await probe.call("POST", f"{INTEGRATIONS}/hubs/{made['integrationId']}", 200, body=change)).json()
    probe.same(updated, {"integrationId": made["integrationId"], "name": made["name"], "statusId": 3002},
               "the updated integration")
    if isinstance(updated, dict):
        probe.same(updated.get("configuration"), configuration, "the updated integration's configuration")


DELETE_INTEGRATION = deleting("integrations", "delete the integration", CREATE_INTEGRATION, INTEGRATIONS,
                              "integrationId", 200)


async def read_deleted_integration(probe: Probe) -> None:
    made = probe.made(DELETE_INTEGRATION)
    await probe.call("GET", f"{INTEGRATIONS}/{made['integrationId']}", 404, codes=[799])


async def create_integration_to_cascade(probe: Probe) -> Any:
    hub = probe.made(CREATE_HUB)
    body = webchat(probe, "cascade.mockhub.invalid", "cascade")
    return (await probe.call("POST", f"{INTEGRATIONS}/hubs/{hub['hubId']}", 200, body=body)).json()


SECOND_INTEGRATION: Step[Json] = Step("integrations", "create an integration for the hub to take along",
                                      create_integration_to_cascade, needs=(CREATE_HUB,),
                                      makes="second integration", schema="Integration")
DELETE_HUB = deleting("hubs", "delete the hub", CREATE_HUB, HUBS, "hubId", 200)


async def read_deleted_hub(probe: Probe) -> None:
    hub = probe.made(DELETE_HUB)
    await probe.call("GET", f"{HUBS}/{hub['hubId']}", 404, codes=[699])


async def deleted_hub_took_its_integrations(probe: Probe) -> None:
    made = probe.made(SECOND_INTEGRATION)
    path = f"{INTEGRATIONS}/{made['integrationId']}"
    if (await probe.call("GET", path, 404, codes=[799])).status == 404:
        probe.deleted(path)


PORTAL: tuple[Step[Any], ...] = (
    Step("portal", "no token is 401", ask("GET", HUBS, 401, token=None, codes=[102])),
    Step("portal", "an unknown token is 401", ask("GET", HUBS, 401, token="not-a-mockhub-token", codes=[102])),
    Step("portal", "an unknown route is 404", ask("GET", "/api/v1/{unique}", 404, codes=[105])),
    Step("portal", "a method the path does not have is 405 with Allow", ask("PATCH", HUBS, 405, body={})),
    CREATE_HUB,
    Step("hubs", "a taken name, in another case, is 400", hub_name_taken, needs=(CREATE_HUB,)),
    Step("hubs", "a missing property is 400", ask("POST", HUBS, 400, body={"description": "no name"}, codes=[301])),
    Step("hubs", "a property of the wrong type is 400", hub_with(name=5, code=302)),
    Step("hubs", "an unsupported property is 400", hub_with(color="red", code=303)),
    Step("hubs", "a value outside its rule is 400", hub_with(statusId=1, code=206)),
    Step("hubs", "an empty body is 400", ask("POST", HUBS, 400, raw=b"", codes=[300])),
    Step("hubs", "malformed JSON is 400", ask("POST", HUBS, 400, raw=b'{"name": ', codes=[302])),
    Step("hubs", "a body that is not JSON is 415", ask("POST", HUBS, 415, **FORM)),
    Step("hubs", "read the hub", read_hub, needs=(CREATE_HUB,)),
    Step("hubs", "a hub that does not exist is 404", ask("GET", HUBS + "/{missing}", 404, codes=[699])),
    Step("hubs", "a malformed hub id is 400", ask("GET", f"{HUBS}/not-a-guid", 400, codes=[203])),
    Step("hubs", "another tenant's hub is 403", read_hub_as_other_tenant, needs=(CREATE_HUB,), other_tenant=True),
    Step("hubs", "update the hub", update_hub, needs=(CREATE_HUB,)),
    Step("hubs", "updating a hub that does not exist is 404",
         ask("PUT", HUBS + "/{missing}", 404, body={"statusId": 2002}, codes=[699])),
    FIRST_PAGE,
    Step("hubs", "the next page is another hub", list_hubs_next_page, needs=(FIRST_PAGE,)),
    Step("hubs", "the created hub is listed", list_hubs_finds_the_hub, needs=(CREATE_HUB,)),
    Step("hubs", "a negative pageNumber is 400", ask("GET", HUBS, 400, params={"pageNumber": "-1"}, codes=[209])),
    Step("hubs", "pageSize 0 is 400", ask("GET", HUBS, 400, params={"pageSize": "0"}, codes=[206])),
    Step("hubs", "a pageSize that is not a number is 400",
         ask("GET", HUBS, 400, params={"pageSize": "ten"}, codes=[210])),
    CREATE_INTEGRATION,
    Step("integrations", "a taken name is 400", integration_name_taken, needs=(CREATE_HUB, CREATE_INTEGRATION)),
    Step("integrations", "an unknown channel is 400", integration_unknown_channel, needs=(CREATE_HUB,)),
    Step("integrations", "a hub that does not exist is 404", integration_in_missing_hub),
    Step("integrations", "read the integration", read_integration, needs=(CREATE_INTEGRATION,)),
    Step("integrations", "an integration that does not exist is 404",
         ask("GET", INTEGRATIONS + "/{missing}", 404, codes=[799])),
    Step("integrations", "another tenant's integration is 403", read_integration_as_other_tenant,
         needs=(CREATE_INTEGRATION,), other_tenant=True),
    Step("integrations", "the hub's integrations of a channel type", integrations_by_channel,
         needs=(CREATE_INTEGRATION,)),
    Step("integrations", "an unknown channel type is 400", integrations_by_unknown_channel, needs=(CREATE_HUB,)),
    Step("integrations", "list the hub's integrations", list_integrations_of_hub, needs=(CREATE_INTEGRATION,)),
    Step("integrations", "update the integration", update_integration, needs=(CREATE_INTEGRATION,)),
    DELETE_INTEGRATION,
    Step("integrations", "a deleted integration is 404", read_deleted_integration, needs=(DELETE_INTEGRATION,)),
    SECOND_INTEGRATION,
)
"""The Portal API's steps up to the hub's deletion, in the order they run."""
HUB_DELETION: tuple[Step[Any], ...] = (
    DELETE_HUB,
    Step("hubs", "a deleted hub is 404", read_deleted_hub, needs=(DELETE_HUB,)),
    Step("hubs", "deleting a hub deletes its integrations", deleted_hub_took_its_integrations,
         needs=(DELETE_HUB, SECOND_INTEGRATION)),
)
"""The hub's deletion and what it takes along."""
