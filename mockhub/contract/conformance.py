"""Checking responses against the contract: used by the test suite and by ``mockhub verify``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from jsonschema import ValidationError

from mockhub.contract.contracts import Contract, operations_of
from mockhub.contract.dialects import Dialect, dialect_of_path
from mockhub.kernel import jsonio
from mockhub.kernel.jsonio import small_integer

ERROR_SCHEMAS = {Dialect.PORTAL: "PortalError", Dialect.ENGINE: "EngineError", Dialect.ERA: "EraError",
                 Dialect.IDENTITY: "IdentityError", Dialect.ADMIN: "AdminError"}
GENERIC_METHODS = frozenset({"HEAD", "OPTIONS"})
"""Methods a server may name in ``Allow`` without the contract documenting them (RFC 9110 9.3.2, 9.3.7)."""
CODE = re.compile(r"\(code: (PRT|ENG)(\d{6})\)$")
"""The Portal's and the Engine's code at the end of an error's description."""


def json_path(parts: Iterable[str | int]) -> str:
    """``$.errors[0].code``: where a value lies in a JSON document (``$`` is the document)."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


@dataclass(frozen=True)
class Mismatch:
    """One way an answer breaks the contract: which part of it, where in that part (a header's name,
    a JSON path such as ``$.errors[0].code``; empty for the status) and what, as a sentence."""

    part: Literal["status", "header", "body"]
    at: str
    message: str
    text: str = ""
    """The line as a report shows it, when the message alone does not name the place."""

    def __str__(self) -> str:
        return self.text or self.message


def _schema_mismatch(error: ValidationError) -> Mismatch:
    """A JSON Schema failure in a body; its line names the place (``at 'errors/0/code'``)."""
    shown = "/".join(map(str, error.absolute_path)) or "(body)"
    return Mismatch("body", json_path(error.absolute_path), error.message, f"at '{shown}': {error.message}")


def _schema_name(schema: Mapping[str, Any]) -> str:
    """``Hub``, ``array of Integration``, ``IntegrationPoint or LookupResult``: a schema as a reader names it."""
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        return " or ".join(_schema_name(s) for s in alternatives)
    if schema.get("type") == "array" and "items" in schema:
        return f"array of {_schema_name(schema['items'])}"
    return str(schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("type", ""))

MOST_MISMATCHES = 10_000
"""Schema problems one body is checked for at most: past them the check stops (an answer of a million wrong
items would otherwise hold the checker for many seconds, and its report megabytes)."""


class ResponseChecker:
    """Says what, if anything, is wrong with a response to a request, by the contracts.

    ``contracts`` are the APIs' contract and, optionally, the admin API's; each path is
    checked against the document that describes it.
    """

    def __init__(self, *contracts: Contract) -> None:
        self.contracts = contracts
        self._by_dialect: dict[Dialect, Contract] = {}
        self._templates: list[tuple[re.Pattern[str], str, Mapping[str, Any], Contract]] = []
        for contract in contracts:
            for op in contract.operations.values():
                self._by_dialect.setdefault(op.dialect, contract)
            for path, item in contract.document["paths"].items():
                pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
                self._templates.append((pattern, path, item, contract))
        # Literal segments win over parameters, as in the router.
        self._templates.sort(key=lambda t: -t[1].count("/") * 100 + t[1].count("{"))

    def operation_for(self, method: str, path: str) -> tuple[str | None, Mapping[str, Any] | None, Contract | None]:
        """The path template, operation and document a request goes to (any may be ``None``)."""
        template, item, contract = self._path_item(path)
        if item is None:
            return None, None, contract
        spec = next((spec for name, spec in operations_of(item) if name.upper() == method.upper()), None)
        return template, spec, contract

    def _path_item(self, path: str) -> tuple[str | None, Mapping[str, Any] | None, Contract | None]:
        for pattern, template, item, contract in self._templates:
            if pattern.match(path):
                return template, item, contract
        return None, None, self._by_dialect.get(dialect_of_path(path))

    def dialect_for(self, method: str, path: str) -> Dialect:
        """How errors to a request look: as its operation declares, else as its path's operations do
        (a 405), else by the path (a 404)."""
        _, item, contract = self._path_item(path)
        if item is None or contract is None:
            return dialect_of_path(path)
        specs = {name.upper(): spec for name, spec in operations_of(item)}
        spec = specs.get(method.upper()) or next(iter(specs.values()))
        return contract.operations[spec["operationId"]].dialect

    def allowed_methods(self, path: str) -> set[str]:
        """The methods the contracts document for ``path`` (custom verbs included); empty if none."""
        _, item, _ = self._path_item(path)
        return {name.upper() for name, _ in operations_of(item)} if item is not None else set()

    def describe(self, method: str, path: str, status: int) -> str:
        """What the contracts promise for this answer, in a few words (``200 application/json Hub``)."""
        template, spec, contract = self.operation_for(method, path)
        if contract is None:
            return f"{status} (no contract describes {path})"
        if spec is None:
            error = ERROR_SCHEMAS[self.dialect_for(method, path)]
            if template is None:
                return f"404 application/json {error}"
            return f"405 application/json {error} with Allow: {', '.join(sorted(self.allowed_methods(path)))}"
        declared = spec["responses"].get(str(status)) or spec["responses"].get("default")
        if declared is None:
            return f"{status}, which {spec['operationId']} does not document"
        declared = contract.resolve(declared)
        content = declared.get("content")
        if not content:
            return f"{status} with no body"
        media = "application/json" if "application/json" in content else next(iter(content))
        schema = content[media].get("schema", {})
        name = _schema_name(schema)
        headers = "".join(f" with {header}" for header, spec in declared.get("headers", {}).items()
                          if contract.resolve(spec).get("required"))
        return f"{status} {media} {name}".rstrip() + headers

    def check(self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Every way the response breaks the contract, each a line naming the exchange; empty when it conforms."""
        where = f"{method} {path} -> {status}"
        return [f"{where}: {mismatch}" for mismatch in self.mismatches(method, path, status, headers, body)]

    def mismatches(self, method: str, path: str, status: int, headers: Mapping[str, str],
                   body: bytes) -> list[Mismatch]:
        """Every way the response breaks the contract, with where it lies; empty when it conforms."""
        template, spec, contract = self.operation_for(method, path)
        if contract is None:
            return [Mismatch("status", "", "no contract describes this path")]
        if spec is None:
            expected = 404 if template is None else 405
            if status != expected:
                return [Mismatch("status", "", f"expected {expected} for an undocumented "
                                                f"{'path' if template is None else 'method'}")]
            dialect = self.dialect_for(method, path)
            schema = {"$ref": f"#/components/schemas/{ERROR_SCHEMAS[dialect]}"}
            problems = self._check_json(contract, headers, body, schema)
            if status == 405:
                problems += self._check_allow(path, headers)
            return problems or self._check_error_body(dialect, status, body)
        responses = spec["responses"]
        declared = responses.get(str(status)) or responses.get("default")
        if declared is None:
            return [Mismatch("status", "", f"status {status} is not documented for {spec['operationId']} "
                                           f"(documented: {', '.join(sorted(responses))})")]
        declared = contract.resolve(declared)
        problems = self._check_headers(contract, declared.get("headers", {}), headers)
        content = declared.get("content")
        if not content:
            return problems + ([] if not body else [Mismatch("body", "$", f"expected an empty body, "
                                                                          f"got {len(body)} bytes")])
        if "application/json" not in content:
            media = next(iter(content))
            given = headers.get("Content-Type", "")
            return problems + ([] if given.startswith(media) else
                               [Mismatch("header", "Content-Type", f"Content-Type is {given!r}, expected {media}")])
        problems += self._check_json(contract, headers, body, content["application/json"]["schema"])
        if status >= 400 and not problems:
            problems += self._check_error_body(self.dialect_for(method, path), status, body)
        return problems

    def _check_allow(self, path: str, headers: Mapping[str, str]) -> list[Mismatch]:
        """A 405 names the path's methods in ``Allow`` (RFC 9110 15.5.6): every documented one, no other."""
        given = headers.get("Allow")
        documented = self.allowed_methods(path)
        if given is None:
            return [Mismatch("header", "Allow", f"no Allow header; expected {', '.join(sorted(documented))}")]
        named = {m.strip().upper() for m in given.split(",") if m.strip()}
        missing, extra = documented - named, named - documented - GENERIC_METHODS
        problems = [Mismatch("header", "Allow", f"Allow is {given!r}; it does not name {', '.join(sorted(missing))}")
                    ] if missing else []
        if extra:
            problems.append(Mismatch("header", "Allow", f"Allow is {given!r}; the contract does not document "
                                                        f"{', '.join(sorted(extra))}"))
        return problems

    @staticmethod
    def _check_headers(contract: Contract, declared: Mapping[str, Any], headers: Mapping[str, str]) -> list[Mismatch]:
        """Declared response headers: a required one is present; any one given fits its schema."""
        problems = []
        for name, spec in declared.items():
            spec = contract.resolve(spec)
            value = headers.get(name)
            if value is None:
                if spec.get("required"):
                    problems.append(Mismatch("header", name, f"no {name} header; the contract requires one"))
                continue
            schema = spec.get("schema", {})
            number = small_integer(value, 12) if schema.get("type") == "integer" else None
            typed: Any = value if number is None else number
            problems += [Mismatch("header", name, f"header {name} is {value!r}: {e.message}")
                         for e in contract.validator(schema).iter_errors(typed)]
        return problems

    @staticmethod
    def _check_error_body(dialect: Dialect, status: int, body: bytes) -> list[Mismatch]:
        """What the error schemas' descriptions say (Portal docs, Error codes): the Portal body's ``status`` is the
        HTTP status and each ``code`` the number of the PRT code in its description; Era's ``error_code``
        is 1000 + the status; Identity's 401 is ``invalid_client`` (RFC 6749 section 5.2)."""
        value = jsonio.loads(body)
        if dialect is Dialect.IDENTITY:
            error = value["error"]
            return [] if status != 401 or error == "invalid_client" else [
                Mismatch("body", "$.error", f"error is {error!r}; a 401 is invalid_client")]
        if dialect is Dialect.ERA:
            code = value["error_code"]
            return [] if code == 1000 + status else [
                Mismatch("body", "$.error_code", f"error_code is {code}, expected {1000 + status}")]
        problems = [] if value["status"] == status else [
            Mismatch("body", "$.status", f"the body's status is {value['status']}")]
        for index, error in enumerate(value.get("errors", ())):
            found = CODE.search(error["description"])
            if found is not None and int(found.group(2)) != error["code"]:
                problems.append(Mismatch("body", f"$.errors[{index}].code",
                                         f"errors[{index}] has code {error['code']} but its description "
                                         f"names {found.group(1)}{found.group(2)}"))
        return problems

    @staticmethod
    def _check_json(contract: Contract, headers: Mapping[str, str], body: bytes,
                    schema: Mapping[str, Any]) -> list[Mismatch]:
        content_type = headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):
            return [Mismatch("header", "Content-Type", f"Content-Type is {content_type!r}, expected application/json")]
        try:
            value = jsonio.loads(body)
        except jsonio.JsonError as exc:
            return [Mismatch("body", "$", f"the body is not JSON: {exc}")]
        return [_schema_mismatch(e) for e in islice(contract.validator(schema).iter_errors(value), MOST_MISMATCHES)]
