"""Identity: ``POST /connect/token`` (Identity docs, Authentication; decisions.md, Identity)."""

from __future__ import annotations

import base64
import binascii
import urllib.parse

from aiohttp import web

from mockhub.kernel.errors import InvalidClient
from mockhub.web.endpoint import Call
from mockhub.web.rendering import NO_STORE, json_response


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The client id and secret of an ``Authorization: Basic`` header, each form-urlencoded inside it (RFC 6749
    section 2.3.1); ``None`` without one (another scheme is not client authentication); 401 ``invalid_client``
    when it cannot be read."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("The Basic credentials are not base64 of UTF-8 'client_id:client_secret'.") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("The Basic credentials have no ':' between client id and secret.")
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


def request_token(call: Call) -> web.Response:
    """A client's access token (client_credentials), or the OAuth 2 error."""
    basic = basic_credentials(call.request.headers.get("Authorization"))
    return json_response(call.store.identity.request_token(call.body, basic), headers=NO_STORE)
