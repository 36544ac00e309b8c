"""JSON in and out: strict parsing and compact, fast serialisation in one place."""

from __future__ import annotations

import json
import math
import re
import sys
from itertools import chain, compress
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
    library at the recursion limit) can never fail later. Walks one level at a time, in C
    as far as it can: a level that holds no array or object ends the walk.
    """
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        if not level:
            return True
        level = _containers_in(level)
    return not level


def _containers_in(level: list[Any]) -> list[Any]:
    """The arrays and objects among the values of every object and the items of every array of ``level``."""
    kinds = set(map(type, level))
    if kinds == {dict}:
        parts = list(chain.from_iterable(map(dict.values, level)))
    elif kinds == {list}:
        parts = list(chain.from_iterable(level))
    else:  # subclasses too (a value given in Python)
        parts = list(chain.from_iterable(item.values() if isinstance(item, dict) else item for item in level))
    if any(issubclass(kind, dict | list) and kind not in _CONTAINERS for kind in set(map(type, parts))):
        return [part for part in parts if isinstance(part, dict | list)]
    return list(compress(parts, map(_CONTAINERS.__contains__, map(type, parts))))  # picked in C


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
_NUMBER_SHAPES = bytes(57 if byte in b"0123456789" else 32 if byte in b" \t\r\n,:[-" else 120 for byte in range(256))
"""Digits as ``9``, what may come before a number (separators, a sign) as a space, the rest as ``x``."""
_LONG_INTEGER = b" " + b"9" * 19
"""An integer of 19 digits or more, in :data:`_NUMBER_SHAPES`: maybe past 64 bits, which orjson reads as a float."""
_ESCAPED_COLONS = (b"\\u003a", b"\\u003A")


def _orjson_reading(raw: bytes, max_depth: int) -> Any:
    """``raw`` read by orjson when that is surely what the strict reading gives, else :data:`_UNSURE`.

    orjson refuses what the strict reading refuses (NaN, a lone surrogate, bad UTF-8, a number
    too large for a float) but reads an integer past 64 bits as a float and keeps the last of
    a key given twice. So a document with an integer of 19 digits or more is left to the standard library,
    and so is one that lost a key: every key is followed by one colon, which orjson's own
    writing of the value keeps, as it keeps every colon inside a string (escaped ones counted).
    A document nested deeper than ``max_depth`` is left to it too.

    A document in plain ASCII (no ``\\u`` escape) of one object, the usual body, with as many colons as keys
    kept lost none, and is not written again. Any other is: writing a text beyond ASCII leaves the UTF-8
    copy Python keeps of it, which the stored value has from its first answer on, so that :func:`footprint`
    counts it from the start. (Bytes are searched with ``find``: ``in`` first tries its operand as an integer,
    which costs more than the search.)
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNSURE  # the standard library says what is wrong
    if type(value) is str:
        return value
    if type(value) is not dict and type(value) is not list:  # a bare number or literal: rare in a body
        return _UNSURE
    if raw.translate(_NUMBER_SHAPES).find(_LONG_INTEGER) != -1:
        return _UNSURE
    objects = raw.count(b"{")
    # deeper than max_depth takes more than max_depth openings and as many closings: never in fewer bytes
    if len(raw) > 2 * max_depth and objects + raw.count(b"[") > max_depth and not depth_within(value, max_depth):
        return _UNSURE  # the standard library's reading says which problem comes first
    colons = raw.count(b":")
    plain = raw.isascii() and raw.find(b"\\u") == -1
    if plain and (not colons or (objects == 1 and type(value) is dict and colons == len(value))):
        # one "{" read as a dict: that object is the only one, and each key written is followed by a colon
        # (colons inside strings only add to them), so as many colons as keys kept means no key given twice
        return value
    if not plain and raw.find(b"\\u003") != -1:
        colons += sum(map(raw.count, _ESCAPED_COLONS))
    try:
        if colons != orjson.dumps(value).count(b":"):
            return _UNSURE
    except orjson.JSONEncodeError:  # deeper than orjson writes (255 levels), within a larger --max-json-depth
        return _UNSURE
    return value


