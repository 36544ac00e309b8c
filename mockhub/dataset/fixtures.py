"""Fixture files: validated on load against contracts/fixtures.schema.json, dumped back the same way.

A bad file stops start-up with one message naming the file, the record and the field
(decisions.md, Data). Parsed JSON is first checked by a compiled validator (jsonschema-rs:
200,000 records in a tenth of a second, where jsonschema takes twenty); only data it
refuses, or data given as Python objects, goes through jsonschema, which finds and words
the first problem.
"""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from mockhub.contract.contracts import CONTRACT_URI, Contract
from mockhub.contract.problems import collect_problems, field_path
from mockhub.kernel import jsonio
from mockhub.kernel.clock import Clock
from mockhub.kernel.errors import ApiError
from mockhub.kernel.randomness import SeededRandom
from mockhub.resources import fixture_schema_path
from mockhub.store import Record, Store
from mockhub.store.tokens import AccessTokens

FIXTURE_URI = "urn:mockhub:fixtures"


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file, the record and the field."""


@dataclass(frozen=True)
class FixtureSource:
    """Fixture data and where it came from (a file name, or a description such as 'PUT /__mockhub/state')."""

    origin: str
    data: Any
    parsed: bool = True
    """The data is parsed JSON (dicts, lists, strings, numbers...), not Python objects of any type."""

    @classmethod
    def of(cls, origin: str, data: Any) -> FixtureSource:
        """Fixture data given in Python: copied, so that the caller's later changes reach no record."""
        return cls(origin, copy.deepcopy(data), parsed=False)

    @classmethod
    def read(cls, path: Path) -> FixtureSource:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise FixtureError(f"{path}: cannot read the file: {exc.strerror}") from None
        try:
            with _collector_paused():
                return cls(str(path), jsonio.loads(raw))
        except jsonio.JsonError as exc:
            raise FixtureError(f"{path}: not valid JSON: {exc}") from None


def _label(section: str, index: int, record: Any) -> str:
    label = f"{section}[{index}]"
    if isinstance(record, dict):
        keys = {"integrations": ("integrationId", "name"), "transferCommands": ("commandId", "name"),
                "responseCommands": ("commandId", "name"), "integrationPoints": ("code", "id")}.get(
            section, ("hubId", "name", "tenantId"))
        for key in keys:
            if isinstance(record.get(key), str):
                return f"{label} ({key} {record[key]!r})"
    return label


def validate(validator: Draft202012Validator, source: FixtureSource) -> None:
    """Raise :class:`FixtureError` for the first problem, naming file, record and field."""
    data = source.data
    if not isinstance(data, dict):
        raise FixtureError(f"{source.origin}: the file must hold a JSON object with {', '.join(SECTIONS)}")
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] in SECTIONS and isinstance(path[1], int):
            section, index = str(path[0]), path[1]
            record = data[section][index]
            problems = collect_problems(validator.evolve(schema=error.schema), error.instance, "body",
                                        field_path(path[2:]))
            detail = problems[0].message if problems else error.message
            raise FixtureError(f"{source.origin}: {_label(section, index, record)}: {detail}")
        where = ".".join(map(str, path)) or "top level"
        raise FixtureError(f"{source.origin}: {where}: {error.message}")


SPACES = r"\x{9}-\x{d}\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
r"""What Python's ``\s`` matches in text (the characters of ``str.isspace``), as the body of a Rust regex class."""
_SAME_ESCAPES = frozenset("nrt")


