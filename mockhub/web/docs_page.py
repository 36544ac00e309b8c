"""``/__mockhub/docs``: the contract rendered for a person, self-contained (no assets from the internet).

It starts with what a developer needs first: the tokens and the ids of the loaded data, and
what a browser app can ask of the mock (faults, delays, sessions, CORS), with worked
examples. Then every endpoint by API with its parameters, request body, response example
and the statuses the contract gives it, in order, the webhooks the Engine POSTs (headers, payloads
and a worked signature), and the activity message and event types field by field.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from mockhub import __version__
from mockhub.contract.contracts import Contract, operations_of
from mockhub.contract.dialects import Dialect
from mockhub.contract.requests import FORM
from mockhub.kernel.jsonio import dumps
from mockhub.kernel.signing import signature
from mockhub.services.faults import DELAY_HEADER, ERROR_STATUSES, FAULT_HEADER, MAX_DELAY_MS, InjectedFault
from mockhub.services.sessions import SESSION_COOKIE, SESSION_HEADER
from mockhub.settings import Settings
from mockhub.web.endpoint import SERVERS
from mockhub.web.rendering import error_response

ROWS = 20
"""Most rows of one table of loaded data; the state dump has the rest."""
INLINE_CODE = re.compile(r"`([^`]+)`")
"""Markdown's inline code, as the contracts' descriptions write it."""
ACTIVITY_TYPES = ("ActivityMessage", "ActivityEvent")
"""The contract's activity message and event types: the page lists them and every schema they are made of."""
COMMANDS = (("transferCommands", "transfer"), ("responseCommands", "response"))
SIGNING_EXAMPLE = ("3EF951F619CD4F5E820C73622C0F1A3C", "FA96D15568654A4482772E00BA941BCB")
"""The webhooks guide's example keys (public, private), for a page whose data has no System integration."""
"""The sections of a hub's commands in the fixture format, and the kind each holds."""

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header{background:#1b1f24;color:#fff;padding:1.2em 2em}header h1{margin:0;font-size:1.5em}
header nav a{color:#9ecbff;margin-right:1.2em}
main{max-width:72em;margin:0 auto;padding:1em 2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em}
h3{margin-bottom:.2em}
details{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.5em 0;padding:.4em .8em}
summary{cursor:pointer;font-family:ui-monospace,monospace}.m{display:inline-block;min-width:5.5em;font-weight:bold}
.GET{color:#0969da}.POST{color:#1a7f37}.PUT,.PATCH{color:#9a6700}.DELETE{color:#cf222e}.LOOKUP{color:#8250df}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
pre{background:#f3f3f3;padding:.6em;overflow:auto;font-size:13px;border-radius:4px}
.decision{color:#8250df;font-size:.9em}code{font-family:ui-monospace,monospace}td code{white-space:nowrap}
"""


def render(contract: Contract, admin: Contract, data: Mapping[str, Any], base_url: str,
           cors_origins: Sequence[str] = (), token_lifetime: int = Settings.token_lifetime) -> str:
    """The page as HTML. ``data`` is the start-up state in the fixture format (its first tenant is the
    default one); ``cors_origins`` the browser origins allowed, none meaning any; ``token_lifetime`` the
    ``expires_in`` of access tokens."""
    tags = [t["name"] for t in contract.document.get("tags", [])]
    sections = [("data", "Tokens and data"), ("browser", "Browser apps"),
                *((_anchor(tag), tag) for tag in tags), ("webhooks", "Webhooks"), ("activity-types", "Activity types"),
                ("control", "Control API")]
    nav = "".join(f"<a href='#{key}'>{escape(title)}</a>" for key, title in sections)
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>mockhub {escape(__version__)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>mockhub {escape(__version__)}</h1>"
        f"<div>{escape(contract.document['info']['title'])} at <code>{escape(base_url)}</code></div>"
        f"<nav>{nav}<a href='/__mockhub/ui'>Live dashboard</a></nav></header><main>",
        _data(data, base_url, token_lifetime),
        _browser(base_url, cors_origins, _default_token(data)),
    ]
    for tag in tags:
        parts.append(f"<h2 id='{_anchor(tag)}'>{escape(tag)}</h2>")
        parts.extend(_operation(contract, m, p, op) for m, p, op in _operations(contract) if tag in op.get("tags", ()))
    parts.append(_webhooks(contract, data))
    parts.append(_activity_types(contract))
    parts.append("<h2 id=control>Control API (/__mockhub/)</h2>")
    parts.extend(_operation(admin, m, p, op) for m, p, op in _operations(admin)
                 if "serve" in op.get(SERVERS, ("serve",)))  # the proxy's own calls are not this server's
    parts.append("<p>The machine-readable contract: <a href='/__mockhub/openapi.json'>openapi.json</a>. "
                 "<span class=decision>Purple notes</span> mark decisions beyond the API documentation.</p>")
    parts.append("</main></body></html>")
    return "".join(parts)


def _prose(text: str) -> str:
    """A description of the contract as HTML: escaped, its `inline code` set as code."""
    return INLINE_CODE.sub(r"<code>\1</code>", escape(text))


def _anchor(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower())


# --- the loaded data -------------------------------------------------------------------------

def _data(data: Mapping[str, Any], base_url: str, token_lifetime: int) -> str:
    tenants = data.get("tenants", [])
    out = ["<h2 id=data>Tokens and data</h2>"]
    if tenants:
        out.append("<p>Send <code>Authorization: Bearer &lt;token&gt;</code> to the Portal and Engine APIs (the "
                   "Era API needs none). Each token belongs to one tenant; the first tenant is the default one. Every "
                   "session starts from this data (<code>GET /__mockhub/state</code> shows a session's own).</p>")
        out.append(_getting_a_token(tenants[0], base_url, token_lifetime))
    else:
        out.append("<p>No tenants are loaded, so the Portal API accepts no token.</p>")
    hubs, integrations = data.get("hubs", []), data.get("integrations", [])
    tenant_of_hub = {h["hubId"]: h["tenantId"] for h in hubs}
    cells = []
    for index, tenant in enumerate(tenants):
        tenant_id = tenant["tenantId"]
        tokens = ", ".join(f"<code>{escape(t)}</code>" for t in tenant.get("tokens", ())) or "none"
        own_hubs = [h for h in hubs if h["tenantId"] == tenant_id]
        own_integrations = [i for i in integrations if tenant_of_hub.get(i["hubId"]) == tenant_id]
        own_commands = [(c["commandId"], kind, c["name"], c["hubId"]) for section, kind in COMMANDS
                        for c in data.get(section, []) if tenant_of_hub.get(c["hubId"]) == tenant_id]
        cells.append(
            f"<h3>{escape(tenant.get('name') or 'Tenant')}{' (default)' * (index == 0)}</h3>"
            f"<p>tenant <code>{escape(tenant_id)}</code>; token{'s' * (len(tenant.get('tokens', ())) != 1)}: "
            f"{tokens}</p>"
            + _clients(tenant)
            + _table(("hubId", "name"), [(h["hubId"], h["name"]) for h in own_hubs], "hubs")
            + _table(("integrationId", "channel", "name", "hubId"),
                     [(i["integrationId"], i["channelId"], i["name"], i["hubId"]) for i in own_integrations],
                     "integrations")
            + _table(("commandId", "kind", "name", "hubId"), own_commands, "commands"))
    out.extend(cells)
    points = data.get("integrationPoints", [])
    out.append("<h3>Integration points (Era)</h3>")
    out.append(_table(("id", "code", "type", "token_local"),
                      [(p["id"], p["code"], p["type"], p.get("token_local", "")) for p in points], "points"))
    return "".join(out)


def _clients(tenant: Mapping[str, Any]) -> str:
    """The tenant's API clients, each secret with its value, for ``POST /connect/token``."""
    rows = [(client["clientId"], api, secret["name"], secret["token"], secret.get("expiration", "never"))
            for api, client in tenant.get("clients", {}).items() for secret in client.get("secrets", ())]
    return _table(("client_id", "API", "secret", "client_secret", "expires"), rows, "client secrets")


def _getting_a_token(tenant: Mapping[str, Any], base_url: str, lifetime: int) -> str:
    """How a client gets an access token from the default tenant's Portal client, and makes it expire."""
    client = tenant.get("clients", {}).get("portal", {})
    secrets = client.get("secrets") or [{"token": "SECRET"}]
    client_id, secret = client.get("clientId", "CLIENT_ID"), secrets[0]["token"]
    answer = {"access_token": "eyJ…", "expires_in": lifetime, "token_type": "Bearer", "scope": "hubster-portal-api"}
    example = (f"curl -s -X POST {base_url}/connect/token \\\n"
               f"     -d grant_type=client_credentials -d client_id={client_id} -d client_secret={secret}\n"
               f"# {json.dumps(answer, ensure_ascii=False, separators=(',', ':'))}")
    return ("<p><b>Access tokens</b>, as a real client gets them: post the client's id and secret to "
            "<code>POST /connect/token</code> (a form, <code>grant_type=client_credentials</code>; HTTP Basic works "
            "too) and send the <code>access_token</code> as the bearer token. A Portal client's token works for the "
            "Portal API only, an Engine client's for the Engine only, each for <code>expires_in</code> seconds by "
            "the session's clock; then 401. The static tokens below work for every API and never expire. Move "
            "a session's clock on to see a token expire: <code>POST /__mockhub/clock</code> "
            "<code>{\"advance\": \"P30D\"}</code>.</p>"
            f"<pre>{escape(example)}</pre>")


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], what: str) -> str:
    if not rows:
        return f"<p>No {what}.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td><code>{escape(str(v))}</code></td>" for v in row) + "</tr>"
                   for row in rows[:ROWS])
    more = f"<p>&hellip; and {len(rows) - ROWS} more {what}.</p>" if len(rows) > ROWS else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


# --- browser apps ----------------------------------------------------------------------------

def _default_token(data: Mapping[str, Any]) -> str:
    """The default tenant's first token (the first tenant's), for the examples; a placeholder with none loaded."""
    tenants = data.get("tenants") or []
    tokens = tenants[0].get("tokens") or [] if tenants else []
    return str(tokens[0]) if tokens else "TOKEN"


def _browser(base_url: str, cors_origins: Sequence[str], token: str) -> str:
    statuses = f"a status from {ERROR_STATUSES.start} to {ERROR_STATUSES.stop - 1} (429, 503...)"
    answer = error_response(InjectedFault(429, None), Dialect.PORTAL)  # the very answer the mock sends
    assert isinstance(answer.body, bytes)
    shown_429 = "".join([f"HTTP/1.1 {answer.status} {answer.reason}\n",
                         *(f"{name}: {value}\n" for name, value in answer.headers.items()),
                         "\n", json.dumps(json.loads(answer.body), indent=2)])
    if cors_origins:
        origins = ", ".join(f"<code>{escape(o)}</code>" for o in cors_origins)
        cors = f"Only these origins may call (<code>--cors-origin</code>): {origins}."
    else:
        cors = ("Any origin may call the APIs: the request's <code>Origin</code> is echoed, with credentials "
                "allowed (<code>--cors-origin ORIGIN</code> restricts it).")
    cors += (" The control API (<code>/__mockhub/…</code>) answers only pages on this machine (<code>localhost"
             "</code>, <code>*.localhost</code>, <code>127.x.x.x</code>, <code>[::1]</code>) and the origins given "
             "with <code>--cors-origin</code>; a page anywhere else gets a 403 that says so.")
    hub_url = f"{base_url}/api/v1/hubs"
    fetch_429 = (f'const response = await fetch("{hub_url}", {{\n'
                 f'  headers: {{ Authorization: "Bearer {token}", "{FAULT_HEADER}": "429" }},\n'
                 "});\n"
                 "response.status;                      // 429\n"
                 'response.headers.get("Retry-After");  // "1", readable: CORS exposes it\n'
                 "await response.json();")
    fetch_session = ('document.cookie = "mockhub_session=tab-1; path=/";  // once, in the app under test\n'
                     f'await fetch("{hub_url}", {{\n'
                     '  credentials: "include",  // sends the cookie: cookies ignore the port, not the host name\n'
                     f'  method: "POST", headers: {{ Authorization: "Bearer {token}",\n'
                     '                             "Content-Type": "application/json" },\n'
                     '  body: JSON.stringify({ name: "Only in tab-1", description: "" }),\n'
                     "});\n"
                     f'// from a test runner, a header does the same: {{ "{SESSION_HEADER}": "tab-1" }}\n'
                     "// and POST /__mockhub/reset?session=tab-1 resets tab-1 only")
    rows = [
        (FAULT_HEADER, f"{statuses}, <code>reset</code> or <code>malformed</code>",
         "Answer this request with that status in the API's error format (429 and 503 with "
         "<code>Retry-After: 1</code>), close the connection, or send a truncated JSON body."),
        (DELAY_HEADER, f"0 to {MAX_DELAY_MS} (ms)", "Wait this long before answering: loading states, timeouts."),
        (SESSION_HEADER, "a name", "Use this session: its own data (a copy of the start-up data), fault rules, "
         "rate-limit counters and journal. No header or cookie means the default session."),
        (f"cookie {SESSION_COOKIE}", "a name", f"The same as {SESSION_HEADER}, for a browser app: set it once."),
        ("?session=", "a name", "The same, for the control API (<code>/__mockhub/…</code>); it wins over the "
         "cookie."),
    ]
    table = "".join(f"<tr><td><code>{escape(h)}</code></td><td>{v}</td><td>{w}</td></tr>" for h, v, w in rows)
    return (
        "<h2 id=browser>Browser apps</h2>"
        f"<p><b>CORS</b>: {cors} Preflights are answered for every verb (<code>LOOKUP</code> included) and "
        "header; <code>Retry-After</code>, <code>Allow</code> and <code>WWW-Authenticate</code> are exposed to "
        "scripts.</p>"
        "<p>A browser app asks for faults and sessions with request headers, on any API request:</p>"
        f"<table><tr><th>header</th><th>value</th><th>effect</th></tr>{table}</table>"
        "<h3>A usage limit (429), on demand</h3>"
        f"<pre>{escape(fetch_429)}</pre><p>The answer:</p>"
        f"<pre>{escape(shown_429)}</pre>"
        "<h3>A session per tab or test worker</h3>"
        f"<pre>{escape(fetch_session)}</pre>"
        "<p>The hub exists in session <code>tab-1</code> only; every other session still has the start-up "
        "data. <code>GET /__mockhub/requests?session=tab-1</code> shows that session's requests. Open the app "
        "and the mock under one host name (both <code>localhost</code>, or both <code>127.0.0.1</code>): a "
        "cookie set on one is never sent to the other, and the calls land in the default session.</p>"
    )


# --- operations ------------------------------------------------------------------------------

def _operations(contract: Contract) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    for path, item in contract.document["paths"].items():
        for method, op in operations_of(item):
            yield method.upper(), path, {**op, "_params": [*item.get("parameters", []), *op.get("parameters", [])]}


def _operation(contract: Contract, method: str, path: str, op: Mapping[str, Any]) -> str:
    out = [f"<details><summary><span class='m {method}'>{method}</span> {escape(path)} "
           f"&mdash; {_prose(op.get('summary', ''))}</summary>"]
    if op.get("description"):
        out.append(f"<p>{_prose(op['description'])}</p>")
    if op.get("x-mockhub-decision"):
        out.append(f"<p class=decision>Decision: {_prose(op['x-mockhub-decision'])}</p>")
    params = [contract.resolve(p) for p in op["_params"]]
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>schema</th><th>description</th></tr>")
        for p in params:
            schema = p["schema"].get("contentSchema", p["schema"])  # a JSON text: the value it holds
            out.append(f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
                       f"<td><code>{escape(_brief(contract, schema))}</code></td>"
                       f"<td>{_prose(p.get('description', ''))}</td></tr>")
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        media_type, media = next(iter(body["content"].items()))
        out.append(f"<p>Request body ({escape(media_type)}): <code>{escape(_brief(contract, media['schema']))}"
                   "</code></p>")
        out.append(_properties(contract, media["schema"]))
        if "example" in media:
            shown = (urllib.parse.urlencode(media["example"]) if media_type == FORM
                     else json.dumps(media["example"], indent=2))
            out.append(f"<p>Example request body:</p><pre>{escape(shown)}</pre>")
    out.append(_responses(contract, op["responses"]))
    out.append("</details>")
    return "".join(out)


def _responses(contract: Contract, responses: Mapping[str, Any]) -> str:
    """The statuses in order, each with the operation's own description; then the success example."""
    rows, examples = [], []
    for status in sorted(responses, key=lambda s: (not s.isdigit(), s)):
        given = responses[status]
        response = contract.resolve(given)
        description = given.get("description") or response.get("description", "")  # a $ref may override it
        rows.append(f"<tr><td>{escape(status)}</td><td>{_prose(description)}</td></tr>")
        media = response.get("content", {}).get("application/json", {})
        if status.startswith("2") and "example" in media:
            examples.append(f"<p>Example answer ({escape(status)}):</p>"
                            f"<pre>{escape(json.dumps(media['example'], indent=2))}</pre>")
    return f"<table><tr><th>status</th><th>when</th></tr>{''.join(rows)}</table>{''.join(examples)}"


def _properties(contract: Contract, schema: Mapping[str, Any]) -> str:
    """A table of a body's properties, for each object schema it may be (``anyOf`` branches too)."""
    tables = []
    for option in schema.get("anyOf", [schema]):
        resolved = contract.resolve(option)
        properties = resolved.get("properties")
        if not properties:
            continue
        required = set(resolved.get("required", ()))
        rows = "".join(
            f"<tr><td><code>{escape(name)}</code></td><td><code>{escape(_brief(contract, prop))}</code></td>"
            f"<td>{'yes' if name in required else ''}</td>"
            f"<td>{_prose(contract.resolve(prop).get('description', ''))}</td></tr>"
            for name, prop in properties.items())
        title = escape(_brief(contract, option))
        tables.append(f"<table><tr><th>{title}</th><th>type</th><th>required</th><th>meaning</th></tr>"
                      f"{rows}</table>")
    return "".join(tables)


def _webhooks(contract: Contract, data: Mapping[str, Any]) -> str:
    """What the Engine POSTs to a webhookUrl: each payload with its headers and example, and a signature worked
    through with the keys of the start-up data's first System integration (the documentation's, without one)."""
    out = ["<h2 id=webhooks>Webhooks</h2>",
           "<p>An activity accepted in a conversation is POSTed to the hub's System integrations whose "
           "<code>events</code> match it and to its Direct recipient, with these headers, and retried after 2, 4, 6, "
           "8 and 10 minutes while no 2xx comes within 10 s (<code>--webhook-time-scale</code> compresses the "
           "waits). Only loopback and the hosts <code>--webhook-allow-host</code> names are contacted. "
           "<code>GET /__mockhub/deliveries</code> shows every attempt.</p>"]
    for name, item in contract.document.get("webhooks", {}).items():
        post = item["post"]
        media = post["requestBody"]["content"]["application/json"]
        out.append(f"<details><summary><span class='m POST'>POST</span> webhookUrl &mdash; {_prose(post['summary'])}"
                   f" <code>{escape(name)}</code></summary><p>{_prose(post.get('description', ''))}</p>")
        out.append("<table><tr><th>header</th><th>schema</th><th>meaning</th></tr>" + "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td><code>{escape(_brief(contract, p['schema']))}"
            f"</code></td><td>{_prose(p.get('description', ''))}</td></tr>" for p in post.get("parameters", ()))
            + "</table>")
        out.append(_properties(contract, media["schema"]))
        out.append(f"<p>Example payload:</p><pre>{escape(json.dumps(media['example'], indent=2))}</pre>")
        out.append(_responses(contract, post["responses"]) + "</details>")
    systems = [i for i in data.get("integrations", ()) if i.get("channelId") == "System"
               and "privateSigningKey" in i.get("configuration", {})]
    keys = systems[0]["configuration"] if systems else None
    public, private = (keys["publicSigningKey"], keys["privateSigningKey"]) if keys else SIGNING_EXAMPLE
    webhook = next(iter(contract.document.get("webhooks", {}).values()), None)
    if webhook is not None:
        body = dumps(webhook["post"]["requestBody"]["content"]["application/json"]["example"])
        worked = (f"# the body's raw bytes, as received (compact JSON here: hash the bytes, never re-serialised JSON)\n"
                  f"{body.decode()}\n\n"
                  f"x-hubster-public-key: {public}\n"
                  f"x-hubster-signature: {signature(body, private)}\n\n"
                  "# Python: the receiver finds the private key by the public one, then\n"
                  f"base64.b64encode(hmac.new(\"{private}\".encode(\"utf-8\"), body, hashlib.sha256).digest())\n"
                  "# equal (hmac.compare_digest) to x-hubster-signature: accept; else, or no header: 403")
        out.append("<h3>A signature, worked through</h3><p>HMAC-SHA256 of the raw body bytes, keyed with the UTF-8 "
                   "bytes of the integration's <code>privateSigningKey</code> (the string itself, not decoded from "
                   "hex), Base64-encoded.</p>"
                   f"<pre>{escape(worked)}</pre>")
    return "".join(out)


