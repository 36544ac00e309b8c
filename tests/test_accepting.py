"""The compiled accept path (mockhub.contract.accepting) only ever takes work from jsonschema: it never says yes
to a value jsonschema refuses, and it does say yes to the values the contract documents."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockhub.contract.accepting import Compiler
from mockhub.contract.contracts import CONTRACT_URI, Contract
from tests.test_contract import _examples

TRICKY = ["", "a\x1cb", "https://a\x1cb", "https://a\ufeffb", "\u0663\u0664", " id ,\ufeffcode", "x\n", "A" * 300,
          "3bc1e69f-c520-446f-ab2c-01751fd66a31", "ABCDE", "\U0001f600"]
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=20) | st.sampled_from(TRICKY))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8) | st.sampled_from(["name", "id", "code", "type", "opts", "url"]), inner, max_size=3),
                      max_leaves=8)


def _text(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _cases(contract: Contract) -> list[tuple[str, Any, Any]]:
    return [(where, schema, example) for where, schema, example in _examples(contract.document)]


def test_every_documented_example_is_accepted_on_the_fast_path(contract: Contract) -> None:
    cases = _cases(contract)
    for where, schema, example in cases:
        assert contract.accepts(contract.validator(schema))(example, _text(example)), where
    assert cases


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_fast_path_never_accepts_what_jsonschema_refuses(contract: Contract, data: st.DataObject) -> None:
    where, schema, example = data.draw(st.sampled_from(_cases(contract)))
    value = data.draw(VALUES)
    if isinstance(example, dict) and example and data.draw(st.booleans()):
        value = {**example, data.draw(st.sampled_from(sorted(example))): value}  # one property off
    validator = contract.validator(schema)
    if contract.accepts(validator)(value, _text(value)):
        assert validator.is_valid(value), (where, value)


def test_text_outside_printable_ascii_goes_to_jsonschema() -> None:
    """ECMA-262's \\s is not Python's: ``[^\\s]`` takes a \\x1c the contract's reading refuses."""
    accepts = Compiler(CONTRACT_URI, {}).accepts({"type": "string", "pattern": "^[^\\s]+$"})
    assert accepts("ab", '"ab"')
    assert not accepts("a\x1cb", '"a\\u001cb"')
    assert not accepts("a\x1cb", "a\x1cb")


def test_a_value_it_cannot_read_goes_to_jsonschema() -> None:
    accepts = Compiler(CONTRACT_URI, {}).accepts({"type": "string"})
    assert not accepts("\ud800", b'"\\ud800"')
    assert not accepts("\ud800", b'"x"')  # even with a plain text: it cannot encode a lone surrogate
