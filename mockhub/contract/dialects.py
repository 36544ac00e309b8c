"""The five error dialects, and how a request that matched no operation is given one.

Each operation of a contract names its dialect (``x-mockhub-error-format`` on the
operation, its first tag or the document, in that order of precedence); the router knows
it from the route. Only a request that reaches no operation (an unknown path, a request
line that cannot be parsed) is placed by its path, here and nowhere else.
"""

from __future__ import annotations

import enum

ERROR_FORMAT = "x-mockhub-error-format"
"""Where a contract declares the error dialect of its operations."""


class Dialect(enum.Enum):
    """How an API's error bodies look.

    Portal: ``{"status", "errors": [{"code", "description"}]}`` with PRT codes; the Engine: the same body with
    ENG codes; Era:
    ``{"error_code": 1000 + status, "error_message"}``; Identity's token endpoint, OAuth 2's
    ``{"error", "error_description"}`` (RFC 6749 section 5.2); the control API: ``{"status", "error"}``.
    """

    PORTAL = "portal"
    ENGINE = "engine"
    ERA = "era"
    IDENTITY = "identity"
    ADMIN = "admin"


ERA_PREFIX = "/rest/"
IDENTITY_PREFIX = "/connect/"
ENGINE_PREFIXES = ("/api/v1/conversations/", "/api/v1/interactions/", "/inbound/")
"""Where the Engine's paths lie (the rest of ``/api/v1/`` is the Portal's)."""
ADMIN_PREFIX = "/__mockhub/"
HEALTH_PATH = f"{ADMIN_PREFIX}health"
"""The control call open without the admin token, a local Host or a local page (for docker's HEALTHCHECK),
and answered even by a server at its connection limit."""


def dialect_of_path(path: str) -> Dialect:
    """The dialect for a request no operation answers, from the API its path would belong to."""
    if path.startswith(ERA_PREFIX):
        return Dialect.ERA
    if path.startswith(ADMIN_PREFIX):
        return Dialect.ADMIN
    if path.startswith(IDENTITY_PREFIX):
        return Dialect.IDENTITY
    if path.startswith(ENGINE_PREFIXES):
        return Dialect.ENGINE
    return Dialect.PORTAL
