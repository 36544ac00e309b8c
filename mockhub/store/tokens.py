"""Access tokens of ``POST /connect/token``: signed, self-contained, read back on every API request
(decisions.md, Identity).

A token is a JWT (the documentation's example token is one): its claims carry the client, the
tenant, the scope and the expiry, and an HMAC-SHA256 signature shows the server made it. An API
request's token is read here, so the server keeps no record of the tokens it issued: a token works
in any session whose data has its tenant, until that session's clock reaches its expiry, for the
API its scope names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockhub.kernel import jsonio
from mockhub.kernel.errors import InvalidToken
from mockhub.kernel.randomness import SeededRandom
from mockhub.settings import Settings

DEFAULT_LIFETIME = Settings.token_lifetime
"""Seconds a token is valid, the settings' (30 days): the documented ``expires_in`` (``--token-lifetime`` changes
it)."""
ISSUER = "mockhub"
TOKEN_TYPE = "Bearer"
UNKNOWN = "The access token is unknown: no tenant has it, and this server did not issue it."


def _encoded(data: bytes) -> str:
    """base64url without padding, as JWTs use it (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decoded(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


HEADER = _encoded(jsonio.dumps({"alg": "HS256", "typ": "at+jwt"}))


def looks_like_one(token: str) -> bool:
    """Whether ``token`` has a JWT's three parts (a static token from the data has not)."""
    return token.count(".") == 2


@dataclass(frozen=True)
class AccessTokens:
    """Issues and reads one server's access tokens: the signing key and the lifetime are the server's."""

    key: bytes
    lifetime: int = DEFAULT_LIFETIME

    @classmethod
    def for_seed(cls, seed: int, lifetime: int = DEFAULT_LIFETIME) -> AccessTokens:
        """The tokens of a server started with ``--seed seed``. The key is derived from the seed, not drawn from
        the seeded random source (a draw at start-up would shift every id the data generates): the same seed
        signs the same tokens, so a restarted server still takes the tokens a browser app kept."""
        return cls(hashlib.sha256(f"mockhub access tokens, seed {seed}".encode()).digest(), lifetime)

    def issue(self, client: Mapping[str, Any], scope: str, now: datetime, random: SeededRandom) -> dict[str, Any]:
        """The token response for ``client`` (Identity docs, Authentication: ``access_token``, ``expires_in``,
        ``token_type``, ``scope``), valid from ``now`` for :attr:`lifetime` seconds."""
        issued = int(now.timestamp())
        claims = {"iss": ISSUER, "nbf": issued, "iat": issued, "exp": issued + self.lifetime, "aud": scope,
                  "scope": [scope], "client_id": client["clientId"], "tenant": client["tenantId"],
                  "jti": random.hex(32, upper=True)}
        unsigned = f"{HEADER}.{_encoded(jsonio.dumps(claims))}"
        return {"access_token": f"{unsigned}.{self._signature(unsigned)}", "expires_in": self.lifetime,
                "token_type": TOKEN_TYPE, "scope": scope}

    def read(self, token: str, now: datetime) -> dict[str, Any]:
        """The claims of a token this server issued that is valid at ``now``; else 401 saying why."""
        unsigned, _, signature = token.rpartition(".")
        if not unsigned.startswith(HEADER + ".") or not hmac.compare_digest(self._signature(unsigned), signature):
            raise InvalidToken(UNKNOWN)
        try:
            claims: dict[str, Any] = jsonio.loads(_decoded(unsigned[len(HEADER) + 1:]))
        except (binascii.Error, ValueError):  # signed by this server, so never; but a 401, not a 500, if so
            raise InvalidToken(UNKNOWN) from None
        moment = now.timestamp()
        if moment < claims["nbf"]:
            raise InvalidToken(f"The access token is not valid before {_shown(claims['nbf'])}; the clock says "
                               f"{_shown(moment)}.")
        if moment >= claims["exp"]:
            raise InvalidToken(f"The access token expired at {_shown(claims['exp'])}; get a new one from "
                               "POST /connect/token.")
        return claims

    def _signature(self, unsigned: str) -> str:
        return _encoded(hmac.new(self.key, unsigned.encode("ascii", "replace"), hashlib.sha256).digest())


def _shown(timestamp: float) -> str:
    """A POSIX time as an ISO instant (``2021-01-31T00:00:00Z``)."""
    try:
        return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):  # past the year 9999
        return f"{int(timestamp)} (POSIX time)"
