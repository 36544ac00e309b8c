"""Checking an override against the APIs' contract, so an override cannot answer what the API never would.

The method and path must name an operation (a glob path: every operation it covers), the
status must be one the operation declares, a body must fit that status's response schema
and a merge the schema of the operation's successful answer with every property optional.
Each problem names its JSON path in the override (``response.body.description``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from jsonschema import Draft202012Validator

from mockhub.contract.contracts import Contract, operations_of
from mockhub.contract.problems import collect_problems
from mockhub.engine.errors import Problem, ValidationFailed
from mockhub.engine.matching import is_glob
from mockhub.engine.overrides import OverrideEngine

_GLOB_PART = re.compile(r"\[[^]]*\]|[*?]")


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    def covers(self, path: str) -> bool:
        """Whether a request to ``path`` (exact or a glob) may reach this operation."""
        if not is_glob(path):
            return self.pattern.fullmatch(path) is not None
        return fnmatchcase(self.template, path) or self.pattern.fullmatch(_GLOB_PART.sub("x", path)) is not None


class OverrideChecker:
    """Checks overrides against one contract; schemas are compiled once, on first use."""

    def __init__(self, contract: Contract) -> None:
        self._contract = contract
        self._operations: list[_Operation] = []
        for template, item in contract.document["paths"].items():
            pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))
            for method, spec in operations_of(item):
                self._operations.append(_Operation(method.upper(), template, pattern, spec["responses"]))
        # Literal segments win over parameters, as in the router.
        self._operations.sort(key=lambda op: (-op.template.count("/"), op.template.count("{")))
        self._optional: dict[str, Draft202012Validator] = {}

    def problems(self, override: Mapping[str, Any], where: str = "") -> list[Problem]:
        """Every way an override (already fitting the Override schema) breaks the contract; empty if none.

        ``where`` prefixes each JSON path (``[2].`` for the third of a list).
        """
        method, path = str(override["method"]).upper(), str(override["path"])
        operations = [op for op in self._operations if op.method == method and op.covers(path)]
        if not operations:
            return [Problem(206, f"Property '{where}path' with '{where}method': {method} {path} is no operation "
                                 "of the contract.")]
        if not is_glob(path):
            operations = operations[:1]
        response = override["response"]
        problems: list[Problem] = []
        for op in operations:
            found = (self._merge_problems(op, response["merge"], where) if "merge" in response
                     else self._answer_problems(op, response, where))
            if len(operations) > 1:  # a glob over several operations: say which one each problem is for
                found = [Problem(p.code, f"{op.label}: {p.message}") for p in found]
            problems += found
        return list(dict.fromkeys(problems))

    def _answer_problems(self, op: _Operation, response: Mapping[str, Any], where: str) -> list[Problem]:
        status = int(response.get("status", 200))
        declared = op.responses.get(str(status))
        if declared is None:
            return [Problem(206, f"Value '{status}' of '{where}response.status' is not valid: {op.label} "
                                 f"declares {', '.join(sorted(op.responses))}.")]
        declared = self._contract.resolve(declared)
        problems = [Problem(301, f"Property '{where}response.headers.{name}' is required: {op.label} declares it "
                                 f"for {status}.")
                    for name, spec in declared.get("headers", {}).items()
                    if self._contract.resolve(spec).get("required")
                    and name.lower() not in {h.lower() for h in response.get("headers", {})}]
        media = declared.get("content", {})
        problems += [Problem(206, f"Value '{value}' of '{where}response.headers.{name}' is not valid: {op.label} "
                                  f"answers {status} with {', '.join(media) or 'no body'}.")
                     for name, value in response.get("headers", {}).items()
                     if name.lower() == "content-type" and value.split(";", 1)[0].strip().lower() not in media]
        schema = media.get("application/json", {}).get("schema")
        if schema is None:
            if "body" in response:
                problems.append(Problem(303, f"Property '{where}response.body' is not supported: {op.label} "
                                             f"answers {status} without a body."))
            return problems
        if "body" not in response:
            return [*problems, Problem(301, f"Property '{where}response.body' is required: {op.label} answers "
                                            f"{status} with a JSON body.")]
        validator = self._contract.validator(schema)
        return problems + collect_problems(validator, response["body"], "body", f"{where}response.body")

    def _merge_problems(self, op: _Operation, merge: Any, where: str) -> list[Problem]:
        success = next((status for status in sorted(op.responses) if status.startswith("2")
                        and "application/json" in self._contract.resolve(op.responses[status]).get("content", {})),
                       None)
        if success is None:
            return [Problem(303, f"Property '{where}response.merge' is not supported: {op.label} has no JSON "
                                 "answer to merge into.")]
        key = f"{op.label} {success}"
        validator = self._optional.get(key)
        if validator is None:
            content = self._contract.resolve(op.responses[success])["content"]["application/json"]
            validator = self._optional[key] = Draft202012Validator(
                self._all_optional(content["schema"], ()), registry=self._contract.registry)
        return collect_problems(validator, merge, "body", f"{where}response.merge")

    def _all_optional(self, schema: Any, seen: tuple[str, ...]) -> Any:
        """The schema with its local references inlined and every ``required`` dropped."""
        if isinstance(schema, list):
            return [self._all_optional(item, seen) for item in schema]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:  # a recursive schema: accept anything below the second visit
                return {}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            target = self._all_optional(dict(self._contract.resolve(schema)), (*seen, ref))
            return {"allOf": [target, self._all_optional(rest, seen)]} if rest else target
        return {key: self._all_optional(value, seen) for key, value in schema.items() if key != "required"}


def check_overrides(admin_contract: Contract, checker: OverrideChecker, values: Sequence[Mapping[str, Any]],
                    listed: bool = True) -> None:
    """Raise :class:`~mockhub.engine.errors.ValidationFailed` listing every problem of some overrides, or return.

    First their shape (the control API's ``Override`` schema, then the combinations), then,
    for each one not marked ``off_contract``, the APIs' contract. ``listed`` says the values
    came as a list, so each problem's path starts with the override's index (``[1].response.body``).
    """
    OverrideEngine.check(values, admin_contract.check)
    problems = [problem for index, value in enumerate(values) if not value.get("off_contract")
                for problem in checker.problems(value, f"[{index}]." if listed else "")]
    if problems:
        raise ValidationFailed(problems=tuple(problems))
