"""The contract (contracts/openapi.json): loaded once, compiled into request parsers.

Every operation of the document becomes an :class:`Operation` that turns a request's
path segments, query string and body into checked values, or raises
:class:`~mockhub.engine.errors.ValidationFailed` listing every problem found, one
:class:`~mockhub.engine.errors.Problem` each, with the PRT code of Portal docs, Error codes.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from multidict import MultiMapping
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockhub.contract.accepting import Accepts, Compiler
from mockhub.contract.dialects import ERROR_FORMAT, Dialect
from mockhub.contract.openapi32 import EXTENSION, STANDARD, to_openapi_3_2
from mockhub.engine import jsonio
from mockhub.engine.errors import (
    BodyMissing,
    MalformedJson,
    Problem,
    UnsupportedMediaType,
    ValidationFailed,
)
from mockhub.engine.text import shown
from mockhub.resources import contract_path

CONTRACT_URI = "urn:mockhub:contract"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ADDITIONAL_OPERATIONS = EXTENSION
"""Where the contract keeps custom verbs (LOOKUP): OpenAPI 3.2's additionalOperations, as an extension."""
BODY_CHECKED_BY_HANDLER = "x-mockhub-body-checked-by-handler"
"""An operation whose body schema depends on what its path names (one path both creates and updates
integrations): the contract only parses the JSON, and the handler checks it against the right schema."""

CHECKED_BY_HANDLER = "x-mockhub-checked-by-handler"
"""A subschema whose failures the request parser leaves to the handler, which explains them better
(the Era field names of mask, order and filter: the handler names the unknown one and suggests the
closest). The contract stays exact for other tools; the answer keeps the handler's words."""

METHOD_OVERRIDE = "X-HTTP-Method-Override"
"""The header a POST may carry to run another operation of its path (contract: createIntegrationPoint)."""

MAX_DIGITS = 64
"""Longest integer a query parameter is converted from: every integer parameter of the contract has
bounds far inside it, so a longer one is out of range (and never costs a big-number conversion)."""

