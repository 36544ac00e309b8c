"""Fixture files: validated on load against contracts/fixtures.schema.json, dumped back the same way.

A bad file stops start-up with one message naming the file, the record and the field
(decisions.md, Data).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from mockhub.contract.contracts import Contract
from mockhub.contract.problems import collect_problems
from mockhub.engine import jsonio
from mockhub.engine.clock import Clock
from mockhub.engine.errors import ApiError
from mockhub.engine.randomness import SeededRandom
from mockhub.resources import fixture_schema_path
from mockhub.store import Record, Store

FIXTURE_URI = "urn:mockhub:fixtures"


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file, the record and the field."""


@dataclass(frozen=True)
class FixtureSource:
    """Fixture data and where it came from (a file name, or a description such as 'PUT /__mockhub/state')."""

    origin: str
    data: Any

    @classmethod
    def of(cls, origin: str, data: Any) -> FixtureSource:
        """Fixture data given in Python: copied, so that the caller's later changes reach no record."""
        return cls(origin, copy.deepcopy(data))

    @classmethod
    def read(cls, path: Path) -> FixtureSource:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise FixtureError(f"{path}: cannot read the file: {exc.strerror}") from None
        try:
            return cls(str(path), jsonio.loads(raw))
        except jsonio.JsonError as exc:
            raise FixtureError(f"{path}: not valid JSON: {exc}") from None


def _label(section: str, index: int, record: Any) -> str:
    label = f"{section}[{index}]"
    if isinstance(record, dict):
        keys = {"integrations": ("integrationId", "name"), "integrationPoints": ("code", "id")}.get(
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
                                        ".".join(map(str, path[2:])))
            detail = problems[0].message if problems else error.message
            raise FixtureError(f"{source.origin}: {_label(section, index, record)}: {detail}")
        where = ".".join(map(str, path)) or "top level"
        raise FixtureError(f"{source.origin}: {where}: {error.message}")


class FixtureLoader:
    """Checks fixture data against the fixture format (compiled once) and loads it into stores."""

    def __init__(self, contract: Contract) -> None:
        with open(fixture_schema_path(), encoding="utf-8") as handle:
            schema = json.load(handle)
        resource = Resource.from_contents(schema, DRAFT202012)
        self._validator = Draft202012Validator(schema, registry=contract.registry.with_resource(FIXTURE_URI, resource))

    def build(self, sources: Sequence[FixtureSource], seed: int, clock: Clock) -> Store:
        """A new store holding every source's records, in order; ids and times left out are generated."""
        store = Store(SeededRandom(seed), clock)
        self.load_into(store, sources)
        return store

    def replace(self, store: Store, source: FixtureSource) -> Store:
        """A new store holding only ``source``'s records, continuing ``store``'s random sequence and clock."""
        fresh = Store(store.ctx.random.copy(), store.ctx.clock.copy(), store.ctx.quota.fresh())
        self.load_into(fresh, [source])
        return fresh

    def load_into(self, store: Store, sources: Sequence[FixtureSource]) -> None:
        """Add every source's records to ``store``. Every source is checked against the format first; a
        record that breaks a rule of the data (a taken name, an unknown hub) stops the load part-way,
        so load into a copy of a store that must not be left half-changed."""
        for source in sources:
            validate(self._validator, source)
        for section in SECTIONS:
            for source in sources:
                for index, record in enumerate(source.data.get(section, ())):
                    try:
                        _add(store, section, record)
                    except ValueError as exc:
                        raise FixtureError(f"{source.origin}: {_label(section, index, record)}: {exc}") from None


def _load_tenant(store: Store, record: Record) -> None:
    tenant = {"tenantId": record["tenantId"].lower(), "name": record.get("name", ""), "tokens": list(record["tokens"])}
    store.ctx.quota.charge(tenant, None, False)
    store.tenants.add(tenant)


LOADERS: dict[str, Callable[[Store, Record], object]] = {
    "tenants": _load_tenant,
    "hubs": lambda store, record: store.hubs.load(record, store.tenants),
    "integrations": lambda store, record: store.integrations.load(record),
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
        "tenants": list(store.tenants.by_id.values()),
        "hubs": list(store.hubs.by_id.values()),
        "integrations": list(store.integrations.by_id.values()),
        "integrationPoints": list(store.points),
    }
