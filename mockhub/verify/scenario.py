"""The scenario's parts: a :class:`Step` is one named check; what it needs from earlier steps it names
by reference to them, and what it makes for later ones is what its action returns.

A step that needs something runs only once the steps it names have made it; otherwise it is skipped,
and the report names the step that should have made it. :func:`scenario` checks that each step comes
after the steps it needs; :func:`ask` and :func:`deleting` build the steps both APIs have alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

if TYPE_CHECKING:
    from mockhub.verify.probe import Probe

T = TypeVar("T")
Json = dict[str, Any]
"""A JSON object, as a step makes it (a hub, a page) for the steps after it."""
Action: TypeAlias = Callable[["Probe"], Awaitable[T | None]]
"""What a step does: send its requests through the probe and return what it makes (``None``: nothing)."""


@dataclass(frozen=True, eq=False)
class Step(Generic[T]):
    """A named check of the scenario: ``action`` sends its request and says what else it expects; what it
    returns (``None``: nothing) is kept for the later steps that name this one in their ``needs``."""

    group: str
    name: str
    action: Action[T]
    needs: tuple[Step[Any], ...] = ()
    """The steps whose results ``action`` reads (``probe.made(step)``) or that must have gone well first."""
    makes: str = ""
    """What ``action`` returns, in a word or two ("hub"), for the report of a step skipped without it."""
    schema: str = ""
    """The contract's schema what it returns must match to be kept (empty: kept as returned)."""
    other_tenant: bool = False
    """Needs ``--other-token``."""

    @property
    def api(self) -> str:
        return {"integration points": "era", "identity": "identity", "engine": "engine"}.get(self.group, "portal")

    def blocked(self, made: Callable[[Step[Any]], bool], other_token: str | None) -> str:
        """Why the step cannot run (empty when it can), given which steps ``made`` their result."""
        if self.other_tenant and other_token is None:
            return "give --other-token (a token of another tenant) to check 403"
        missing = next((need for need in self.needs if not made(need)), None)
        return f"needs the {missing.makes} that '{missing.name}' makes" if missing is not None else ""


def scenario(*steps: Step[Any]) -> tuple[Step[Any], ...]:
    """``steps`` in the order they run; ``ValueError`` if one needs a step that is not before it or makes
    nothing."""
    for at, step in enumerate(steps):
        for need in step.needs:
            if need not in steps[:at] or not need.makes:
                raise ValueError(f"'{step.name}' needs '{need.name}', which makes nothing before it")
    return steps


FORM: Mapping[str, Any] = MappingProxyType({"raw": b"name=x", "content_type": "application/x-www-form-urlencoded"})
"""A body that is not JSON."""


def ask(method: str, path: str, status: int, **request: Any) -> Action[None]:
    """A step that is one request and the answer the contract gives it: ``{missing}`` in ``path`` is a GUID
    that names nothing, ``{unique}`` a name of this run."""

    async def action(probe: Probe) -> None:
        await probe.call(method, path.format(missing=probe.missing_id, unique=probe.unique("nothing")), status,
                         **request)

    return action


def deleting(group: str, name: str, made: Step[Json], collection: str, key: str, status: int) -> Step[Json]:
    """A step that deletes what ``made`` made, answered ``status`` as documented; it makes the deleted one, for
    the steps that check it is gone."""

    async def action(probe: Probe) -> Json | None:
        gone = probe.made(made)
        path = f"{collection}/{gone[key]}"
        if (await probe.call("DELETE", path, status)).status != status:
            return None
        probe.deleted(path)
        return gone

    return Step(group, name, action, needs=(made,), makes=f"deleted {made.makes}")
