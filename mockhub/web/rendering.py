"""The HTTP edge's one place for bodies: JSON responses, and errors in their operation's dialect."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from yarl import URL

from mockhub.contract.dialects import Dialect
from mockhub.kernel.errors import ApiError, MethodNotAllowed, NotFound, OAuthError, PayloadTooLarge
from mockhub.kernel.jsonio import dumps

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""What every answer of the token endpoint carries, so no cache keeps a token (RFC 6749 section 5.1)."""
BASIC_CHALLENGE = 'Basic realm="mockhub"'
"""The token endpoint's 401 challenge: the scheme clients authenticate with (RFC 6749 section 5.2)."""


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with the APIs' content type."""
    # The header given whole: setting content_type and charset afterwards would parse and
    # rebuild it twice on every response (about 2 us of a GET a hub's 80, per the profile).
    sent = {"Content-Type": JSON_CONTENT_TYPE}
    if headers:  # a Content-Type given (an override's, in any case) replaces the default
        if any(name.lower() == "content-type" for name in headers):
            del sent["Content-Type"]
        sent.update(headers)
    return web.Response(body=dumps(value), status=status, headers=sent)


def page_response(items: list[Any], next_after: int | None, url: URL) -> web.Response:
    """A JSON array that is one page of a longer list read with ``after``: when more follow, a
    ``Link: <url, after=next_after>; rel="next"`` header (RFC 8288) names the next page."""
    headers = None if next_after is None else {"Link": f'<{url.update_query(after=next_after)}>; rel="next"'}
    return json_response(items, headers=headers)


def error_response(error: ApiError, dialect: Dialect) -> web.Response:
    """``error`` as the API of ``dialect`` answers it."""
    if dialect is Dialect.PORTAL or dialect is Dialect.ENGINE:
        prefix = "PRT" if dialect is Dialect.PORTAL else "ENG"
        body: object = {
            "status": error.status,
            "errors": [
                {"code": p.code, "description": f"{p.message} (code: {prefix}{p.code:06d})"}
                for p in error.problems
            ],
        }
    elif dialect is Dialect.ERA:
        body = {"error_code": 1000 + error.status, "error_message": str(error)}
    elif dialect is Dialect.IDENTITY:
        return _oauth_error(error)
    else:
        body = {"status": error.status, "error": str(error)}
    return json_response(body, status=error.status, headers=error.headers or None)


def oauth_code(error: ApiError) -> str:
    """The OAuth 2 ``error`` of an answer of the token endpoint: its own (RFC 6749 section 5.2), else by the status:
    401 ``invalid_client``, a timeout, usage limit or outage ``temporarily_unavailable``, another 5xx
    ``server_error``, another 4xx ``invalid_request`` (decisions.md, Identity)."""
    if isinstance(error, OAuthError):
        return error.error
    if error.status == 401:
        return "invalid_client"
    if error.status in (408, 429, 503, 504):
        return "temporarily_unavailable"
    return "server_error" if error.status >= 500 else "invalid_request"


def _oauth_error(error: ApiError) -> web.Response:
    """``error`` as the token endpoint answers it; a system error names the Identity code (IDT000100)."""
    description = str(error) + (" (code: IDT000100)" if error.status == 500 else "")
    headers = {**error.headers, **NO_STORE}
    if error.status == 401:
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    return json_response({"error": oauth_code(error), "error_description": description}, status=error.status,
                         headers=headers)


def http_error(exc: web.HTTPException, method: str, max_body: int) -> ApiError:
    """Translate aiohttp's own HTTP exceptions (routing, body size) into mock errors."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return MethodNotAllowed(method, set(exc.allowed_methods))
    if isinstance(exc, web.HTTPNotFound):
        return NotFound("No such endpoint.")
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge(f"The request body is larger than {max_body} bytes.")
    error = ApiError(exc.reason)
    error.status = exc.status
    return error
