"""Requests parsed by operation: each operation of the contract compiled into a parser of path
segments, query parameters, the method-override header and the JSON body, which returns checked
values or raises :class:`~mockhub.kernel.errors.ValidationFailed` listing every problem found."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from multidict import MultiMapping

from mockhub.contract.accepting import Accepts
from mockhub.contract.problems import collect_problems
from mockhub.kernel import jsonio
from mockhub.kernel.errors import (
    BodyMissing,
    MalformedJson,
    Problem,
    UnsupportedMediaType,
    ValidationFailed,
)
from mockhub.kernel.text import shown

if TYPE_CHECKING:
    from mockhub.contract.contracts import Contract

BODY_CHECKED_BY_HANDLER = "x-mockhub-body-checked-by-handler"
"""An operation whose body schema depends on what its path names (one path both creates and updates
integrations): the contract only parses the JSON, and the handler checks it against the right schema."""

PROBLEM_CODES = "x-mockhub-problem-codes"
"""An operation's own numbers for the problems a request check finds (the Engine's ENG003001 for a missing
property of a conversation request, where the Portal says PRT000301): ``{"301": 3001, ...}``."""

METHOD_OVERRIDE = "X-HTTP-Method-Override"
"""The header a POST may carry to run another operation of its path (contract: createIntegrationPoint)."""

MAX_DIGITS = 64
"""Longest integer a query parameter is converted from: every integer parameter of the contract has
bounds far inside it, so a longer one is out of range (and never costs a big-number conversion)."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
JSON = "application/json"
"""The JSON media type; a Content-Type of exactly this is taken as it is, without taking it apart."""
FORM = "application/x-www-form-urlencoded"
"""The media type of a form body (the token endpoint's, RFC 6749 section 3.2)."""
MAX_FORM_FIELDS = 100
"""Most parameters a form body may have: far more than any operation reads."""
BEARER_SCHEMES = frozenset({"oauth2", "openIdConnect"})
"""Security scheme types whose credential is a bearer token (besides ``http`` with scheme ``bearer``)."""


@dataclass(frozen=True)
class QueryParam:
    """A query (or header) parameter: plain (integers and booleans coerced) or a JSON text (``contentMediaType``)."""

    name: str
    kind: str  # "integer", "boolean", "string" or "json"
    validator: Draft202012Validator
    default: Any
    required: bool = False
    bounds: tuple[int | float | None, int | float | None] | None = None
    """For a schema that is only a bounded number: (minimum, maximum), which decide a value without a schema walk."""
    accepts: Accepts | None = None
    """The compiled schema's fast yes; jsonschema lists the problems of a value it does not accept."""

    def parse(self, raw: str) -> tuple[Any, list[Problem]]:
        if self.kind == "integer":
            text = raw.strip()
            if not _INTEGER.fullmatch(text):  # ASCII digits: Python's \d (and int()) take any script's
                return None, [Problem(210, f"Value '{shown(raw)}' of '{self.name}' is not a number.")]
            if len(text) > MAX_DIGITS:
                return None, [Problem(206, f"Value '{shown(raw)}' of '{self.name}' is out of range.")]
            value: Any = int(text)
            if self.bounds is not None:
                low, high = self.bounds
                if (low is None or value >= low) and (high is None or value <= high):
                    return value, []  # the common case; the validator only describes a failure
        elif self.kind == "boolean":
            if raw.lower() not in ("true", "false", "1", "0"):
                expected = "expected true or false"
                return None, [Problem(206, f"Value '{shown(raw)}' of '{self.name}' is not valid; {expected}.")]
            value = raw.lower() in ("true", "1")
        elif self.kind == "json":
            try:
                value = jsonio.loads(raw)
            except jsonio.JsonError as exc:
                return None, [Problem(206, f"Value of '{self.name}' is not valid JSON: {exc}.")]
        else:
            value = raw
        if self.accepts is not None and self.accepts(value, raw):
            return value, []
        return value, collect_problems(self.validator, value, "query", self.name)