def field_path(parts: Iterator[Any] | Any, root: str = "") -> str:
    """``configuration.allowedOrigins[0]`` from a jsonschema path, under ``root`` if given."""
    out = root
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _article(type_name: str) -> str:
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _type_text(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(_article(str(n)) for n in names)


def problems_for(error: ValidationError, where: str, root: str = "") -> list[Problem]:
    """Turn one jsonschema error into PRT problems; ``where`` is "body", "query" or "path".

    Body problems use the PRT00030x codes (301 required, 302 type, 303 not supported,
    305 GUID, 306 empty collection); segment and query ones the PRT00020x codes (203
    GUID, 206 not valid, 209 must be >= 0). A subschema may name its own sentence in
    ``x-mockhub-message``. ``root`` names the value itself (a parameter's name).
    """
    if _left_to_handler(error):
        return []
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    keyword = error.validator
    path = field_path(error.absolute_path, root)
    value = error.instance
    in_body = where == "body"

    if keyword == "required":
        missing = ast.literal_eval(error.message.split(" is a required property", 1)[0])
        name = f"{path}.{missing}" if path else str(missing)
        return [Problem(301, f"Property '{name}' is required.")]
    if keyword == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extras = sorted(k for k in value if k not in allowed) if isinstance(value, dict) else []
        return [Problem(303, f"Property '{f'{path}.{k}' if path else k}' is not supported.") for k in extras]
    custom = schema.get("x-mockhub-message")
    if custom and keyword != "type":  # a wrong type keeps its own code (302) and sentence
        return [Problem(206, str(custom).format(value=shown(value), field=path))]
    if keyword in ("anyOf", "oneOf") and error.context:
        branch = _fitting_branch(error.context)
        if branch is not None:
            return [p for sub in branch for p in problems_for(sub, where, root)]
        types = [e.validator_value for e in error.context if e.validator == "type" and not e.relative_path]
        if len(types) == len({e.relative_schema_path[0] for e in error.context}):
            subject = f"Property '{path}'" if path else "The request body"
            return [Problem(302 if in_body or not path else 210, f"{subject} must be {_type_text(types)}.")]
    if keyword == "type":
        if not path:
            return [Problem(302, f"The request body must be {_type_text(error.validator_value)}.")]
        code = 302 if in_body else 210
        return [Problem(code, f"Property '{path}' must be {_type_text(error.validator_value)}.")]
    if schema.get("format") == "uuid":
        return [Problem(305 if in_body else 203, f"Value '{shown(value)}' of '{path}' is not a valid GUID.")]
    if keyword == "minItems" and error.validator_value == 1:
        return [Problem(306, f"Property '{path}' must not be empty.")]
    if keyword == "minimum" and error.validator_value == 0:
        return [Problem(209, f"Value '{shown(value)}' of '{path}' must be >= 0.")]
    if keyword in ("minimum", "maximum"):
        bound = ">=" if keyword == "minimum" else "<="
        limit = error.validator_value
        return [Problem(206, f"Value '{shown(value)}' of '{path}' is not valid: it must be {bound} {limit}.")]
    if keyword == "enum":
        options = ", ".join(shown(v) for v in error.validator_value)
        return [Problem(206, f"Value '{shown(value)}' of '{path}' is not valid; expected one of: {options}.")]
    if keyword in ("minLength", "maxLength"):
        limit = error.validator_value
        text = "must not be empty" if keyword == "minLength" and limit == 1 else (
            f"must be at least {limit} characters" if keyword == "minLength" else f"must be at most {limit} characters")
        subject = f"Property '{path}'" if path else "The request body"
        return [Problem(206, f"{subject} {text}.")]
    return [Problem(206, f"Value '{shown(value)}' of '{path or 'body'}' is not valid.")]


def _left_to_handler(error: ValidationError) -> bool:
    """Whether every reason for ``error`` lies in a subschema marked ``x-mockhub-checked-by-handler``."""
    if isinstance(error.schema, Mapping) and error.schema.get(CHECKED_BY_HANDLER):
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branch = _fitting_branch(error.context)
        return branch is not None and all(_left_to_handler(sub) for sub in branch)
    return False


def _fitting_branch(context: list[ValidationError]) -> list[ValidationError] | None:
    """Of an anyOf/oneOf failure, the errors of the one branch whose type fits the value.

    "A rule or a list of rules" given an object should report what is wrong with the
    rule, not that the value matches neither alternative.
    """
    branches: dict[Any, list[ValidationError]] = {}
    for sub in context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [errs for errs in branches.values()
               if not any(e.validator == "type" and not e.relative_path for e in errs)]
    return fitting[0] if len(fitting) == 1 else None


def collect_problems(validator: Draft202012Validator, instance: Any, where: str,
                     root: str = "") -> list[Problem]:
    """Every problem of ``instance``, in a stable order (by message)."""
    errors = list(validator.iter_errors(instance))
    # A value of the wrong type also fails its enum or bounds: report the type alone.
    mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    problems: list[Problem] = []
    for error in errors:
        if error.validator != "type" and tuple(error.absolute_path) in mistyped:
            continue
        problems.extend(problems_for(error, where, root))
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.message, p.code))


@dataclass(frozen=True)
class QueryParam:
    """A query (or header) parameter: plain (integers and booleans coerced) or a JSON text (``contentMediaType``)."""

    name: str
    kind: str  # "integer", "boolean", "string" or "json"
    validator: Draft202012Validator
    default: Any
    bounds: tuple[int | float | None, int | float | None] | None = None
    """For a schema that is only a bounded number: (minimum, maximum), which decide a value without a schema walk."""
    accepts: Accepts | None = None
    """The compiled schema's fast yes; jsonschema lists the problems of a value it does not accept."""

    def parse(self, raw: str) -> tuple[Any, list[Problem]]:
        if self.kind == "integer":
            text = raw.strip()
            if not re.fullmatch(r"[+-]?[0-9]+", text):  # ASCII digits: Python's \d (and int()) take any script's
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
        self.secured = bool(spec.get("security"))
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
            if schema.get("contentMediaType") == "application/json":
                schema = schema["contentSchema"]  # a JSON text (order, filter): parsed, then checked
                kind = "json"
            else:
                kind = schema.get("type", "string") if schema.get("type") in ("integer", "boolean") else "string"
            validator = contract.validator(schema)
            self.query_params[p["name"]] = QueryParam(p["name"], kind, validator, schema.get("default"),
                                                       _bounds_of(schema), contract.accepts(validator))
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
        self.body_validator = (
            contract.validator(body["content"]["application/json"]["schema"]) if body else None
        )
        self.body_accepts = contract.accepts(self.body_validator) if self.body_validator is not None else None

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
        if content_type and not _is_json_type(content_type):
            raise UnsupportedMediaType(f"Content-Type '{shown(content_type)}' is not supported; send application/json.")
        try:
            body = jsonio.loads(raw, max_depth)
        except jsonio.JsonError as exc:
            raise MalformedJson(f"The request body is not valid JSON: {exc}.") from None
        if not self.body_checked_by_handler and not (self.body_accepts is not None and self.body_accepts(body, raw)):
            self.check(body)
        return body

    def check(self, body: Any) -> None:
        """Raise :class:`ValidationFailed` unless ``body`` fits the operation's body schema."""
        assert self.body_validator is not None
        problems = collect_problems(self.body_validator, body, "body")
        if problems:
            raise ValidationFailed(problems=tuple(problems))


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
    return media in ("application/json", "text/json", "application/octet-stream", "*/*") or media.endswith("+json")


