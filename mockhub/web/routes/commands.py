"""Portal API: transfer commands and response commands of a hub (Portal docs, Transfer Commands and Response
Commands; decisions.md, Commands). The five operations of each kind are the same calls on its store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from mockhub.store import Store
from mockhub.store.commands import CommandStore
from mockhub.web.endpoint import Call
from mockhub.web.rendering import json_response


@dataclass(frozen=True)
class CommandRoutes:
    """The handlers of one kind of command."""

    commands: Callable[[Store], CommandStore]
    """The session's store of the kind."""
    checked_whole: tuple[str, str] | None = None
    """For a kind whose fields must agree (a response command's type and responses): the contract's schemas of
    an update's body and of a whole command. The operation leaves the body to the handler
    (``x-mockhub-body-checked-by-handler``), which checks it, then the command as the update would leave it."""

    def create(self, call: Call) -> web.Response:
        return json_response(self.commands(call.store).create(call.tenant_id, call.path["id"], call.body))

    def get(self, call: Call) -> web.Response:
        return json_response(self.commands(call.store).get(call.tenant_id, call.path["id"]))

    def update(self, call: Call) -> web.Response:
        commands = self.commands(call.store)
        if self.checked_whole is not None:
            update_schema, whole_schema = self.checked_whole
            call.contract.check(update_schema, call.body)
            old = commands.get(call.tenant_id, call.path["id"])
            call.contract.check(whole_schema, commands.kind.body_of(old, call.body))
        return json_response(commands.update(call.tenant_id, call.path["id"], call.body))

    def delete(self, call: Call) -> web.Response:
        return json_response(self.commands(call.store).delete(call.tenant_id, call.path["id"]))

    def of_hub(self, call: Call) -> web.Response:
        return json_response(self.commands(call.store).of_hub(call.tenant_id, call.path["hubId"]))


TRANSFER = CommandRoutes(lambda store: store.transfer_commands)
RESPONSE = CommandRoutes(lambda store: store.response_commands, ("ResponseCommandUpdate", "ResponseCommandCreate"))
