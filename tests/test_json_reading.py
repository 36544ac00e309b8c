"""Bodies and fixture files are read by orjson only when its reading is the strict one: the same value, or the
same refusal in the same words, as the standard library's strict parser gives (which reads every ``str``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockhub.kernel import jsonio

KEYS = st.sampled_from(["a", "b", "name", "a:b", "\u00e9", "\U0001f600", ""]) | st.text(max_size=4)
NUMBERS = (st.integers(-(2**70), 2**70) | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**18])
           | st.floats(allow_nan=False, allow_infinity=False))
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=6) | st.sampled_from(["x:y", "::", "\\u003a"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=10)


def reading(raw: bytes | str, max_depth: int = jsonio.MAX_DEPTH) -> tuple[str, Any]:
    """What ``jsonio.loads`` gives: ("value", the value with its types) or ("error", the message)."""
    try:
        return "value", typed(jsonio.loads(raw, max_depth))
    except jsonio.JsonError as exc:
        return "error", str(exc)


def typed(value: Any) -> Any:
    """``value`` with the type of every part beside it (``1`` and ``1.0`` and ``True`` are equal in Python)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return type(value).__name__, value


def escaped(key: str) -> str:
    """``key`` as a JSON string of ``\\u`` escapes only (UTF-16 code units, so pairs for emoji)."""
    units = key.encode("utf-16-be", "surrogatepass")
    return '"' + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)) + '"'


def agrees(raw: bytes, max_depth: int = jsonio.MAX_DEPTH) -> None:
    """The bytes are read as the strict parser reads their text."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert reading(raw, max_depth)[0] == "error"
        return
    assert reading(raw, max_depth) == reading(text, max_depth), raw


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=VALUES, ascii_only=st.booleans(), spaced=st.booleans())
def test_documents_are_read_as_the_strict_parser_reads_them(value: Any, ascii_only: bool, spaced: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, separators=(", ", ": ") if spaced else (",", ":"))
    agrees(raw.encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs=st.lists(st.tuples(KEYS, SCALARS), min_size=1, max_size=5), again=st.data(), nested=st.booleans())
def test_a_key_given_twice_is_refused_however_it_is_written(pairs: list[tuple[str, Any]], again: st.DataObject,
                                                             nested: bool) -> None:
    key, _ = again.draw(st.sampled_from(pairs))
    repeat = again.draw(st.sampled_from([json.dumps(key), json.dumps(key, ensure_ascii=False),
                                         escaped(key)]))
    members = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs] + [f"{repeat}:{json.dumps(again.draw(SCALARS))}"]
    document = "{" + ",".join(members) + "}"
    if nested:
        document = '{"outer": [' + document + '], "other": "a:b"}'
    raw = document.encode("utf-8", "surrogatepass")
    assert reading(raw)[0] == "error"
    agrees(raw)


@pytest.mark.parametrize("raw", [
    b'{"a": 1, "a": 2}', b'{"a\\u003a": 1, "a:": 2}', b'{"a:": 1, "a\\u003A": 2}', b'{"x": "\\\\u003a", "x": 1}',
    b'{"n": 123456789012345678901}', b'[-9223372036854775809]', b'{"n": 1e400}', b'{"s": "\\ud800"}',
    b'{"s": "\\ud83d\\ude00"}', b'\xef\xbb\xbf{}', b'{"a": 1} x', b'[1, 2,]', b'{"a": NaN}', b'12', b'"text"',
    b'{"s": "caf\xc3\xa9"}', b'{"s": "\xff"}', b'[' * 65 + b']' * 65, b'[' * 64 + b']' * 64,
    b'[' * 2000 + b']' * 2000, b'{"a": [{"b": {"c": [[[]]]}}]}', b'{"n": 1234567890123456789.5, "m": -0}',
])
def test_edge_documents_are_read_as_the_strict_parser_reads_them(raw: bytes) -> None:
    agrees(raw)


def test_the_depth_limit_holds_on_both_readings() -> None:
    deep = b'{"a": ' * 10 + b"1" + b"}" * 10
    assert reading(deep, 10)[0] == "value"
    assert reading(deep, 9) == ("error", "the document nests arrays and objects deeper than 9 levels")
    agrees(deep, 9)


def test_documents_deeper_than_orjson_writes_are_read_within_a_larger_limit() -> None:
    """orjson reads 1,024 levels but writes 255: a limit between them still gives the strict reading."""
    deep = b'{"a": 1, "b": ' + b"[" * 300 + b"]" * 300 + b"}"
    assert reading(deep, 400)[0] == "value"
    agrees(deep, 400)
    agrees(deep.replace(b'"b"', b'"a"'), 400)
    agrees(deep, 299)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text())
def test_the_journal_counts_text_as_it_renders(text: str) -> None:
    """The journal's budget counts each header as its JSON rendering (the size a journal read answers);
    the count of plain text, made without rendering it, is the rendering's."""
    assert jsonio.rendered_bytes(text) == len(jsonio.dumps(text)) - 2
