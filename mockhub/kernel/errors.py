"""One exception class per error condition: what went wrong, as problems, never as a response.

An error carries its status, the problems found (a PRT code and a sentence each) and
any headers the answer needs (``Retry-After``); the HTTP edge
(:mod:`mockhub.web.rendering`) renders it in the dialect of the operation that raised it.
The domain (the store, the fault engine, sessions) raises these and knows no HTTP library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: a PRT number and a sentence that names the field."""

    code: int
    message: str


class ApiError(Exception):
    """An answer other than success. Subclasses fix the status and the PRT code."""

    status = 500
    code = 100
    message = "The service had an internal error."

    def __init__(self, message: str | None = None, *, problems: tuple[Problem, ...] = ()) -> None:
        self.problems = problems or (Problem(self.code, message or self.message),)
        # Each message is a sentence of its own, so several read as a paragraph (Era and admin bodies).
        super().__init__(" ".join(p.message for p in self.problems))

    headers: dict[str, str] = {}


class ValidationFailed(ApiError):
    """400: the request breaks the contract; every problem found is listed."""

    status, code, message = 400, 300, "The request is not valid."


def recoded(error: ValidationFailed, codes: Mapping[int, int]) -> ValidationFailed:
    """``error`` with each problem numbered as ``codes`` says (an API's own numbers for the same problems: the
    Engine's ENG003001 where the Portal says PRT000301); a problem ``codes`` does not name keeps its number."""
    problems = tuple(Problem(codes.get(p.code, p.code), p.message) for p in error.problems)
    return error if problems == error.problems else ValidationFailed(problems=problems)


class BodyMissing(ValidationFailed):
    code, message = 300, "A request body is required."


class MalformedJson(ValidationFailed):
    code = 302


class MalformedRequest(ValidationFailed):
    """400: the request is not valid HTTP (a line over the size limit, a NUL in a header)."""

    code = 206


class NameTaken(ValidationFailed):
    """400 PRT000600: a hub name is already used by the tenant."""

    code = 600


class IntegrationNameTaken(ValidationFailed):
    """400 PRT000700: an integration name is already used in the hub."""

    code = 700


class NotForThisSender(ValidationFailed):
    """400 ENG005002: the activity has something its sender may not send (a customer's carousel or list)."""

    code = 5002


class NoAgentOrBot(ValidationFailed):
    """400 ENG005501: a customer's activity in a hub without an Agent or Bot integration to take it."""

    code, message = 5501, ("Provided Hub does not have any Agent or Bot integration configured to receive or "
                           "interact with customer messages.")


class CommandNameTaken(ValidationFailed):
    """400 PRT000600 ("Name already exists"): the hub has a command of that kind and name (decisions.md, Commands)."""

    code = 600


class Unauthorized(ApiError):
    status, code, message = 401, 102, "The access token is missing, malformed or unknown."
    headers = {"WWW-Authenticate": 'Bearer realm="mockhub"'}


class InvalidToken(Unauthorized):
    """401 PRT000102 for a bearer token that was sent but cannot be used: unknown, expired, or issued for another
    API (RFC 6750 section 3.1: the challenge says ``invalid_token``)."""

    headers = {"WWW-Authenticate": 'Bearer realm="mockhub", error="invalid_token"'}


class OAuthError(ApiError):
    """An answer of the OAuth 2 token endpoint (RFC 6749 section 5.2): ``error`` is its code, the message its
    ``error_description``."""

    status, error, message = 400, "invalid_request", "The token request is not valid."


class InvalidRequest(OAuthError):
    """400 ``invalid_request``: a parameter missing, repeated or malformed, or two ways of authenticating."""


class InvalidClient(OAuthError):
    """401 ``invalid_client``: no client authentication, an unknown client, a wrong or expired secret. The
    challenge names HTTP Basic, the scheme the endpoint takes (RFC 6749 sections 2.3.1 and 5.2)."""

    status, error, message = 401, "invalid_client", "Client authentication failed."
    headers = {"WWW-Authenticate": 'Basic realm="mockhub"'}


class UnsupportedGrantType(OAuthError):
    """400 ``unsupported_grant_type``: a grant other than ``client_credentials``."""

    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """400 ``invalid_scope``: a scope the client is not allowed."""

    error = "invalid_scope"


class Forbidden(ApiError):
    status, code, message = 403, 101, "Access to the requested resource is forbidden."


class NotAllowed(Forbidden):
    """403 ENG000110 ("Requested action is not allowed"): a sender that may not send into the conversation."""

    code, message = 110, "Requested action is not allowed."


class NotFound(ApiError):
    status, code, message = 404, 105, "Resource not found."


class HubNotFound(NotFound):
    code, message = 699, "Hub not found."


class IntegrationNotFound(NotFound):
    code, message = 799, "Integration not found."


class ClientNotFound(NotFound):
    """404 PRT000105: no API client has the id."""


class SecretNotFound(NotFound):
    """404 PRT000105: the client has no secret of the id."""


class CommandNotFound(NotFound):
    """404 PRT000105: no command of the kind has the id (no code of its own is documented)."""

    message = "Command not found."


class ConversationNotFound(NotFound):
    """404 ENG006500: no conversation has the id."""

    code, message = 6500, "Provided conversation does not exist."


class EngineIntegrationNotFound(NotFound):
    """404 ENG006000: the Engine knows no integration of the id."""

    code, message = 6000, "Provided integration does not exist."


class LookupFailed(NotFound):
    message = "Lookup failed"


class PointNotFound(NotFound):
    """404 (Era 1404): no integration point has the id."""

    message = "Integration point not found."


class MethodNotAllowed(ApiError):
    status, code = 405, 110

    def __init__(self, method: str, allowed: set[str]) -> None:
        super().__init__(f"Method {method} is not allowed here; allowed: {', '.join(sorted(allowed))}.")
        self.headers = {"Allow": ", ".join(sorted(allowed))}


class AlreadyExists(ApiError):
    status, code, message = 409, 106, "The resource already exists."


class PointIdTaken(AlreadyExists):
    """409 (Era 1409): a create gives the id of an existing integration point."""


class PointCodeTaken(AlreadyExists):
    """409 (Era 1409): another integration point has the code (decisions.md, Integration points: code is unique)."""


class PayloadTooLarge(ApiError):
    status, code = 413, 300


class UnsupportedMediaType(ApiError):
    status, code = 415, 300


class TooManySessions(ApiError):
    """503 (PRT000104 "not available"): every session slot is held by a session in recent use."""

    status, code = 503, 104

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class DataLimitReached(ApiError):
    """429 (PRT000111, the usage limit): a session's own records would go past ``--max-session-records`` or
    ``--max-session-bytes``."""

    status, code = 429, 111

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class InternalError(ApiError):
    status, code, message = 500, 100, "The mock had an internal error; see the server log."