def _activity_types(contract: Contract) -> str:
    """Each schema the activity message and event types are made of, with its fields, in the order met."""
    schemas = contract.document["components"]["schemas"]
    names = [name for name in ACTIVITY_TYPES if name in schemas]
    for name in names:  # the list grows as it goes: every schema a listed one refers to, once
        for found in _referred(schemas[name]):
            if found not in names:
                names.append(found)
    out = ["<h2 id=activity-types>Activity message and event types</h2>",
           "<p>What an activity's message or event may be (a response command's <code>responses</code> are these): "
           "<code>type</code> picks the schema; <i>required</i> marks what each must have.</p>"]
    for name in names:
        schema = schemas[name]
        out.append(f"<h3 id='{_anchor(name)}'>{escape(name)}</h3>")
        if schema.get("description"):
            out.append(f"<p>{_prose(schema['description'])}</p>")
        if schema.get("x-mockhub-decision"):
            out.append(f"<p class=decision>Decision: {_prose(schema['x-mockhub-decision'])}</p>")
        out.append(_properties(contract, {"$ref": f"#/components/schemas/{name}"}))
    return "".join(out)


def _referred(node: Any) -> list[str]:
    """The names of the component schemas ``node`` refers to, in order, anywhere in it."""
    if isinstance(node, list):
        return [name for item in node for name in _referred(item)]
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref", "")
    own = [ref.rsplit("/", 1)[-1]] if ref.startswith("#/components/schemas/") else []
    return own + [name for key, value in node.items() if key != "$ref" for name in _referred(value)]


def _brief(contract: Contract, schema: Mapping[str, Any]) -> str:
    """A one-line summary of a schema: its name, or its type."""
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_brief(contract, s) for s in schema[key])
    if schema.get("type") == "array":
        return f"array of {_brief(contract, schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    return str(schema.get("type", "any"))
