"""The one request matcher, shared by fault rules, overrides and ``assert_called``.

A :class:`Matcher` names what a request must have: a method, a path (exact, or a glob
when it holds ``*``, ``?`` or ``[``), query parameters, headers (names in any case) and a
JSON body. Query, headers and body are subsets: the request may carry more. A body subset
holds when every key it names has an equal value in the request's body, recursively;
arrays must have the same length and match element by element. Matching says why it
failed (``query pageSize: expected '10', got '50'``), so a near miss explains itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiMapping

from mockhub.kernel import jsonio

GLOB_CHARACTERS = "*?["
MAX_SHOWN = 64
_ABSENT: Any = object()
"""A body the matcher does not look at (``None`` is the JSON body ``null``)."""
_NOT_JSON: Any = object()


def is_glob(path: str) -> bool:
    """Whether a rule's path is a glob rather than an exact path."""
    return any(c in path for c in GLOB_CHARACTERS)


def _shown(value: Any) -> str:
    """A value as a difference quotes it: text in quotes, other JSON as it is written; cut short if long."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 3] + "..."
    return repr(text) if isinstance(value, str) else text


def _query_text(value: Any) -> str:
    """A query value as it travels in a URL: ``10``, ``true``, text as it is."""
    return value if isinstance(value, str) else json.dumps(value)


class RequestFacts:
    """What a matcher looks at in one request; the body is parsed as JSON once, when first asked."""

    __slots__ = ("method", "path", "query", "headers", "body", "_json")

    def __init__(self, method: str, path: str, query: MultiMapping[str] | str = "",
                 headers: Mapping[str, str] | None = None, body: bytes = b"") -> None:
        self.method = method
        self.path = path
        self.query: MultiMapping[str] = (
            MultiDict(parse_qsl(query, keep_blank_values=True)) if isinstance(query, str) else query)
        self.headers: MultiMapping[str] = (
            headers if isinstance(headers, (CIMultiDict, CIMultiDictProxy)) else CIMultiDict(headers or {}))
        self.body = body
        self._json: Any = _ABSENT

    def json(self) -> Any:
        """The body as JSON, or a marker that it is not JSON (empty bodies are not)."""
        if self._json is _ABSENT:
            try:
                self._json = jsonio.loads(self.body) if self.body.strip() else _NOT_JSON
            except (jsonio.JsonError, UnicodeDecodeError):
                self._json = _NOT_JSON
        return self._json


def body_differences(expected: Any, actual: Any, where: str = "body") -> Iterator[str]:
    """Every way ``actual`` fails to contain ``expected`` (see the module docstring), each naming its path."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            yield f"{where}: expected an object, got {_shown(actual)}"
            return
        for key, value in expected.items():
            if key not in actual:
                yield f"{where}.{key}: missing (expected {_shown(value)})"
            else:
                yield from body_differences(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            yield f"{where}: expected {_shown(expected)}, got {_shown(actual)}"
            return
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            yield from body_differences(want, got, f"{where}[{index}]")
    elif not _same(expected, actual):
        yield f"{where}: expected {_shown(expected)}, got {_shown(actual)}"


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):  # JSON true is not the number 1
        return expected is actual
    return bool(expected == actual)


@dataclass(frozen=True)
class Matcher:
    """What a request must have; every part is optional (an empty matcher matches every request)."""

    method: str | None = None
    path: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = field(default=_ABSENT)
    glob: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)
    """The path as a compiled glob (once, here: matching never compiles), or ``None`` for an exact path."""

    def __post_init__(self) -> None:
        if self.path is not None and is_glob(self.path):
            object.__setattr__(self, "glob", re.compile(translate(self.path)))

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Matcher:
        """The matcher of a rule's ``method``, ``path``, ``query``, ``headers`` and ``body`` (all optional)."""
        return cls(
            method=value["method"].upper() if value.get("method") is not None else None,
            path=value.get("path"),
            query=tuple((name, _query_text(v)) for name, v in (value.get("query") or {}).items()),
            headers=tuple((name, str(v)) for name, v in (value.get("headers") or {}).items()),
            body=value.get("body", _ABSENT),
        )

    def to_json(self) -> dict[str, Any]:
        """The parts given, as :meth:`from_json` reads them."""
        out: dict[str, Any] = {}
        if self.method is not None:
            out["method"] = self.method
        if self.path is not None:
            out["path"] = self.path
        if self.query:
            out["query"] = dict(self.query)
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.body is not _ABSENT:
            out["body"] = self.body
        return out

    @property
    def needs_body(self) -> bool:
        """Whether matching reads the request body (the server then reads it before answering)."""
        return self.body is not _ABSENT

    def match(self, request: RequestFacts) -> tuple[bool, str]:
        """``(True, "")``, or ``(False, why)`` naming the first part that differs."""
        for reason in self.differences(request):
            return False, reason
        return True, ""

    def matches(self, request: RequestFacts) -> bool:
        return next(self.differences(request), None) is None

    def differences(self, request: RequestFacts) -> Iterator[str]:
        """Every part of the request that differs, method and path first, each in a few words."""
        if self.method is not None and self.method != request.method:
            yield f"method: expected {self.method}, got {request.method}"
        if self.path is not None and self.path != request.path and not (
                self.glob is not None and self.glob.match(request.path)):
            yield f"path: expected {self.path}, got {request.path}"
        for name, want in self.query:
            given = request.query.getall(name, ())
            if want not in given:
                got = ", ".join(map(_shown, given)) if given else "nothing"
                yield f"query {name}: expected {_shown(want)}, got {got}"
        for name, want in self.headers:
            given = [v.strip() for v in request.headers.getall(name, ())]
            if want.strip() not in given:
                got = ", ".join(map(_shown, given)) if given else "nothing"
                yield f"header {name}: expected {_shown(want)}, got {got}"
        if self.body is not _ABSENT:
            actual = request.json()
            if actual is _NOT_JSON:
                yield f"body: expected JSON, got {'a body that is not JSON' if request.body.strip() else 'no body'}"
            else:
                yield from body_differences(self.body, actual)


__all__ = ["Matcher", "RequestFacts", "body_differences", "is_glob"]