class Operation:
    """One operation of the contract, compiled: parses and checks requests to it."""

    def __init__(self, contract: Contract, method: str, path: str, spec: Mapping[str, Any],
                 path_item: Mapping[str, Any]) -> None:
        self.method = method.upper()
        self.path = path
        self.operation_id: str = spec["operationId"]
        self.dialect = contract.dialect_of(spec)
        """How the operation's errors look, as the contract declares."""
        self.token_scopes = _token_scopes(contract, spec.get("security", contract.document.get("security", ())))
        """The scopes a bearer token needs, one set per alternative the operation takes (a token with all the
        scopes of any set); empty when the operation needs no token."""
        self.secured = bool(self.token_scopes)
        """Whether a bearer token is required (every alternative of the operation's security is a token)."""
        params = [contract.resolve(p) for p in [*path_item.get("parameters", []), *spec.get("parameters", [])]]
        self.path_params = {
            p["name"]: (contract.validator(p["schema"]), _pattern_of(contract.resolve(p["schema"])))
            for p in params if p["in"] == "path"
        }
        self.query_params: dict[str, QueryParam] = {}
        for p in params:
            if p["in"] != "query":
                continue
            schema = p["schema"]
            if schema.get("contentMediaType") == JSON:
                schema = schema["contentSchema"]  # a JSON text (order, filter): parsed, then checked
                kind = "json"
            else:
                kind = schema.get("type", "string") if schema.get("type") in ("integer", "boolean") else "string"
            validator = contract.validator(schema)
            self.query_params[p["name"]] = QueryParam(p["name"], kind, validator, schema.get("default"),
                                                       bool(p.get("required")), _bounds_of(schema),
                                                       contract.accepts(validator))
        override = next((p for p in params if p["in"] == "header" and p["name"].lower() == METHOD_OVERRIDE.lower()),
                        None)
        self.method_override = (
            QueryParam(override["name"], "string", contract.validator(override["schema"]), None) if override else None
        )
        """The X-HTTP-Method-Override header, when the operation lets it name another method of its path."""
        self.override_methods: tuple[str, ...] = tuple(override["schema"]["enum"]) if override else ()
        body = spec.get("requestBody")
        self.body_required = bool(body and body.get("required"))
        self.body_checked_by_handler = bool(spec.get(BODY_CHECKED_BY_HANDLER))
        self.body_is_form = body is not None and FORM in body["content"] and JSON not in body["content"]
        """The body is a form (``application/x-www-form-urlencoded``), parsed into a dict of its parameters."""
        body_schema = body["content"][FORM if self.body_is_form else JSON]["schema"] if body else None
        self.body_validator = contract.validator(body_schema) if body_schema is not None else None
        self.body_accepts = contract.accepts(self.body_validator) if self.body_validator is not None else None
        self.problem_codes: dict[int, int] = {int(code): number for code, number in spec.get(PROBLEM_CODES, {}).items()}
        """The operation's own numbers for the problems its request checks find (empty: they keep theirs)."""
        integer_paths = sorted(_integer_paths(contract, body_schema)) if (
            body_schema is not None and not self.body_is_form) else []
        self.integer_names = tuple(path[0] for path in integer_paths if len(path) == 1)
        """The body's own properties the schema says are integers: a whole number written as ``30.0`` is stored
        and answered as ``30``, as a typed service would (a float there breaks typed clients)."""
        self.integer_paths = tuple(path for path in integer_paths if len(path) > 1)
        """Where else the body schema says integer, through its objects' properties: made whole as well."""

    def parse_path(self, segments: Mapping[str, str]) -> dict[str, str]:
        """Check the path segments; a malformed GUID is PRT000203 (Era: 1400)."""
        problems: list[Problem] = []
        for name, (validator, pattern) in self.path_params.items():
            value = segments.get(name, "")
            if pattern is not None and pattern.search(value):
                continue  # the common case, without a schema walk
            problems.extend(collect_problems(validator, value, "path", name))
        if problems:
            raise ValidationFailed(problems=tuple(problems))
        return dict(segments)

    def parse_query(self, query: MultiMapping[str]) -> dict[str, Any]:
        """Coerce and check the documented query parameters; unknown ones are ignored."""
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, param in self.query_params.items():
            given = query.getall(name, ())
            if not given:
                if param.required:
                    problems.append(Problem(200, f"Parameter '{name}' is required."))
                values[name] = param.default
                continue
            if len(given) > 1:
                problems.append(Problem(206, f"Parameter '{name}' is given {len(given)} times; give it once."))
                continue
            value, found = param.parse(given[0])
            problems.extend(found)
            values[name] = value
        if problems:
            raise ValidationFailed(problems=tuple(problems))
        return values

    def parse_body(self, raw: bytes, content_type: str | None, max_depth: int = jsonio.MAX_DEPTH) -> Any:
        """Parse and check the JSON body, listing every problem (only parse it when the handler checks it);
        arrays and objects nested deeper than ``max_depth`` are refused."""
        if self.body_validator is None:
            return None
        if not raw.strip():
            if self.body_required:
                raise BodyMissing()
            return None
        if self.body_is_form:
            values = parse_form(raw, content_type)
            if not self.body_checked_by_handler:
                self.check(values)
            return values
        body = self.read_json(raw, content_type, max_depth)
        if not self.body_checked_by_handler and not self.accepts_body(body, raw):
            self.check(body)
        if type(body) is dict:
            for name in self.integer_names:  # a loop of its own: the usual case, on every create
                found = body.get(name)
                if type(found) is float and found.is_integer():
                    body[name] = int(found)
        for path in self.integer_paths:
            _make_whole(body, path)
        return body

    @staticmethod
    def read_json(raw: bytes, content_type: str | None, max_depth: int = jsonio.MAX_DEPTH) -> Any:
        """A body that is not empty, parsed but not checked against the schema: 415 for a type other than
        JSON, 400 for text that is not strict JSON or nests deeper than ``max_depth``."""
        if content_type and content_type != JSON and not _is_json_type(content_type):
            raise UnsupportedMediaType(f"Content-Type '{shown(content_type)}' is not supported; send application/json.")
        try:
            return jsonio.loads(raw, max_depth)
        except jsonio.JsonError as exc:
            raise MalformedJson(f"The request body is not valid JSON: {exc}.") from None

    def accepts_body(self, body: Any, raw: bytes) -> bool:
        """The compiled schema's fast yes for a parsed body (a no says nothing: jsonschema lists the problems)."""
        return self.body_accepts is not None and self.body_accepts(body, raw)

    def check(self, body: Any) -> None:
        """Raise :class:`ValidationFailed` unless ``body`` fits the operation's body schema."""
        assert self.body_validator is not None
        problems = collect_problems(self.body_validator, body, "body")
        if problems:
            raise ValidationFailed(problems=tuple(problems))


