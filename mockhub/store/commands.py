"""Commands of a hub: transfer commands and response commands (Portal docs, Transfer Commands and Response
Commands; decisions.md, Commands).

A command belongs to a hub and, through it, to the hub's tenant, as an integration does. Each kind
has a store of its own: a name is unique among a hub's commands of that kind (case-insensitively),
an update changes only what it gives, and deleting a hub removes its commands
(:meth:`CommandStore.remove_hub`). The contract has checked each body, a response command's
responses against its type included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockhub.kernel.errors import CommandNameTaken, CommandNotFound, Forbidden
from mockhub.store.context import Context
from mockhub.store.hubs import HubStore, lowered
from mockhub.store.layered import IdsByOwner
from mockhub.store.names import UniqueNames
from mockhub.store.paging import Layered, Record

MANDATORY = None
"""The default of a field a create must give (the contract requires it)."""


@dataclass(frozen=True)
class CommandKind:
    """A kind of command: what messages call it, and its fields in the documented order with their defaults."""

    noun: str
    fields: tuple[tuple[str, Any], ...]
    """Each field and its default (:data:`MANDATORY`: none, the create gives it)."""

    def record(self, command_id: str, hub_id: str, given: Mapping[str, Any]) -> Record:
        """A complete command in the documented key order, with the documented defaults."""
        record: Record = {"commandId": command_id, "hubId": hub_id}
        for name, default in self.fields:
            record[name] = given[name] if default is MANDATORY else given.get(name, default)
        return record

    def body_of(self, command: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        """The create body that makes ``command`` as ``changes`` leave it: a partial update checked whole."""
        return {name: changes.get(name, command[name]) for name, _ in self.fields}


TRANSFER = CommandKind("transfer command", (
    ("name", MANDATORY), ("description", ""), ("url", MANDATORY), ("linkDescription", MANDATORY), ("mountDelay", 0),
))
"""Portal docs, Transfer Commands > Create: mountDelay is 0 when not given; description is answered "" then."""
RESPONSE = CommandKind("response command", (
    ("name", MANDATORY), ("category", ""), ("description", ""), ("integrationTypeId", MANDATORY),
    ("type", MANDATORY), ("responses", MANDATORY),
))
"""Portal docs, Response Commands > Create; category and description are answered "" when not given."""


class CommandStore:
    """One kind's commands by id and per hub in creation order, names unique per hub (case-insensitive).

    A command's tenant is its hub's; every stored command has its hub (deleting a hub calls
    :meth:`remove_hub`).
    """

    __slots__ = ("kind", "_ctx", "_hubs", "by_id", "_by_hub", "_names")

    def __init__(self, kind: CommandKind, ctx: Context, hubs: HubStore) -> None:
        self.kind = kind
        self._ctx = ctx
        self._hubs = hubs
        self.by_id: Layered[str, Record] = Layered()
        self._by_hub: IdsByOwner[str, str] = IdsByOwner()
        self._names = UniqueNames()

    def copy(self, ctx: Context, hubs: HubStore) -> CommandStore:
        """An independent copy in O(1): the copies share what neither has changed."""
        clone = CommandStore(self.kind, ctx, hubs)
        clone.by_id = self.by_id.copy()
        clone._by_hub = self._by_hub.copy()
        clone._names = self._names.copy()
        return clone

    def __iter__(self) -> Iterator[Record]:
        """Every command, in creation order (for a dump: loading it again gives each hub's commands in order)."""
        return self.by_id.values()

    def get(self, tenant_id: str, command_id: str) -> Record:
        """The command, or 404 PRT000105 if absent, 403 PRT000101 if another tenant's."""
        command = self.by_id.get(command_id.lower())
        if command is None:
            raise CommandNotFound(f"No {self.kind.noun} '{command_id}' exists.")
        if self._hubs.by_id[command["hubId"]]["tenantId"] != tenant_id:
            raise Forbidden(f"The {self.kind.noun} '{command_id}' belongs to another tenant.")
        return command

    def create(self, tenant_id: str, hub_id: str, body: Mapping[str, Any]) -> Record:
        """A new command in the tenant's hub (404 PRT000699 / 403 PRT000101 for another), from a checked body."""
        hub = self._hubs.get(tenant_id, hub_id)
        self._check_name(hub["hubId"], body["name"], None)
        command = self.kind.record(self._ctx.new_id(self.by_id), hub["hubId"], body)
        self._add(command)
        self._ctx.clock.tick()
        return command

    def load(self, record: Mapping[str, Any]) -> Record:
        """A command from a fixture record: like :meth:`create`, but the id may be given."""
        hub = self._hubs.by_id.get(record["hubId"].lower())
        if hub is None:
            raise ValueError(f"hub {record['hubId']} is not defined in 'hubs'")
        given = record.get("commandId")
        command_id = lowered(given) if given else self._ctx.new_id(self.by_id)
        if command_id in self.by_id:
            raise ValueError(f"{self.kind.noun} {command_id} is defined twice")
        self._check_name(hub["hubId"], record["name"], None)
        command = self.kind.record(command_id, hub["hubId"], record)
        self._add(command)
        return command

    def _add(self, command: Record) -> None:
        """Store a complete command whose name was checked; its hub must be stored."""
        self._ctx.quota.charge(command, None, False)
        self.by_id[command["commandId"]] = command
        self._by_hub.changing(command["hubId"]).add(command["commandId"])
        self._names.claim(command["hubId"], command["name"], command["commandId"])

    def update(self, tenant_id: str, command_id: str, body: Mapping[str, Any]) -> Record:
        """Change the fields ``body`` gives and keep the others (decisions.md, Commands: a partial update)."""
        old = self.get(tenant_id, command_id)
        name = body.get("name", old["name"])
        if name != old["name"]:
            self._check_name(old["hubId"], name, old["commandId"])
        command = self.kind.record(old["commandId"], old["hubId"], self.kind.body_of(old, body))
        self._ctx.quota.charge(command, old, self.by_id.owns(old["commandId"]))
        self.by_id[old["commandId"]] = command
        self._names.rename(old["hubId"], old["name"], name, old["commandId"])
        self._ctx.clock.tick()
        return command

    def delete(self, tenant_id: str, command_id: str) -> Record:
        """Remove the command; its name is free again."""
        command = self.get(tenant_id, command_id)
        self._forget(command)
        self._by_hub.changing(command["hubId"]).remove(command["commandId"])
        self._ctx.clock.tick()
        return command

    def of_hub(self, tenant_id: str, hub_id: str) -> list[Record]:
        """The tenant's hub's commands (404 PRT000699 / 403 PRT000101 for another hub), in creation order."""
        ids = self._by_hub.get(self._hubs.get(tenant_id, hub_id)["hubId"])
        return self.by_id.many(ids) if ids is not None else []

    def remove_hub(self, hub: Record) -> None:
        """Remove every command of a deleted hub (decisions.md, Commands: they go with their hub)."""
        for command_id in self._by_hub.pop(hub["hubId"]) or ():
            self._forget(self.by_id[command_id])

    def _forget(self, command: Record) -> None:
        """Drop a command from the id map and the names (the caller handles its hub's ids)."""
        self._ctx.quota.charge(None, command, self.by_id.owns(command["commandId"]))
        del self.by_id[command["commandId"]]
        self._names.release(command["hubId"], command["name"])

    def _check_name(self, hub_id: str, name: str, own_id: str | None) -> None:
        if self._names.taken(hub_id, name, own_id):
            raise CommandNameTaken(f"The hub already has a {self.kind.noun} named '{name}'.")
