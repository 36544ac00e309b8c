"""The docs page (/__mockhub/docs): what a developer needs first, then every operation as the contract has it."""

from __future__ import annotations

import json
import re
from html import escape, unescape
from typing import Any

from mockhub.contract.contracts import Contract, operations_of
from mockhub.kernel.signing import signature_matches
from mockhub.resources import admin_contract_path
from tests.conftest import HUB_B, INTEGRATION_B, TOKEN, Api, MakeApi


async def page(api: Api) -> str:
    reply = await api.get("/__mockhub/docs", token=None)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    return reply.body.decode()


def section(html: str, anchor: str) -> str:
    """The HTML of one ``<h2 id=...>`` section."""
    return html.split(f"<h2 id={anchor}>", 1)[1].split("<h2 ", 1)[0]


async def test_the_page_lists_every_id_of_the_loaded_data_per_tenant(api: Api) -> None:
    data = (await api.get("/__mockhub/state", token=None)).json()
    html = section(await page(api), "data")
    tenant_a, tenant_b = html.split("<h3>Tenant B</h3>")
    assert "mockhub-dev-token" in tenant_a and "mockhub-other-token" in tenant_b
    for hub in data["hubs"]:
        assert hub["hubId"] in (tenant_b if hub["hubId"] == HUB_B else tenant_a)
    for integration in data["integrations"]:
        owner = tenant_b if integration["integrationId"] == INTEGRATION_B else tenant_a
        assert f"<code>{integration['integrationId']}</code>" in owner.split("<h3>Integration points")[0]
    commands = data["transferCommands"] + data["responseCommands"]
    assert commands
    for command in commands:  # all tenant A's in the built-in data
        assert f"<td><code>{command['commandId']}</code></td>" in tenant_a.split("<h3>Integration points")[0]
        assert command["name"] in tenant_a
    for point in data["integrationPoints"]:
        assert point["id"] in html and point["token_local"] in html


async def test_a_long_list_is_cut_short(make_api: MakeApi) -> None:
    api = await make_api(fake="hubs=30")
    assert "&hellip; and 13 more hubs." in section(await page(api), "data")  # 3 built-in + 30, 20 shown


async def test_the_browser_section_shows_the_headers_cookie_and_cors(make_api: MakeApi) -> None:
    html = section(await page(await make_api()), "browser")
    for name in ("X-Mockhub-Fault", "X-Mockhub-Delay", "X-Mockhub-Session", "mockhub_session", "CORS",
                 "Any origin may call", "credentials: &quot;include&quot;"):
        assert name in html, name
    restricted = section(await page(await make_api(cors_origins=("http://localhost:5173",))), "browser")
    assert "Only these origins may call" in restricted and "http://localhost:5173" in restricted
    for text in (html, restricted):  # it said "any origin may call", the control API's rule unsaid
        assert "The control API (<code>/__mockhub/…</code>) answers only pages on this machine" in text
    assert "one host name" in html  # a cookie set on localhost is never sent to 127.0.0.1


async def test_the_worked_429_is_what_the_mock_answers(api: Api) -> None:
    """Status, headers and body of the page's sample 429 are those of a real one (it said
    ``Content-Type: application/json`` where the mock sends ``application/json; charset=utf-8``)."""
    html = section(await page(api), "browser")
    shown = re.search(r"<pre>(HTTP/1.1 429 [^\n]*)\n(.*?)\n\n(.*?)</pre>", html, flags=re.S)
    assert shown is not None
    status_line, head, body = (unescape(part) for part in shown.groups())
    headers = dict(line.split(": ", 1) for line in head.split("\n"))
    reply = await api.get("/api/v1/hubs", headers={"X-Mockhub-Fault": "429"})
    assert status_line == f"HTTP/1.1 {reply.status} Too Many Requests"
    assert {"Content-Type", "Retry-After"} <= set(headers)
    assert headers == {name: reply.headers[name] for name in headers}
    assert json.loads(body) == reply.json()
    assert reply.error_codes() == [111]