def parse_form(raw: bytes, content_type: str | None) -> dict[str, str]:
    """The parameters of a form body (``application/x-www-form-urlencoded``, UTF-8); 400 for another media type,
    a parameter given twice (RFC 6749 section 3.2) or text that is not UTF-8. A body without a media type is read
    as a form."""
    media = (content_type or FORM).split(";", 1)[0].strip().lower()
    if media != FORM:
        raise ValidationFailed(f"The request body must be {FORM}, not '{shown(media)}'.")
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict",
                                       max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError:
        raise ValidationFailed("The request body is not valid UTF-8 (nor are its %-escapes).") from None
    except ValueError:  # past max_num_fields
        raise ValidationFailed(f"The request body has more than {MAX_FORM_FIELDS} parameters.") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise ValidationFailed(f"The parameter '{shown(name)}' is given more than once; give it once.")
        values[name] = value
    return values


def _token_scopes(contract: Contract, security: Any) -> tuple[frozenset[str], ...]:
    """The scope sets a bearer token may satisfy (it must have every scope of one), from the requirements of
    ``security``; none when an alternative needs no bearer token (``{}``, or HTTP Basic: the token endpoint's).

    A requirement that lists no scope of an OAuth 2 scheme asks for one of the scopes the scheme declares: an
    operation secured by the Portal's scheme takes Portal tokens, one secured by the Engine's Engine tokens."""
    schemes = contract.document.get("components", {}).get("securitySchemes", {})
    alternatives: list[frozenset[str]] = []
    for requirement in security:
        kinds = {name: schemes.get(name, {}) for name in requirement}
        if not kinds or not all(k.get("type") in BEARER_SCHEMES or (
                k.get("type") == "http" and str(k.get("scheme", "")).lower() == "bearer") for k in kinds.values()):
            return ()
        options: list[frozenset[str]] = [frozenset()]
        for name, scheme in kinds.items():
            listed = requirement[name]
            declared = sorted({scope for flow in scheme.get("flows", {}).values() for scope in flow.get("scopes", {})})
            choices = [frozenset(listed)] if listed else [frozenset({scope}) for scope in declared] or [frozenset()]
            options = [chosen | choice for chosen in options for choice in choices]
        alternatives.extend(options)
    return tuple(alternatives)


def _integer_paths(contract: Contract, schema: Any, at: tuple[str, ...] = (), depth: int = 8) -> set[tuple[str, ...]]:
    """The property paths of ``schema`` typed integer (in any of its branches), objects' properties followed."""
    schema = contract.resolve(schema) if isinstance(schema, dict) else schema
    if not isinstance(schema, dict) or depth == 0:
        return set()
    found = {at} if at and schema.get("type") == "integer" else set()
    for name, sub in schema.get("properties", {}).items():
        found |= _integer_paths(contract, sub, (*at, name), depth - 1)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword, ()):
            found |= _integer_paths(contract, sub, at, depth - 1)
    return found


def _make_whole(value: Any, path: tuple[str, ...]) -> None:
    """The whole-number float at ``path`` of ``value`` (if there is one) made an int, in place."""
    for name in path[:-1]:
        value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, dict):
        found = value.get(path[-1])
        if type(found) is float and found.is_integer():
            value[path[-1]] = int(found)


def _bounds_of(schema: Mapping[str, Any]) -> tuple[Any, Any] | None:
    """For a schema that is only a bounded integer (pageSize), its (minimum, maximum)."""
    simple = schema.get("type") == "integer" and set(schema) <= {"type", "minimum", "maximum", "default",
                                                                   "description", "x-mockhub-decision"}
    return (schema.get("minimum"), schema.get("maximum")) if simple else None


def _pattern_of(schema: Mapping[str, Any]) -> re.Pattern[str] | None:
    """For a schema that is only a string pattern (a GUID), the compiled pattern that decides it."""
    if schema.get("type") == "string" and "pattern" in schema and set(schema) <= {"type", "pattern", "format"}:
        return re.compile(schema["pattern"])
    return None


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    # Unlabelled bytes (application/octet-stream, as aiohttp sends them) are read as JSON too.
    return media in (JSON, "text/json", "application/octet-stream", "*/*") or media.endswith("+json")
