"""JSON in and out: strict parsing and compact, fast serialisation in one place."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

import orjson

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a document may have (``--max-json-depth``)."""


class JsonError(ValueError):
    """The bytes are not one strict JSON document."""


def depth_within(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects at most ``limit`` deep (a scalar is depth 0).

    Checked on every stored value so that rendering it (orjson stops at 255, the standard
    library at the recursion limit) can never fail later.
    """
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        if not level:
            return True
        inner: list[Any] = []
        for item in level:
            inner.extend(v for v in (item.values() if isinstance(item, dict) else item) if isinstance(v, dict | list))
        level = inner
    return not level


def small_integer(text: str, digits: int = 6) -> int | None:
    """``text`` as a non-negative integer of at most ``digits`` ASCII digits, else ``None``.

    (``str.isdigit`` accepts other scripts' digits and ``int()`` huge strings: neither belongs in a header.)
    """
    value = text.strip()
    return int(value) if 0 < len(value) <= digits and value.isascii() and value.isdigit() else None


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: Python would store infinity, which JSON cannot say
        raise JsonError(f"the number {text[:32]} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A key given twice is ambiguous (parsers disagree on which wins): refuse it.
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonError(f"the key {key!r} is given twice in one object")
            seen.add(key)
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite, object_pairs_hook=_unique_keys)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_STRING_STARTS = (b'"', '"')


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON (no NaN/Infinity, no key twice in an object, at most ``max_depth`` levels of arrays
    and objects), raising :class:`JsonError` on any problem."""
    if raw[:1] in _STRING_STARTS:  # one JSON string (a LOOKUP's key): orjson reads it as the standard library
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the standard library says what is wrong, as for any body
        else:
            if type(value) is str:
                return value
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise JsonError(f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        at = "" if exc.msg.endswith(" at") else " at"  # "Unterminated string starting at" has its own
        raise JsonError(f"{exc.msg}{at} line {exc.lineno} column {exc.colno}") from None
    except JsonError:
        raise
    except ValueError:  # int() refuses a number of more than sys.get_int_max_str_digits() digits
        raise JsonError(f"a number has more than {sys.get_int_max_str_digits()} digits") from None
    except RecursionError:
        raise JsonError(f"the document nests arrays and objects deeper than {max_depth} levels") from None
    nested = isinstance(value, dict | list) and text.count("[") + text.count("{") > max_depth
    if nested and not depth_within(value, max_depth):
        raise JsonError(f"the document nests arrays and objects deeper than {max_depth} levels") from None
    if _SURROGATE_ESCAPE.search(text) is not None:  # rare: an escaped UTF-16 surrogate, maybe a lone one
        try:
            _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            raise JsonError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text") from None
    return value


def footprint(value: Any) -> int:
    """Bytes a parsed JSON value takes in memory (``sys.getsizeof`` of each part, shared parts counted each
    time they appear), which can be twenty times its length as JSON (``[[],[],...]``)."""
    total = sys.getsizeof(value)
    stack = [value] if type(value) in _CONTAINERS else []
    while stack:  # each part is counted as it is found; only arrays and objects are looked into
        item = stack.pop()
        parts = item.values() if type(item) is dict else item
        if type(item) is dict:
            total += sum(map(sys.getsizeof, item))
        total += sum(map(sys.getsizeof, parts))
        if not _CONTAINERS.isdisjoint(map(type, parts)):
            stack.extend(part for part in parts if type(part) in _CONTAINERS)
    return total


_CONTAINERS = frozenset({dict, list})


def dumps(value: Any) -> bytes:
    """Serialise compactly as UTF-8 (orjson: some 20 times faster than the standard library on a page)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        # An integer beyond 64 bits (Era's opts.roles may hold any JSON), or text that is not
        # Unicode echoed back in an error message (a header's raw bytes): never a failed answer.
        return _ENCODER.encode(value).encode("utf-8", "replace")
