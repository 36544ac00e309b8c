"""The accept path of request checks: a compiled validator (jsonschema-rs) says yes fast.

jsonschema walks a schema in Python, which was most of a hub POST's handling time. A
schema compiled by jsonschema-rs answers whether a value fits a hundred times faster;
only a value it refuses goes on to jsonschema, which lists every problem, so every
error body stays exactly what it was.

The compiled validator reads regular expressions as ECMA-262 does, whose ``\\d`` and
``\\s`` differ from Python's outside printable ASCII (``[^\\s]`` takes ``\\x1c`` there,
Python's does not), and it cannot read every value Python can (a lone surrogate). So it
is asked only about values whose text is printable ASCII, and a value it cannot read
goes to jsonschema: it only ever takes work away from jsonschema, never changes an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs

Accepts = Callable[[Any, "str | bytes"], bool]
"""``accepts(value, text)``: whether ``value``, read from ``text``, surely fits the schema
(``False`` means "ask jsonschema", not "refused")."""


def _never(value: Any, text: str | bytes) -> bool:
    return False


def plain(text: str | bytes) -> bool:
    """Whether ``text`` (a JSON body or a query value) is printable ASCII, escapes of other characters aside.

    Strict JSON has no raw control characters in its strings, so a body's only ones are
    whitespace between tokens; ``\\u`` escapes are left out whole (they may spell anything).
    """
    if isinstance(text, bytes):
        return text.isascii() and text.find(b"\\u") == -1  # find: ``in`` first tries an integer, at a cost
    return text.isascii() and text.isprintable() and "\\u" not in text


class Compiler:
    """Compiles schemas of one document, whose local references resolve in it under ``uri``."""

    __slots__ = ("_registry",)

    def __init__(self, uri: str, document: dict[str, Any]) -> None:
        self._registry = jsonschema_rs.Registry([(uri, document)])

    def accepts(self, schema: dict[str, Any] | bool) -> Accepts:
        """The fast yes of ``schema`` (its references written against ``uri``); never yes when it cannot compile."""
        try:
            compiled = jsonschema_rs.Draft202012Validator(schema, registry=self._registry, validate_formats=False)
        except (ValueError, jsonschema_rs.ReferencingError):
            return _never
        is_valid = compiled.is_valid

        def accepts(value: Any, text: str | bytes) -> bool:
            if not plain(text):
                return False
            try:
                return bool(is_valid(value))
            except (ValueError, OverflowError, TypeError):  # a value it cannot read: jsonschema decides
                return False

        return accepts
