"""Values quoted back in messages: short, and the same wherever a message quotes one."""

from __future__ import annotations

import json
from typing import Any

MAX_SHOWN = 64
"""Longest value quoted back in an error message."""


def shown(value: Any) -> str:
    """A value as quoted in an error message, cut short if long."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
