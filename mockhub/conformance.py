"""Checking responses against the contract: used by the test suite and by ``mockhub verify``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mockhub import jsonio
from mockhub.contracts import Contract, operations_of
from mockhub.errors import Dialect, dialect_for

ERROR_SCHEMAS = {Dialect.PORTAL: "PortalError", Dialect.ERA: "EraError", Dialect.ADMIN: "AdminError"}


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
        for pattern, template, item, contract in self._templates:
            if pattern.match(path):
                for name, spec in operations_of(item):
                    if name.upper() == method.upper():
                        return template, spec, contract
                return template, None, contract
        return None, None, self._by_dialect.get(dialect_for(path))

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
            return self._check_json(contract, where, headers, body, schema)
        responses = spec["responses"]
        declared = responses.get(str(status)) or responses.get("default")
        if declared is None:
            return [f"{where}: status {status} is not documented for {spec['operationId']} "
                    f"(documented: {', '.join(sorted(responses))})"]
        declared = contract.resolve(declared)
        content = declared.get("content")
        if not content:
            return [] if not body else [f"{where}: expected an empty body, got {len(body)} bytes"]
        if "application/json" not in content:
            media = next(iter(content))
            given = headers.get("Content-Type", "")
            return [] if given.startswith(media) else [f"{where}: Content-Type is {given!r}, expected {media}"]
        return self._check_json(contract, where, headers, body, content["application/json"]["schema"])

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
