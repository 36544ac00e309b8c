"""Webhook signatures as Hubster makes them: HMAC-SHA256 over the raw body bytes, keyed with the UTF-8 bytes
of the integration's ``privateSigningKey`` (the string itself, not decoded from hex or Base64), Base64-encoded
into the ``x-hubster-signature`` header."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "x-hubster-signature"
PUBLIC_KEY_HEADER = "x-hubster-public-key"


def signature(body: bytes, private_key: str) -> str:
    """The ``x-hubster-signature`` value of ``body`` signed with ``private_key``."""
    digest = hmac.new(private_key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(body: bytes, private_key: str, claimed: str | None) -> bool:
    """Whether ``claimed`` (a header's value, or ``None`` when it is missing) is the signature of ``body``; the
    comparison takes the same time wherever the two differ."""
    if claimed is None:
        return False
    return hmac.compare_digest(signature(body, private_key).encode("ascii"), claimed.strip().encode("utf-8"))
