"""``/__mockhub/docs``: the contract rendered for a person, self-contained (no assets from the internet).

It lists every endpoint by API with its parameters, request body, responses and
examples, and the tokens the loaded data accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from mockhub import __version__
from mockhub.contracts import Contract, operations_of

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafafa}
header{background:#1b1f24;color:#fff;padding:1.2em 2em}header h1{margin:0;font-size:1.5em}
main{max-width:72em;margin:0 auto;padding:1em 2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em}
details{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.5em 0;padding:.4em .8em}
summary{cursor:pointer;font-family:ui-monospace,monospace}.m{display:inline-block;min-width:5.5em;font-weight:bold}
.GET{color:#0969da}.POST{color:#1a7f37}.PUT,.PATCH{color:#9a6700}.DELETE{color:#cf222e}.LOOKUP{color:#8250df}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
pre{background:#f3f3f3;padding:.6em;overflow:auto;font-size:13px;border-radius:4px}
.decision{color:#8250df;font-size:.9em}code{font-family:ui-monospace,monospace}
"""


def render(contract: Contract, admin: Contract, tokens: Iterable[tuple[str, str]], base_url: str) -> str:
    """The page as HTML. ``tokens`` are (token, tenant id) pairs, the default tenant's first."""
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>mockhub {escape(__version__)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>mockhub {escape(__version__)}</h1>"
        f"<div>{escape(contract.document['info']['title'])} at <code>{escape(base_url)}</code></div></header><main>",
        _tokens(tokens),
    ]
    tags = [t["name"] for t in contract.document.get("tags", [])]
    for tag in tags:
        parts.append(f"<h2>{escape(tag)}</h2>")
        parts.extend(_operation(contract, m, p, op) for m, p, op in _operations(contract) if tag in op.get("tags", ()))
    parts.append("<h2>Control API (/__mockhub/)</h2>")
    parts.extend(_operation(admin, m, p, op) for m, p, op in _operations(admin))
    parts.append("<p>The machine-readable contract: <a href='/__mockhub/openapi.json'>openapi.json</a>. "
                 "<span class=decision>Purple notes</span> mark decisions beyond the API documentation.</p>")
    parts.append("</main></body></html>")
    return "".join(parts)


def _tokens(tokens: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td><code>{escape(token)}</code></td><td><code>{escape(tenant)}</code></td></tr>"
                   for token, tenant in tokens)
    if not rows:
        return "<p>No tenants are loaded, so the Portal API accepts no token.</p>"
    return ("<h2>Tokens</h2><p>Send <code>Authorization: Bearer &lt;token&gt;</code> to the Portal API "
            "(the Era API needs none). Each token belongs to one tenant.</p>"
            f"<table><tr><th>token</th><th>tenant</th></tr>{rows}</table>")


def _operations(contract: Contract) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    for path, item in contract.document["paths"].items():
        for method, op in operations_of(item):
            yield method.upper(), path, {**op, "_params": [*item.get("parameters", []), *op.get("parameters", [])]}


def _operation(contract: Contract, method: str, path: str, op: Mapping[str, Any]) -> str:
    out = [f"<details><summary><span class='m {method}'>{method}</span> {escape(path)} "
           f"&mdash; {escape(op.get('summary', ''))}</summary>"]
    if op.get("description"):
        out.append(f"<p>{escape(op['description'])}</p>")
    if op.get("x-mockhub-decision"):
        out.append(f"<p class=decision>Decision: {escape(op['x-mockhub-decision'])}</p>")
    params = [contract.resolve(p) for p in op["_params"]]
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>schema</th><th>description</th></tr>")
        for p in params:
            schema = p["schema"].get("contentSchema", p["schema"])  # a JSON text: the value it holds
            out.append(f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
                       f"<td><code>{escape(_brief(contract, schema))}</code></td>"
                       f"<td>{escape(p.get('description', ''))}</td></tr>")
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        media = body["content"]["application/json"]
        out.append(f"<p>Request body: <code>{escape(_brief(contract, media['schema']))}</code></p>")
        out.append(_properties(contract, media["schema"]))
        if "example" in media:
            out.append(f"<p>Example:</p><pre>{escape(json.dumps(media['example'], indent=2))}</pre>")
    out.append("<table><tr><th>status</th><th>meaning</th></tr>")
    for status, response in op["responses"].items():
        response = contract.resolve(response)
        out.append(f"<tr><td>{escape(status)}</td><td>{escape(response.get('description', ''))}</td></tr>")
    out.append("</table></details>")
    return "".join(out)


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
            f"<td>{escape(contract.resolve(prop).get('description', ''))}</td></tr>"
            for name, prop in properties.items())
        title = escape(_brief(contract, option))
        tables.append(f"<table><tr><th>{title}</th><th>type</th><th>required</th><th>meaning</th></tr>"
                      f"{rows}</table>")
    return "".join(tables)


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
