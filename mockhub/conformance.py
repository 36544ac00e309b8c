"""Checking responses against the contract: used by the test suite and by ``mockhub verify``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mockhub import jsonio
from mockhub.contracts import Contract, operations_of
from mockhub.errors import Dialect, dialect_for
from mockhub.jsonio import small_integer

ERROR_SCHEMAS = {Dialect.PORTAL: "PortalError", Dialect.ERA: "EraError", Dialect.ADMIN: "AdminError"}
GENERIC_METHODS = frozenset({"HEAD", "OPTIONS"})
"""Methods a server may name in ``Allow`` without the contract documenting them (RFC 9110 9.3.2, 9.3.7)."""
PRT_CODE = re.compile(r"\(code: PRT(\d{6})\)$")


def _schema_name(schema: Mapping[str, Any]) -> str:
    """``Hub``, ``array of Integration``, ``IntegrationPoint or LookupResult``: a schema as a reader names it."""
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        return " or ".join(_schema_name(s) for s in alternatives)
    if schema.get("type") == "array" and "items" in schema:
        return f"array of {_schema_name(schema['items'])}"
    return str(schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("type", ""))


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
            for path, item in contract.document["paths"].items():
                pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
                self._templates.append((pattern, path, item, contract))
                self._by_dialect.setdefault(dialect_for(path), contract)
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
        return None, None, self._by_dialect.get(dialect_for(path))

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
            error = ERROR_SCHEMAS[dialect_for(path)]
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
        """Every way the response breaks the contract; empty when it conforms."""
        template, spec, contract = self.operation_for(method, path)
        where = f"{method} {path} -> {status}"
        if contract is None:
            return [f"{where}: no contract describes this path"]
        if spec is None:
            expected = 404 if template is None else 405
            if status != expected:
                return [f"{where}: expected {expected} for an undocumented {'path' if template is None else 'method'}"]
            schema = {"$ref": f"#/components/schemas/{ERROR_SCHEMAS[dialect_for(path)]}"}
            problems = self._check_json(contract, where, headers, body, schema)
            if status == 405:
                problems += self._check_allow(where, path, headers)
            return problems or self._check_error_body(where, path, status, body)
        responses = spec["responses"]
        declared = responses.get(str(status)) or responses.get("default")
        if declared is None:
            return [f"{where}: status {status} is not documented for {spec['operationId']} "
                    f"(documented: {', '.join(sorted(responses))})"]
        declared = contract.resolve(declared)
        problems = self._check_headers(contract, where, declared.get("headers", {}), headers)
        content = declared.get("content")
        if not content:
            return problems + ([] if not body else [f"{where}: expected an empty body, got {len(body)} bytes"])
        if "application/json" not in content:
            media = next(iter(content))
            given = headers.get("Content-Type", "")
            return problems + ([] if given.startswith(media) else
                               [f"{where}: Content-Type is {given!r}, expected {media}"])
        problems += self._check_json(contract, where, headers, body, content["application/json"]["schema"])
        if status >= 400 and not problems:
            problems += self._check_error_body(where, path, status, body)
        return problems

    def _check_allow(self, where: str, path: str, headers: Mapping[str, str]) -> list[str]:
        """A 405 names the path's methods in ``Allow`` (RFC 9110 15.5.6): every documented one, no other."""
        given = headers.get("Allow")
        documented = self.allowed_methods(path)
        if given is None:
            return [f"{where}: no Allow header; expected {', '.join(sorted(documented))}"]
        named = {m.strip().upper() for m in given.split(",") if m.strip()}
        missing, extra = documented - named, named - documented - GENERIC_METHODS
        problems = [f"{where}: Allow is {given!r}; it does not name {', '.join(sorted(missing))}"] if missing else []
        if extra:
            problems.append(f"{where}: Allow is {given!r}; the contract does not document {', '.join(sorted(extra))}")
        return problems

    @staticmethod
    def _check_headers(contract: Contract, where: str, declared: Mapping[str, Any],
                       headers: Mapping[str, str]) -> list[str]:
        """Declared response headers: a required one is present; any one given fits its schema."""
        problems = []
        for name, spec in declared.items():
            spec = contract.resolve(spec)
            value = headers.get(name)
            if value is None:
                if spec.get("required"):
                    problems.append(f"{where}: no {name} header; the contract requires one")
                continue
            schema = spec.get("schema", {})
            number = small_integer(value, 12) if schema.get("type") == "integer" else None
            typed: Any = value if number is None else number
            problems += [f"{where}: header {name} is {value!r}: {e.message}"
                         for e in contract.validator(schema).iter_errors(typed)]
        return problems

    @staticmethod
    def _check_error_body(where: str, path: str, status: int, body: bytes) -> list[str]:
        """What the error schemas' descriptions say (api-docs/facts.md): the Portal body's ``status`` is the
        HTTP status and each ``code`` the number of the PRT code in its description; Era's ``error_code``
        is 1000 + the status."""
        value = jsonio.loads(body)
        dialect = dialect_for(path)
        if dialect is Dialect.ERA:
            code = value["error_code"]
            return [] if code == 1000 + status else [f"{where}: error_code is {code}, expected {1000 + status}"]
        problems = [] if value["status"] == status else [f"{where}: the body's status is {value['status']}"]
        for index, error in enumerate(value.get("errors", ())):
            found = PRT_CODE.search(error["description"])
            if found is not None and int(found.group(1)) != error["code"]:
                problems.append(f"{where}: errors[{index}] has code {error['code']} but its description "
                                f"names PRT{found.group(1)}")
        return problems

    @staticmethod
    def _check_json(contract: Contract, where: str, headers: Mapping[str, str], body: bytes,
                    schema: Mapping[str, Any]) -> list[str]:
        content_type = headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):
            return [f"{where}: Content-Type is {content_type!r}, expected application/json"]
        try:
            value = jsonio.loads(body)
        except jsonio.JsonError as exc:
            return [f"{where}: the body is not JSON: {exc}"]
        return [
            f"{where}: at '{'/'.join(map(str, e.absolute_path)) or '(body)'}': {e.message}"
            for e in contract.validator(schema).iter_errors(value)
        ]