async def test_the_contracts_inline_code_is_set_as_code(api: Api) -> None:
    """The contracts' descriptions write code Markdown's way (`pageNumber`): the page shows it as code,
    never its backticks."""
    html = await page(api)
    prose = re.sub(r"<pre>.*?</pre>", "", html, flags=re.S)
    assert "`" not in prose
    assert "<code>X-HTTP-Method-Override: LOOKUP</code>" in operation_html(
        html, "POST", "/rest/v1/service/integration_points")


def operation_html(html: str, method: str, path: str) -> str:
    start = html.index(f"<span class='m {method}'>{method}</span> {path} ")
    return html[start:html.index("</details>", start)]


async def test_each_operation_shows_its_statuses_in_order_with_its_own_meaning(api: Api, contract: Contract) -> None:
    html = await page(api)
    for path, item in contract.document["paths"].items():
        for method, op in operations_of(item):
            block = operation_html(html, method.upper(), path)
            table = block.split("<th>status</th><th>when</th></tr>", 1)[1].split("</table>", 1)[0]
            statuses = re.findall(r"<tr><td>(\d{3})</td>", table)
            assert statuses == sorted(op["responses"]), (method, path)
            assert statuses == sorted(statuses)
            if "{hubId}" in path and path.startswith("/api/v1/hubs"):
                assert "PRT000799" not in table  # an integration's code has no place on a hub path
    hubs = operation_html(html, "GET", "/api/v1/hubs")
    assert "<td>403</td>" not in hubs and "<td>413</td>" not in hubs


async def test_each_operation_with_a_json_answer_shows_an_example_the_mock_could_give(
        api: Api, contract: Contract) -> None:
    html = await page(api)
    for path, item in contract.document["paths"].items():
        for method, op in operations_of(item):
            success = next(s for s in op["responses"] if s.startswith("2"))
            media = contract.resolve(op["responses"][success]).get("content", {}).get("application/json")
            block = operation_html(html, method.upper(), path)
            assert (f"Example answer ({success})" in block) == (media is not None), (method, path)


def test_every_response_example_fits_its_schema(contract: Contract) -> None:
    checked = 0
    for document in (contract, Contract.load(admin_contract_path())):
        for path, item in document.document["paths"].items():
            for method, op in operations_of(item):
                for status, given in op["responses"].items():
                    media: dict[str, Any] = document.resolve(given).get("content", {}).get("application/json", {})
                    if "example" in media and "schema" in media:
                        errors = list(document.validator(media["schema"]).iter_errors(media["example"]))
                        assert not errors, (method, path, status, errors[0].message)
                        checked += 1
    assert checked >= 15


def test_no_operation_without_a_body_lists_413(contract: Contract) -> None:
    for path, item in contract.document["paths"].items():
        for method, op in operations_of(item):
            assert ("413" in op["responses"]) == ("requestBody" in op), (method, path)


async def test_the_page_needs_nothing_from_the_internet(api: Api) -> None:
    html = await page(api)
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", html)
    assert TOKEN in html


