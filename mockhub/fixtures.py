"""Fixture files: validated on load against contracts/fixtures.schema.json, dumped back the same way.

A bad file stops start-up with one message naming the file, the record and the field
(SPEC section 5).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from mockhub import jsonio
from mockhub.clock import Clock, portal_time
from mockhub.contracts import Contract, collect_problems
from mockhub.errors import ApiError
from mockhub.randomness import SeededRandom
from mockhub.resources import fixture_schema_path
from mockhub.store import Record, Store
from mockhub.store.hubs import ACTIVE
from mockhub.store.integrations import ACTIVE as INTEGRATION_ACTIVE
from mockhub.store.integrations import channel_of, configured, integration_record

FIXTURE_URI = "urn:mockhub:fixtures"
SECTIONS = ("tenants", "hubs", "integrations", "integrationPoints")
"""Sections in load order: a record may refer only to records of earlier sections."""


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file, the record and the field."""


@dataclass(frozen=True)
class FixtureSource:
    """Fixture data and where it came from (a file name, or a description such as 'PUT /__mockhub/state')."""

    origin: str
    data: Any

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


def fixture_validator(contract: Contract) -> Draft202012Validator:
    """The fixture-format validator; its field rules are the contract's."""
    with open(fixture_schema_path(), encoding="utf-8") as handle:
        schema = json.load(handle)
    registry = contract.registry.with_resource(FIXTURE_URI, Resource.from_contents(schema, DRAFT202012))
    return Draft202012Validator(schema, registry=registry)


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


def build_store(sources: Sequence[FixtureSource], contract: Contract, seed: int, clock: Clock) -> Store:
    """A store holding every source's records, in order; ids and times left out are generated."""
    store = Store(SeededRandom(seed), clock)
    load_into(store, sources, contract)
    return store


def load_into(store: Store, sources: Sequence[FixtureSource], contract: Contract) -> None:
    """Add every source's records to ``store``; all are validated before any is added."""
    validator = fixture_validator(contract)
    for source in sources:
        validate(validator, source)
    for section in SECTIONS:
        for source in sources:
            for index, record in enumerate(source.data.get(section, ())):
                try:
                    _add(store, section, record)
                except ValueError as exc:
                    raise FixtureError(f"{source.origin}: {_label(section, index, record)}: {exc}") from None


def _add(store: Store, section: str, record: dict[str, Any]) -> None:
    if section == "integrationPoints":
        try:
            store.points.load(record)
        except ApiError as exc:  # a taken id or code: the API's own sentence says which
            raise ValueError(str(exc)) from None
        return
    if section == "tenants":
        store.tenants.add({"tenantId": record["tenantId"].lower(), "name": record.get("name", ""),
                           "tokens": list(record["tokens"])})
        return
    if section == "integrations":
        _add_integration(store, record)
        return
    if record["tenantId"].lower() not in store.tenants.by_id:
        raise ValueError(f"tenant {record['tenantId']} is not defined in 'tenants'")
    created = record.get("created") or portal_time(store.ctx.clock.tick())
    hub = {
        "hubId": (record.get("hubId") or store.ctx.random.uuid()).lower(),
        "tenantId": record["tenantId"].lower(),
        "name": record["name"],
        "description": record["description"],
        "closeDormantConversation": record.get("closeDormantConversation", 0),
        "statusId": record.get("statusId", ACTIVE),
        "created": created,
        "modified": record.get("modified", created),
    }
    _put(store.hubs.add, store.hubs.by_id, hub, "hub", hub["hubId"])


def _add_integration(store: Store, record: dict[str, Any]) -> None:
    hub = store.hubs.by_id.get(record["hubId"].lower())
    if hub is None:
        raise ValueError(f"hub {record['hubId']} is not defined in 'hubs'")
    channel = channel_of(record["channelId"])
    created = record.get("created") or portal_time(store.ctx.clock.tick())
    integration = integration_record(
        integration_id=(record.get("integrationId") or store.ctx.random.uuid()).lower(), hub_id=hub["hubId"],
        channel=channel, name=record["name"], status_id=record.get("statusId", INTEGRATION_ACTIVE),
        configuration=configured(channel, record["configuration"], store.ctx.random),
        created=created, modified=record.get("modified", created),
    )
    # Derived fields may be given (a dump has them) but must be what the server derives.
    for key in ("integrationTypeId", "inboundId"):
        if key in record and record[key] != integration.get(key):
            derived = repr(integration[key]) if key in integration else "none for this channel"
            raise ValueError(f"{key} {record[key]!r} does not fit the channel and configuration (derived: {derived})")
    _put(store.integrations.add, store.integrations.by_id, integration, "integration", integration["integrationId"])


def _put(add: Callable[[Record], None], stored: Mapping[str, Record], record: Record, kind: str,
         record_id: str) -> None:
    """Add a complete record; a second record with its id, or a taken name, is the file's error."""
    if record_id in stored:
        raise ValueError(f"{kind} {record_id} is defined twice")
    try:
        add(record)
    except ApiError as exc:  # a taken name: the API's own sentence says which
        raise ValueError(str(exc)) from None


def dump(store: Store) -> dict[str, Any]:
    """The store in the fixture format; loading it back gives the same state."""
    return {
        "tenants": list(store.tenants.by_id.values()),
        "hubs": list(store.hubs.by_id.values()),
        "integrations": list(store.integrations.by_id.values()),
        "integrationPoints": list(store.points),
    }