def rust_pattern(pattern: str) -> str | None:
    r"""``pattern`` (a Python regular expression) for jsonschema-rs's regex engine, matching exactly the same
    strings; ``None`` if it uses what is not translated (``\w``, ``\b``, groups with ``(?``...).

    The engines differ in ``\s`` (Rust's leaves out U+001C-U+001F and U+0085), ``\d`` (ASCII only in
    jsonschema-rs) and ``$`` (Python's also matches before a last newline)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1:i + 2]
            if escaped == "s":
                out.append(SPACES if in_class else f"[{SPACES}]")
            elif escaped == "d":
                out.append(r"\p{Nd}")
            elif not escaped or (escaped.isalnum() and escaped not in _SAME_ESCAPES):
                return None
            else:
                out.append(char + escaped)
            i += 2
            continue
        if char == "(" and pattern[i + 1:i + 2] == "?":
            return None
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "$" and not in_class:
            char = r"\n?$"
        out.append(char)
        i += 1
    return "".join(out)


def _with_rust_patterns(schema: Any) -> Any:
    """A copy of ``schema`` with every ``pattern`` translated by :func:`rust_pattern` (``ValueError``: one is not)."""
    if isinstance(schema, dict):
        copied = {}
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                translated = rust_pattern(value)
                if translated is None:
                    raise ValueError(f"pattern {value!r} has no translation")
                copied[key] = translated
            else:
                copied[key] = _with_rust_patterns(value)
        return copied
    if isinstance(schema, list):
        return [_with_rust_patterns(item) for item in schema]
    return schema


def compiled_validator(schema: dict[str, Any], contract: Contract) -> jsonschema_rs.Validator | None:
    """The fixture format compiled by jsonschema-rs, with the same meaning as jsonschema gives it (formats are
    not checked; patterns translated); ``None`` if a pattern cannot be translated."""
    try:
        registry = jsonschema_rs.Registry([(CONTRACT_URI, _with_rust_patterns(contract.document))])
        return jsonschema_rs.Draft202012Validator(_with_rust_patterns(schema), registry=registry,
                                                  validate_formats=False)
    except ValueError:
        return None


def _fixture_validators(contract: Contract) -> tuple[Draft202012Validator, jsonschema_rs.Validator | None]:
    """The fixture format's validators: jsonschema's, which says what is wrong, and the compiled fast yes."""
    with open(fixture_schema_path(), encoding="utf-8") as handle:
        schema = json.load(handle)
    resource = Resource.from_contents(schema, DRAFT202012)
    return (Draft202012Validator(schema, registry=contract.registry.with_resource(FIXTURE_URI, resource)),
            compiled_validator(schema, contract))


class FixtureLoader:
    """Checks fixture data against the fixture format (compiled once) and loads it into stores."""

    def __init__(self, contract: Contract) -> None:
        self._validator, self._compiled = contract.derived("fixture format", lambda: _fixture_validators(contract))

    def validate(self, source: FixtureSource) -> None:
        """Raise :class:`FixtureError` for the first problem of ``source``, naming file, record and field."""
        if self._compiled is not None and source.parsed:
            try:
                if self._compiled.is_valid(source.data):
                    return
            except ValueError:  # what JSON cannot hold: jsonschema says what
                pass
        validate(self._validator, source)

    def build(self, sources: Sequence[FixtureSource], seed: int, clock: Clock,
              tokens: AccessTokens | None = None) -> Store:
        """A new store holding every source's records, in order; ids and times left out are generated.
        ``tokens``: the server's access tokens (by default those of a server of ``seed``)."""
        store = Store(SeededRandom(seed), clock, tokens=tokens or AccessTokens.for_seed(seed))
        self.load_into(store, sources)
        return store

    def replace(self, store: Store, source: FixtureSource) -> Store:
        """A new store holding only ``source``'s records, continuing ``store``'s random sequence and clock."""
        fresh = Store(store.ctx.random.copy(), store.ctx.clock.copy(), store.ctx.quota.fresh(), store.ctx.tokens)
        self.load_into(fresh, [source])
        return fresh

    def load_into(self, store: Store, sources: Sequence[FixtureSource]) -> None:
        """Add every source's records to ``store``. Every source is checked against the format first; a
        record that breaks a rule of the data (a taken name, an unknown hub) stops the load part-way,
        so load into a copy of a store that must not be left half-changed."""
        for source in sources:
            self.validate(source)
        with _collector_paused():
            for section in SECTIONS:
                for source in sources:
                    for index, record in enumerate(source.data.get(section, ())):
                        try:
                            _add(store, section, record)
                        except ValueError as exc:
                            raise FixtureError(f"{source.origin}: {_label(section, index, record)}: {exc}") from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a large document is read or loaded: it makes no cycles, and the collector
    would walk the growing data again and again (a tenth of the load's time with 200,000 records)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


LOADERS: dict[str, Callable[[Store, Record], object]] = {
    "tenants": lambda store, record: store.add_tenant(record),
    "hubs": lambda store, record: store.load_hub(record),
    "integrations": lambda store, record: store.integrations.load(record),
    "transferCommands": lambda store, record: store.transfer_commands.load(record),
    "responseCommands": lambda store, record: store.response_commands.load(record),
    "integrationPoints": lambda store, record: store.points.load(record),
}
"""How each section's records enter a store, in load order: a record may refer only to earlier sections."""
SECTIONS = tuple(LOADERS)


def _add(store: Store, section: str, record: Record) -> None:
    try:
        LOADERS[section](store, record)
    except ApiError as exc:  # a taken name, id or code: the API's own sentence says which
        raise ValueError(str(exc)) from None


def dump(store: Store) -> dict[str, Any]:
    """The store in the fixture format; loading it back gives the same state."""
    return {
        "tenants": [{**tenant, "clients": store.identity.dump(tenant["tenantId"])}
                    for tenant in store.tenants.by_id.values()],
        "hubs": list(store.hubs.by_id.values()),
        "integrations": list(store.integrations.by_id.values()),
        "transferCommands": list(store.transfer_commands),
        "responseCommands": list(store.response_commands),
        "integrationPoints": list(store.points),
    }