_UNSURE = object()


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON (no NaN/Infinity, no key twice in an object, at most ``max_depth`` levels of arrays
    and objects), raising :class:`JsonError` on any problem.

    Bytes are read by orjson when its reading is surely the strict one (see :func:`_orjson_reading`);
    anything else, and every error, is read and worded by the standard library's parser.
    """
    if isinstance(raw, bytes):
        value = _orjson_reading(raw, max_depth)
        if value is not _UNSURE:
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
    if not text.isascii() or "\\u" in text:
        _make_utf8_copies(value)
    return value


def _make_utf8_copies(value: Any) -> None:
    """Have each text beyond ASCII in ``value`` keep its UTF-8 copy now, as orjson's reading leaves it (see
    :func:`_orjson_reading`): writing the value as JSON would make it later, after :func:`footprint` counted."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if not item.isascii():
                orjson.dumps(item)  # (the copy is what it leaves; what it writes is not needed)
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)


def footprint(value: Any) -> int:
    """Bytes a parsed JSON value takes in memory (``sys.getsizeof`` of each part, shared parts counted each
    time they appear), which can be twenty times its length as JSON (``[[],[],...]``).

    A text, number, ``true``, ``false`` or ``null`` is sized by its own ``__sizeof__``, which is what
    ``sys.getsizeof`` gives for these types (they hold no references, so no collector header is added) at a
    third of the cost of its argument parsing: a record is sized on every create. A text beyond ASCII counts
    the UTF-8 copy Python keeps of it once written as JSON when it has one (:func:`loads` makes it for what
    orjson reads).
    """
    total = sys.getsizeof(value)
    stack = [value] if type(value) in _CONTAINERS else []
    while stack:  # each part is counted as it is found; only arrays and objects are looked into
        item = stack.pop()
        for part in chain(item, item.values()) if type(item) is dict else item:
            kind = type(part)
            if kind in _SCALARS:
                total += part.__sizeof__()
            else:
                total += sys.getsizeof(part)
                if kind is dict or kind is list:
                    stack.append(part)
    return total


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({dict, list})


def stored_bytes(text: str) -> int:
    """Bytes the characters of ``text`` take in memory: 1, 2 or 4 each, by its widest (CPython's compact
    strings: one character above U+FFFF makes every character of the string take 4)."""
    if text.isascii():  # a flag of the string: no scan
        return len(text)
    widest = ord(max(text))
    return len(text) * (1 if widest < 0x100 else 2 if widest < 0x10000 else 4)


def rendered_bytes(text: str) -> int:
    """Bytes of ``text`` inside a JSON string: UTF-8, with its escapes (a control character is six)."""
    if text.isascii() and text.isprintable():  # the usual header: flags and counts in C, nothing rendered
        return len(text) + text.count('"') + text.count("\\")
    return len(dumps(text)) - 2


exact_dumps = orjson.dumps
"""Serialise compactly as UTF-8, or raise ``TypeError`` (a ``JSONEncodeError``) on what JSON cannot hold as it is:
text that is not Unicode (a lone surrogate, as invalid UTF-8 decoded with ``surrogateescape`` is), an integer
beyond 64 bits. What it writes, :data:`loads_own` reads back equal (tuples as lists)."""
loads_own = orjson.loads
"""Read JSON this process wrote with :data:`exact_dumps` (none of :func:`loads`' checks: it is known good)."""


def dumps_kept(value: Any) -> bytes:
    """:func:`dumps` for bytes kept a while (counted against a budget by their length): a copy of their own
    length, as orjson's bytes hold a buffer of 4 KiB at least, whatever their length."""
    return bytes(memoryview(dumps(value)))


def dumps(value: Any) -> bytes:
    """Serialise compactly as UTF-8 (orjson: some 20 times faster than the standard library on a page)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        # An integer beyond 64 bits (Era's opts.roles may hold any JSON), or text that is not
        # Unicode echoed back in an error message (a header's raw bytes): never a failed answer.
        return _ENCODER.encode(value).encode("utf-8", "replace")