async def test_the_browser_examples_use_the_loaded_token_and_only_this_servers_calls_are_listed(
        make_api: MakeApi) -> None:
    """With other data the examples said 'Bearer mockhub-dev-token' (a 401); the proxy's own control calls were
    listed on serve, where they are 404s."""
    data = {"tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["tok-a1", "tok-a2"]}]}
    api = await make_api(fixtures=(data,))
    html = await page(api)
    browser = section(html, "browser")
    assert "Bearer tok-a1" in browser and "mockhub-dev-token" not in browser
    control = section(html, "control")
    assert "/__mockhub/violations" not in control and "/__mockhub/record" not in control
    assert "/__mockhub/reset" in control


async def test_each_tenants_clients_and_secrets_are_listed_with_a_token_request_that_works(api: Api) -> None:
    html = section(await page(api), "data")
    tenant_a, tenant_b = html.split("<h3>Tenant B</h3>")
    assert "<code>hubster.portal.api.00000000000000000000000000000001</code>" in tenant_a
    assert "<code>mockhub-dev-engine-secret</code>" in tenant_a and "mockhub-dev-portal-secret" in tenant_a
    assert "<code>hubster.engine.api.ABC1E69FC888875FEE2C45789FD66A00</code>" in tenant_b
    assert "mockhub-other-portal-secret" in tenant_b
    shown = re.search(r"-d grant_type=(\S+) -d client_id=(\S+) -d client_secret=(\S+)\n# (\{.*?\})</pre>",
                      unescape(html))
    assert shown is not None
    grant, client_id, secret, answer = shown.groups()
    reply = await api.request("POST", "/connect/token", token=None,
                              data=f"grant_type={grant}&client_id={client_id}&client_secret={secret}",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 200
    expected = json.loads(answer)
    assert {k: reply.json()[k] for k in ("expires_in", "token_type", "scope")} == {
        k: expected[k] for k in ("expires_in", "token_type", "scope")}


async def test_the_token_request_is_shown_as_a_form(api: Api) -> None:
    block = operation_html(await page(api), "POST", "/connect/token")
    assert "Request body (application/x-www-form-urlencoded)" in block
    assert "grant_type=client_credentials&amp;client_id=hubster.portal.api." in block


async def test_the_clock_control_is_listed_with_what_it_does_to_tokens(api: Api) -> None:
    control = section(await page(api), "control")
    block = operation_html(control, "POST", "/__mockhub/clock")
    assert "Access tokens expire by the session&#x27;s clock" in block
    assert "/__mockhub/clock" in section(await page(api), "data")  # where the tokens are, how to expire one


async def test_the_activity_types_are_listed_field_by_field(api: Api, contract: Contract) -> None:
    html = section(await page(api), "activity-types")
    schemas = contract.document["components"]["schemas"]
    for kind in ("text", "youtube", "vimeo", "video", "audio", "image", "attachment", "location", "contact", "card",
                 "carousel", "list"):
        name = f"{kind.capitalize()}Message"
        block = html.split(f"<h3 id='{name.lower()}'>{name}</h3>", 1)[1].split("<h3 ", 1)[0]
        shown = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(schemas[name]["description"]))  # inline code as code
        assert f"<p>{shown}</p>" in block
        for field in schemas[name]["properties"]:
            required = "yes" if field in schemas[name]["required"] else ""
            assert re.search(rf"<tr><td><code>{field}</code></td><td><code>[^<]*</code></td><td>{required}</td>",
                             block), (name, field)
    for name in ("PayloadEvent", "BasicEvent", "MediaItem", "CarouselItem", "MessageAction", "ContactProperty"):
        assert f"<h3 id='{name.lower()}'>{name}</h3>" in html
    assert "Decision: the address is <code>address</code>" in html



async def test_the_engine_s_operations_and_the_webhooks_are_listed_with_a_signature_that_verifies(
        api: Api, contract: Contract) -> None:
    html = await page(api)
    for tag, paths in (("conversations", ("/api/v1/conversations/establish", "/api/v1/conversations/{conversationId}")),
                       ("interactions", ("/api/v1/interactions/activities/{conversationId}",)),
                       ("direct", ("/inbound/customer/v1/direct/activity/{conversationId}",))):
        for path in paths:
            assert escape(path) in section(html, f"'{tag}'")  # a tag's section: its anchor quoted
    webhooks = section(html, "webhooks")
    for name in ("systemActivities", "directActivity", "x-hubster-signature", "x-hubster-public-key",
                 "x-source-system", "SystemWebhookPayload", "DirectWebhookPayload"):
        assert name in webhooks, name
    worked = unescape(webhooks.split("<h3>A signature, worked through</h3>", 1)[1])
    body = re.search(r"\n(\{.*\})\n", worked)
    public = re.search(r"x-hubster-public-key: (\w+)", worked)
    claimed = re.search(r"x-hubster-signature: (\S+)", worked)
    assert body and public and claimed
    data = (await api.get("/__mockhub/state", token=None)).json()
    [system] = [i for i in data["integrations"] if i["channelId"] == "System"]
    assert public.group(1) == system["configuration"]["publicSigningKey"]
    assert signature_matches(body.group(1).encode(), system["configuration"]["privateSigningKey"], claimed.group(1))
    assert json.loads(body.group(1)) == contract.document["webhooks"]["systemActivities"]["post"]["requestBody"][
        "content"]["application/json"]["example"]
