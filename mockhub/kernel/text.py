"""Values quoted back in messages: short, and the same wherever a message quotes one."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MAX_SHOWN = 64
"""Longest value quoted back in an error message."""


def shown(value: Any) -> str:
    """A value as quoted in an error message, cut short if long."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def shown_url(url: str) -> str:
    """``url`` as shown in a banner, a report or an answer: a password in it written as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot hold, even as character references."""


def xml_safe(document: str) -> str:
    """``document`` (XML) with each character XML 1.0 cannot hold written as ``\\xNN`` (a request's raw
    control characters, quoted in a report, would make the whole file unreadable to CI)."""
    return _NOT_XML.sub(lambda found: f"\\x{ord(found.group()):02x}", document)
