"""The dashboard's page and assets, read from the package (``static/``), with headers that keep other sites out.

The page is plain HTML, CSS and JavaScript: nothing is fetched from the internet and nothing is built.
Its answers forbid framing (a foreign page cannot trick a click on it), scripts and styles but its own,
and connections to any other server (Content-Security-Policy).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files

from aiohttp import web

from mockhub import __version__

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
"""The page's files besides itself, with their media types."""


def _static(name: str) -> str:
    return files("mockhub.web.dashboard").joinpath("static", name).read_text(encoding="utf-8")


def page(server: str, token_required: bool) -> web.Response:
    """The page for ``server`` (``serve`` or ``proxy``); ``token_required`` shows the token field at once."""
    html = (_static("index.html").replace("{{server}}", server).replace("{{version}}", escape(__version__))
            .replace("{{token}}", "required" if token_required else "none"))
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS)


def asset(name: str) -> web.Response:
    """One of :data:`ASSETS`."""
    return web.Response(text=_static(name), content_type=ASSETS[name], charset="utf-8", headers=PAGE_HEADERS)