class Contract:
    """The loaded OpenAPI document with its compiled operations."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(CONTRACT_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._tag_formats = {tag["name"]: tag[ERROR_FORMAT] for tag in document.get("tags", ()) if ERROR_FORMAT in tag}
        self._compiler = Compiler(CONTRACT_URI, document)
        self.operations: dict[str, Operation] = {}
        for path, item in document["paths"].items():
            for method, spec in operations_of(item):
                op = Operation(self, method, path, spec, item)
                self.operations[op.operation_id] = op

    def dialect_of(self, spec: Mapping[str, Any]) -> Dialect:
        """The error dialect an operation declares: on itself, else on its first tag that does, else on the document."""
        declared = spec.get(ERROR_FORMAT) or next(
            (self._tag_formats[tag] for tag in spec.get("tags", ()) if tag in self._tag_formats),
            self.document.get(ERROR_FORMAT))
        if declared is None:
            raise ValueError(f"operation {spec['operationId']} declares no {ERROR_FORMAT} (on itself, a tag or "
                             "the document)")
        return Dialect(declared)

    @classmethod
    def load(cls, path: Path | None = None) -> Contract:
        """Load the contract file (the packaged one by default)."""
        with open(path or contract_path(), encoding="utf-8") as handle:
            return cls(json.load(handle))

    @cached_property
    def published(self) -> bytes:
        """The document as served at ``/__mockhub/openapi.json``."""
        return jsonio.dumps(self.document)

    @cached_property
    def published_3_2(self) -> bytes:
        """Its OpenAPI 3.2 form, served at ``/__mockhub/openapi.json?version=3.2``."""
        return jsonio.dumps(to_openapi_3_2(self.document))

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a local ``$ref`` (one level) in the document."""
        ref = node.get("$ref")
        if not ref:
            return node
        target: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, Mapping), ref
        return target

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        """A compiled validator for a schema of the document (local refs resolve in it)."""
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            # A schema that is only a local $ref is compiled as its target: jsonschema would
            # otherwise resolve the reference through the registry on every request (a third
            # of a hub POST's validation time: README, Performance).
            target = schema
            while set(target) == {"$ref"} and str(target["$ref"]).startswith("#/"):
                target = self.resolve(target)
            found = Draft202012Validator(_rebase(target), registry=self.registry)
            self._validators[key] = found
        return found

    def accepts(self, validator: Draft202012Validator) -> Accepts:
        """The compiled fast yes of one of :meth:`validator`'s validators (for the accept path of requests)."""
        return self._compiler.accepts(validator.schema)

    def schema(self, name: str) -> Draft202012Validator:
        """The validator of ``#/components/schemas/<name>``."""
        return self.validator({"$ref": f"#/components/schemas/{name}"})

    def check(self, schema_name: str, instance: Any, narrowed: Mapping[str, str] | None = None) -> None:
        """Raise :class:`ValidationFailed` unless ``instance`` fits a named schema (as a body).

        ``narrowed`` names further schemas some properties must also fit (an integration update's
        ``configuration``, by the integration's channel), so one answer lists every problem, each
        with its full field path (``configuration.webhookUrl``).
        """
        schema: dict[str, Any] = {"$ref": f"#/components/schemas/{schema_name}"}
        if narrowed:
            properties = {name: {"$ref": f"#/components/schemas/{target}"} for name, target in narrowed.items()}
            schema = {"allOf": [schema, {"properties": properties}]}
        problems = collect_problems(self.validator(schema), instance, "body")
        if problems:
            raise ValidationFailed(problems=tuple(problems))


def operations_of(item: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for method in HTTP_METHODS:
        if method in item:
            yield method, item[method]
    yield from item.get(ADDITIONAL_OPERATIONS, item.get(STANDARD, {})).items()  # the 3.1 or the 3.2 form


def _rebase(schema: Any) -> Any:
    """Point local refs (``#/...``) at the registered document."""
    if isinstance(schema, dict):
        return {k: (CONTRACT_URI + v if k == "$ref" and v.startswith("#") else _rebase(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


__all__ = ["Contract", "Dialect", "Operation", "collect_problems", "problems_for"]
