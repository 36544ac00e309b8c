"""Era integration points: the rules of /rest/v1/service/integration_points (decisions.md, Integration points).

Points are kept by id in creation order, with indexes by ``code`` and ``token_local`` so
that LOOKUP and the uniqueness checks never scan. Listing pages through the creation
order directly unless a filter or an order needs to look at every point.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from itertools import islice
from typing import Any

from mockhub.kernel.clock import era_time
from mockhub.kernel.errors import LookupFailed, PointCodeTaken, PointIdTaken, PointNotFound, Problem, ValidationFailed
from mockhub.kernel.text import shown
from mockhub.store.context import Context
from mockhub.store.paging import Layered, OrderedIds, Record

TEXT_FIELDS = ("token_remote", "token_remote2", "url", "recv_svcscriptcode", "recv_svcscriptcode_ws",
               "send_svcscriptcode", "send_svcscriptcode_ws")
"""The string fields a create may leave out; they default to "" (decisions.md, Integration points)."""
_BLANKS = ("",) * len(TEXT_FIELDS)
FIELDS = ("id", "code", "type", "token_local", *TEXT_FIELDS, "opts", "ext")
"""Every field, in the order of Era docs, integration_points examples, which is the order of every body."""
COMPOSITE: Mapping[str, tuple[str, ...]] = {
    "opts": ("title", "comment", "allow_files_api", "issync", "recv_timeout", "roles", "userid"),
    "ext": ("ct", "lwt"),
}
"""The object fields and their members (the contract's IntegrationPointOpts and ext)."""
NAMES = (*FIELDS, *(f"{parent}.{member}" for parent, members in COMPOSITE.items() for member in members))
"""Every name ``mask``, ``order`` and ``filter`` accept; nested ones dotted."""
DEFAULT_OPTS: dict[str, Any] = {"title": "", "comment": "", "allow_files_api": False, "issync": False}
"""The opts of a point created without them (Era docs, examples); given opts are merged into these."""
TOKEN_LENGTH = 32


def _name_problem(name: str, param: str, leaves_only: bool) -> Problem | None:
    """Why ``name`` cannot be used in ``param``, or ``None`` when it can."""
    if name not in NAMES:
        # the docs' field list spells token_local "tokenlocal": point such a reader at the real name
        guess = get_close_matches(name, NAMES, n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else "."
        return Problem(206, f"Field '{shown(name)}' of '{param}' is not a field of an integration point{hint}")
    if leaves_only and name in COMPOSITE:
        return Problem(206, f"Field '{name}' of '{param}' is an object; name one of its fields, "
                            f"e.g. '{name}.{COMPOSITE[name][0]}'.")
    return None


def _path(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))


def _value(point: Record, path: tuple[str, ...]) -> Any:
    """The value at a field path; ``None`` when the point has no such field."""
    value: Any = point
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _rank(value: Any) -> tuple[int, Any]:
    """A sort key that orders any JSON values: missing first, then booleans, numbers, strings, the rest."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, json.dumps(value, sort_keys=True))


def _sort_key(path: tuple[str, ...]) -> Callable[[Record], tuple[int, Any]]:
    return lambda point: _rank(_value(point, path))


def _equal(stored: Any, wanted: Any) -> bool:
    """JSON equality: ``false`` is not ``0`` (Python's ``False == 0`` would say it is)."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return stored is wanted
    return bool(stored == wanted)


@dataclass(frozen=True, slots=True)
class View:
    """How points are written out (decisions.md, Integration points): every field or the masked ones, nested or flat."""

    fields: frozenset[str] | None
    """Top-level fields output whole; ``None`` outputs every field."""
    members: Mapping[str, frozenset[str]]
    """For ``opts.title``-style names: the members of each object field to output."""
    flat: bool

    @classmethod
    def parse(cls, mask: str | None, flat: bool, problems: list[Problem]) -> View:
        """The view a ``mask`` (checked for syntax by the contract) asks for; unknown names go to ``problems``."""
        if mask is None:
            return cls(None, {}, flat)
        fields: set[str] = set()
        members: dict[str, set[str]] = {}
        for name in (part.strip() for part in mask.split(",")):
            problem = _name_problem(name, "mask", leaves_only=False)
            if problem is not None:
                problems.append(problem)
                continue
            parent, _, member = name.partition(".")
            if member:
                members.setdefault(parent, set()).add(member)
            else:
                fields.add(name)
        return cls(frozenset(fields), {k: frozenset(v) for k, v in members.items()}, flat)

    def render(self, point: Record) -> Record:
        """The point as this view shows it; keys keep the entity's order."""
        if self.fields is not None:
            shown_fields: Record = {}
            for key, value in point.items():
                if key in self.fields:
                    shown_fields[key] = value
                elif key in self.members:
                    wanted = self.members[key]
                    part = {k: v for k, v in value.items() if k in wanted}
                    if part:
                        shown_fields[key] = part
            point = shown_fields
        if not self.flat:
            return point
        flat: Record = {}
        for key, value in point.items():
            if key in COMPOSITE:
                for member, member_value in value.items():
                    flat[f"{key}.{member}"] = member_value
            else:
                flat[key] = value
        return flat


def _order_keys(order: list[Any], problems: list[Problem]) -> list[tuple[tuple[str, ...], bool]]:
    """``["-code", {"opts.title": "asc"}]`` (checked for shape by the contract) as (path, descending) pairs."""
    keys = []
    for item in order:
        if isinstance(item, str):
            name, descending = item.removeprefix("-"), item.startswith("-")
        else:
            [(name, direction)] = item.items()
            descending = direction == "desc"
        problem = _name_problem(name, "order", leaves_only=True)
        if problem is not None:
            problems.append(problem)
        else:
            keys.append((_path(name), descending))
    return keys


def _conditions(filter_: Mapping[str, Any], problems: list[Problem]) -> list[tuple[tuple[str, ...], Any]]:
    """``{"type": "public", "opts.issync": false}`` as (path, value) pairs to compare for equality."""
    conditions = []
    for name, value in filter_.items():
        problem = _name_problem(name, "filter", leaves_only=True)
        if problem is not None:
            problems.append(problem)
            continue
        # ids are GUIDs, stored lower-case: compare them as the path and LOOKUP do, ignoring case
        conditions.append((_path(name), value.lower() if name == "id" and isinstance(value, str) else value))
    return conditions


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems=tuple(problems))


class PointStore:
    """Integration points by id in creation order; ``code`` and ``token_local`` unique and indexed."""

    __slots__ = ("_ctx", "by_id", "_order", "_codes", "_tokens", "_last_ext")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.by_id: Layered[str, Record] = Layered()
        self._order: OrderedIds[str] = OrderedIds()
        self._codes: Layered[str, str] = Layered()
        self._tokens: Layered[str, str] = Layered()
        self._last_ext: Record = {"ct": None, "lwt": None}
        """The ``ext`` of the point made last, shared by the next one made at the same times (records are never
        changed in place): a bulk load makes many in one centisecond (100,000 points: some 30 MB less)."""

    def copy(self, ctx: Context) -> PointStore:
        """An independent copy in O(1): the copies share what neither has changed."""
        clone = PointStore(ctx)
        clone.by_id = self.by_id.copy()
        clone._order = self._order.copy()
        clone._codes = self._codes.copy()
        clone._tokens = self._tokens.copy()
        return clone

    def __iter__(self) -> Iterator[Record]:
        """Every point, in creation order."""
        lookup = self.by_id.reader()
        return (lookup(i) for i in self._order)

    def get(self, point_id: str) -> Record:
        """The point (ids are case-insensitive), or 404 (1404)."""
        point = self.by_id.get(point_id.lower())
        if point is None:
            raise PointNotFound(f"Integration point '{point_id}' not found.")
        return point

    def read(self, point_id: str, mask: str | None, flat: bool) -> Record:
        """GET one: the point as ``mask`` and ``flat`` show it."""
        problems: list[Problem] = []
        view = View.parse(mask, flat, problems)
        _raise_if(problems)
        return view.render(self.get(point_id))

    def query(self, offset: int, limit: int, mask: str | None, flat: bool, order: list[Any] | None,
              filter_: Mapping[str, Any] | None) -> list[Record]:
        """GET list: filter, order (creation order by default), then ``offset``/``limit``.

        Without a filter or an order the page is a slice of the creation order, so it costs
        O(limit) however many points there are.
        """
        problems: list[Problem] = []
        view = View.parse(mask, flat, problems)
        keys = _order_keys(order or [], problems)
        conditions = _conditions(filter_ or {}, problems)
        _raise_if(problems)
        if not keys and not conditions:
            return [view.render(point) for point in self.by_id.many(self._order.slice(offset, limit))]
        points: Iterator[Record] = iter(self)
        if conditions:
            points = (p for p in points if all(_equal(_value(p, path), wanted) for path, wanted in conditions))
        if keys:
            ordered = list(points)
            # stable sorts, last key first: the first key decides, ties fall to the next, then creation order
            for path, descending in reversed(keys):
                ordered.sort(key=_sort_key(path), reverse=descending)
            page = ordered[offset:offset + limit]
        else:
            page = list(islice(points, offset, offset + limit))
        return [view.render(p) for p in page]

    def create(self, body: Mapping[str, Any]) -> Record:
        """POST: a new point from a checked body; token_local and ext are made here."""
        return self._insert(body, None, None)

    def load(self, record: Mapping[str, Any]) -> Record:
        """A point from a fixture record: like :meth:`create`, but token_local and ext may be given."""
        token = record.get("token_local")
        if token is not None and token in self._tokens:
            raise ValueError(f"token_local {token} is already used by integration point {self._tokens[token]}")
        given = record.get("ext", {})
        ext = None
        if given:
            ct = given.get("ct") or given["lwt"]
            ext = self._ext(ct, given.get("lwt", ct))
        return self._insert(record, token, ext)

    def update(self, point_id: str, body: Mapping[str, Any]) -> Record:
        """PATCH: the given fields replace the stored ones, opts merged key by key; ``ext.lwt`` moves on."""
        old = self.get(point_id)
        changes = {k: v for k, v in body.items() if k != "opts"}
        code: str = body["code"] if "code" in body else old["code"]
        if code != old["code"]:
            self._check_code(code)
        point = {
            **old,
            **changes,
            "opts": {**old["opts"], **body.get("opts", {})},
            "ext": {"ct": old["ext"]["ct"], "lwt": era_time(self._ctx.clock.tick())},
        }
        self._ctx.quota.charge(point, old, self.by_id.owns(old["id"]))
        self.by_id[old["id"]] = point
        if code != old["code"]:
            del self._codes[old["code"]]
            self._codes[code] = old["id"]
        return point

    def delete(self, point_id: str) -> None:
        point = self.get(point_id)
        self._ctx.quota.charge(None, point, self.by_id.owns(point["id"]))
        del self.by_id[point["id"]]
        self._order.remove(point["id"])
        del self._codes[point["code"]]
        del self._tokens[point["token_local"]]
        self._ctx.clock.tick()

    def code_taken(self, code: str) -> bool:
        return code in self._codes

    def lookup(self, key: str) -> list[str]:
        """LOOKUP: ids of the points whose id (any case), code or token_local is ``key``; else 404."""
        as_id = key.lower()
        found = (as_id if as_id in self.by_id else None, self._codes.get(key), self._tokens.get(key))
        ids = list(dict.fromkeys(i for i in found if i is not None))
        if not ids:
            raise LookupFailed()
        return ids

    def _insert(self, fields: Mapping[str, Any], token: str | None, ext: Record | None) -> Record:
        given_id = fields.get("id")
        if given_id is not None and given_id.lower() in self.by_id:
            raise PointIdTaken(f"Integration point '{given_id.lower()}' already exists.")
        self._check_code(fields["code"])
        point_id = given_id.lower() if given_id is not None else self._ctx.new_id(self.by_id)
        if token is None:
            token = self._new_token()
        if ext is None:
            now = era_time(self._ctx.clock.tick())
            ext = self._ext(now, now)
        # the type is one of a few words: one string for all (a bulk load's records would each have their own)
        point = {"id": point_id, "code": fields["code"], "type": sys.intern(fields["type"]), "token_local": token}
        point.update(zip(TEXT_FIELDS, map(fields.get, TEXT_FIELDS, _BLANKS), strict=True))  # "" unless given
        # Records are never changed in place, so every point without opts shares the defaults.
        point["opts"] = {**DEFAULT_OPTS, **fields["opts"]} if fields.get("opts") else DEFAULT_OPTS
        point["ext"] = ext
        self._ctx.quota.charge(point, None, False)
        self.by_id[point_id] = point
        self._order.add(point_id)
        self._codes[point["code"]] = point_id
        self._tokens[token] = point_id
        return point

    def _ext(self, ct: str, lwt: str) -> Record:
        """``{"ct": ct, "lwt": lwt}``, the last point's own when it has the same times."""
        last = self._last_ext
        if last["ct"] != ct or last["lwt"] != lwt:
            last = self._last_ext = {"ct": ct, "lwt": lwt}
        return last

    def _check_code(self, code: str) -> None:
        holder = self._codes.get(code)
        if holder is not None:
            raise PointCodeTaken(f"Code '{shown(code)}' is already used by integration point '{holder}'.")

    def _new_token(self) -> str:
        while (token := self._ctx.random.hex(TOKEN_LENGTH)) in self._tokens:
            pass
        return token
