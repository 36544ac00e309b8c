"""What ``mockhub verify-webhook`` sends a receiver: each documented payload signed right, which it must accept
with a 2xx, and deliveries signed wrong, which it must refuse with 403 (decisions.md, Webhook receivers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mockhub.kernel import jsonio
from mockhub.kernel.signing import PUBLIC_KEY_HEADER, SIGNATURE_HEADER, signature
from mockhub.verify.webhook_payloads import KINDS, ProbeDeliveries, ProbeDelivery, with_text

SIGNED_RIGHT = "signed right"
SIGNED_WRONG = "signed wrong"
NOT_BASE64 = "*** not Base64 ***"
"""An ``x-hubster-signature`` no decoder takes: a receiver must refuse it, not fail on it."""
NAMES = {"system": "System", "direct": "Direct"}


@dataclass(frozen=True)
class Case:
    """One delivery and the answer the documentation asks of a receiver."""

    group: str
    name: str
    kind: str
    """The payload it starts from: ``system`` or ``direct``."""
    make: Callable[[ProbeDeliveries, str], ProbeDelivery]
    """The delivery, from what the seed made and the kind."""
    wrong: str = ""
    """What is wrong with it, as a receiver that accepts it is told; empty for a delivery signed right."""

    @property
    def accepted(self) -> bool:
        return not self.wrong


def _signed(made: ProbeDeliveries, kind: str) -> ProbeDelivery:
    return made.signed[kind]


def _body_changed(made: ProbeDeliveries, kind: str) -> ProbeDelivery:
    return replace(made.signed[kind], body=jsonio.dumps(with_text(made.payloads[kind], made.other_text)))


def _other_key(made: ProbeDeliveries, kind: str) -> ProbeDelivery:
    delivery = made.signed[kind]
    return delivery.with_header(SIGNATURE_HEADER, signature(delivery.body, made.other_private_key))


def _header(name: str, value: str | None) -> Callable[[ProbeDeliveries, str], ProbeDelivery]:
    """The signed delivery with header ``name`` set to ``value`` (``None``: without it)."""
    return lambda made, kind: made.signed[kind].with_header(name, value)


def _unknown_public_key(made: ProbeDeliveries, kind: str) -> ProbeDelivery:
    return made.signed[kind].with_header(PUBLIC_KEY_HEADER, made.other_public_key)


WRONGLY_SIGNED: tuple[tuple[str, Callable[[ProbeDeliveries, str], ProbeDelivery], str], ...] = (
    ("the body changed after it was signed", _body_changed, "a body its signature does not match"),
    ("a signature made with another private key", _other_key, "a signature made with another key"),
    (f"no {SIGNATURE_HEADER} header", _header(SIGNATURE_HEADER, None), "a delivery without a signature"),
    (f"an empty {SIGNATURE_HEADER}", _header(SIGNATURE_HEADER, ""), "an empty signature"),
    ("a signature that is not Base64", _header(SIGNATURE_HEADER, NOT_BASE64), "a signature that is not Base64"),
    (f"no {PUBLIC_KEY_HEADER} header", _header(PUBLIC_KEY_HEADER, None), "a delivery without a public key"),
    (f"an unknown {PUBLIC_KEY_HEADER}", _unknown_public_key,
     "a public key that is not the integration's (no private key is found by it)"),
)
"""Each way a delivery is signed wrong: its name, how it is made, what a receiver that accepts it accepted."""


def cases(kinds: Sequence[str] = KINDS) -> list[Case]:
    """The run's cases: each kind signed right, then each wrong signature on the first kind's payload."""
    right = [Case(SIGNED_RIGHT, f"a {NAMES[kind]} payload signed right is accepted (2xx)", kind, _signed)
             for kind in kinds]
    wrong = [Case(SIGNED_WRONG, f"{name} is refused (403)", kinds[0], make, accepted)
             for name, make, accepted in WRONGLY_SIGNED]
    return right + wrong
