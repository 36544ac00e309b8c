"""Each exchange checked against the contract: the request against its operation (client drift) and the
answer against the operation's response for its status (server drift).

Both sides reuse what the mock itself checks with: the request parsers of
:mod:`mockhub.contract.contracts` and the :class:`~mockhub.contract.conformance.ResponseChecker` of the test suite
and ``mockhub verify``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, groupby
from typing import Any

from jsonschema import ValidationError
from multidict import MultiDict, MultiMapping

from mockhub.contract.conformance import ResponseChecker, json_path
from mockhub.contract.contracts import Contract
from mockhub.contract.problems import collect_problems, problems_for
from mockhub.contract.requests import METHOD_OVERRIDE, Operation, QueryParam, parse_form
from mockhub.kernel.errors import ApiError, BodyMissing, UnsupportedMediaType, ValidationFailed
from mockhub.proxy.violations import Finding, Findings


@dataclass(frozen=True)
class Route:
    """Which operation a request goes to; ``operation`` is ``None`` for an undocumented path or method."""

    method: str
    """The method that decides the operation: the request's, or what ``X-HTTP-Method-Override`` names."""
    template: str | None
    operation: Operation | None
    segments: Mapping[str, str]
    overridden: QueryParam | None = None
    """The ``X-HTTP-Method-Override`` header the request gave an operation that takes one, as the contract has it."""


MAX_CHECKED_BYTES = 4 * 1024 * 1024
"""The longest body, a request's or an answer's, whose JSON is checked; a longer one is passed on unchecked
(parsing a body takes some twenty times its size: 16 MiB of JSON was over half a GiB and seconds)."""
CACHED_ANSWERS = 1024
"""How many answers' verdicts are remembered: polling clients get the same answer again and again."""
CACHED_BODY_BYTES = 64 * 1024
"""Answers with a longer body are checked every time, not remembered."""
CACHED_PROBLEMS = 8
"""Verdicts of more problems are not remembered either (each problem may hold a kilobyte or two)."""


class ExchangeChecker:
    """Checks both sides of exchanges against one contract, keeping the first ``max_problems`` problems of each."""

    def __init__(self, contract: Contract, max_problems: int) -> None:
        self.contract = contract
        self.answers = ResponseChecker(contract)
        self.max_problems = max_problems
        self._verdicts: dict[tuple[Any, ...], Findings] = {}
        self._read_headers = ("Content-Type", "Allow", *sorted(_declared_headers(contract.document)))
        """Every header an answer's check reads: a verdict holds for an answer with the same ones."""
        self._by_route = {(op.path, op.method): op for op in contract.operations.values()}
        self._segments = {path: re.compile("^" + re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")
                          for path in contract.document["paths"]}

    def route(self, method: str, path: str, headers: Mapping[str, str]) -> Route:
        """The operation a request names, following ``X-HTTP-Method-Override`` where the operation allows it."""
        template, _, _ = self.answers.operation_for(method, path)
        if template is None:
            return Route(method, None, None, {})
        found = self._segments[template].match(path)
        segments = found.groupdict() if found is not None else {}
        op = self._by_route.get((template, method.upper()))
        override = headers.get(METHOD_OVERRIDE)
        if op is not None and op.method_override is not None and override is not None:
            named = override.strip().upper()
            if named in op.override_methods:
                return Route(named, template, self._by_route[(template, named)], segments)
            return Route(method.upper(), template, op, segments, op.method_override)
        return Route(method.upper(), template, op, segments)

    def request_problems(self, route: Route, query: MultiMapping[str], headers: Mapping[str, str],
                         body: bytes) -> Findings:
        """The ways the request breaks its operation (or that it has none)."""
        return Findings.of(self._request_problems(route, query, headers, body), self.max_problems)

    def _request_problems(self, route: Route, query: MultiMapping[str], headers: Mapping[str, str],
                          body: bytes) -> Iterable[Finding]:
        op = route.operation
        if route.template is None:
            return [Finding("route", "", "no operation of the contract has this path")]
        if op is None:
            documented = ", ".join(sorted(self.answers.allowed_methods(route.template)))
            return [Finding("route", "", f"{route.method} is not an operation of {route.template} "
                                         f"(documented: {documented})")]
        problems: list[Finding] = []
        if op.secured and not headers.get("Authorization", "").lower().startswith("bearer "):
            problems.append(Finding("header", "Authorization", "no bearer token; the operation requires one"))
        if route.overridden is not None:
            _, wrong = route.overridden.parse(headers.get(METHOD_OVERRIDE, ""))
            problems += [Finding("header", METHOD_OVERRIDE, p.message) for p in wrong]
        try:
            op.parse_path(route.segments)
        except ApiError:
            problems += [Finding("path", name, p.message) for name, (validator, _) in op.path_params.items()
                         for p in collect_problems(validator, route.segments.get(name, ""), "path", name)]
        try:
            op.parse_query(query)
        except ApiError:
            for name in op.query_params:  # again one at a time, to say which each problem is of
                try:
                    op.parse_query(MultiDict((name, value) for value in query.getall(name, ())))
                except ApiError as exc:
                    problems += [Finding("query", name, p.message) for p in exc.problems]
        return chain(problems, self._body_problems(op, body, headers.get("Content-Type")))

    @staticmethod
    def _body_problems(op: Operation, body: bytes, content_type: str | None) -> Iterator[Finding]:
        """The body's problems as the mock words them, each at its JSON path, found one place at a time: a
        caller that stops reading stops the check (a body may hold millions of problems)."""
        if op.body_validator is None:
            return
        if not body.strip():
            if op.body_required:
                yield Finding("body", "$", str(BodyMissing()))
            return
        if len(body) > MAX_CHECKED_BYTES:
            return
        try:
            value = parse_form(body, content_type) if op.body_is_form else op.read_json(body, content_type)
        except UnsupportedMediaType as exc:
            yield Finding("header", "Content-Type", str(exc))
            return
        except ValidationFailed as exc:  # not JSON, not a form: nothing further to check
            yield Finding("body", "$", str(exc))
            return
        if not op.body_checked_by_handler and op.accepts_body(value, body):
            return
        # jsonschema gives the errors of one place together, depth first
        for _, together in groupby(op.body_validator.iter_errors(value), key=lambda e: tuple(e.absolute_path)):
            errors = _closest(list(together))
            # As the mock answers: a value of the wrong type also fails its enum or bounds; the type is the problem.
            mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
            found: dict[Finding, None] = {}  # one required-property error per missing name lists them all
            for error in errors:
                if error.validator == "type" or tuple(error.absolute_path) not in mistyped:
                    at = json_path(error.absolute_path)
                    found.update((Finding("body", at, p.message), None) for p in problems_for(error, "body"))
            yield from found

    def answer_problems(self, route: Route, path: str, status: int, headers: Mapping[str, str],
                        body: bytes) -> Findings:
        """The ways the answer breaks the operation's response for its status (or the 404/405 the
        contract implies for an undocumented path or method).

        The verdict depends on nothing but the method, path, status, the headers the check reads and
        the body, so an answer seen before (a client polling one resource) is not checked again.
        """
        key = (route.method, path, status, *(headers.get(name) for name in self._read_headers), body)
        found = self._verdicts.get(key) if len(body) <= CACHED_BODY_BYTES else None
        if found is None:
            found = Findings.of((Finding(m.part, m.at, m.message)
                                 for m in self.answers.mismatches(route.method, path, status, headers, body)),
                                self.max_problems)
            if len(body) <= CACHED_BODY_BYTES and len(found.problems) <= CACHED_PROBLEMS:
                if len(self._verdicts) >= CACHED_ANSWERS:
                    del self._verdicts[next(iter(self._verdicts))]  # the oldest
                self._verdicts[key] = found
        return found


def _closest(errors: list[ValidationError]) -> list[ValidationError]:
    """``errors`` with each failed ``anyOf``/``oneOf`` replaced by the errors of its closest alternative, so
    that a body meant as one of them (an integration's create or update) hears what is wrong with it."""
    out: list[ValidationError] = []
    for error in errors:
        worded = isinstance(error.schema, dict) and "x-mockhub-message" in error.schema  # one sentence for all
        if error.validator not in ("anyOf", "oneOf") or not error.context or worded:
            out.append(error)
            continue
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        # The alternative whose properties the body keeps to, then the one it misses least.
        out += _closest(min(branches.values(), key=lambda errs: (
            sum(e.validator == "additionalProperties" for e in errs), len(errs))))
    return out


def _declared_headers(node: Any) -> set[str]:
    """The names of every response header the contract declares (``Retry-After``...)."""
    if isinstance(node, list):
        return {name for item in node for name in _declared_headers(item)}
    if not isinstance(node, dict):
        return set()
    names = set(node["headers"]) if isinstance(node.get("headers"), dict) else set()
    return names.union(*(_declared_headers(value) for value in node.values()))
