"""Checking an override against the APIs' contract, so an override cannot answer what the API never would.

The method and path must name an operation (a glob path: every operation it covers), the
status must be one the operation declares, and a body must fit that status's response schema.
A merge is checked as it will merge into the operation's successful answer (which fits its
schema): an object merges key by key into an object, so what it leaves out stays and need not
be given; any other value (an array, a string, ``null``) replaces what was there, so it must fit
whole. What that decides is refused when the override is added; what depends on the answer it
merges into (``channelId`` decides what an integration's ``configuration`` holds) is checked on
each merged answer (:meth:`OverrideChecker.merged_problems`).
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
from mockhub.kernel.errors import Problem, ValidationFailed
from mockhub.kernel.matching import is_glob
from mockhub.kernel.signing import SIGNATURE_HEADER
from mockhub.services.delivery_faults import MISSING_HEADER, DeliveryFaultEngine
from mockhub.services.overrides import OverrideEngine

_GLOB_PART = re.compile(r"\[[^]]*\]|[*?]")
PAYLOAD = "x-mockhub-payload"
"""Which payload a webhook of the contract is (``system``, ``direct``), as delivery faults name it."""


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
        self._merging: dict[str, Draft202012Validator] = {}

    @property
    def contract(self) -> Contract:
        """The APIs' contract it checks against."""
        return self._contract

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
        validator = self._merging.get(key)
        if validator is None:
            content = self._contract.resolve(op.responses[success])["content"]["application/json"]
            validator = self._merging[key] = self._contract.validator(self._merged_into(content["schema"], ()))
        return collect_problems(validator, merge, "body", f"{where}response.merge")

    def delivery_fault_problems(self, rule: Mapping[str, Any], where: str = "") -> list[Problem]:
        """Every way a delivery fault (fitting the DeliveryFault schema) misses the webhooks the contract declares:
        a header it matches or leaves out that no webhook sends, a body no payload could hold."""
        webhooks = self._webhooks()
        kinds = [rule["payload"]] if rule.get("payload") in webhooks else list(webhooks)
        sent = {name for kind in kinds for name in webhooks[kind][1]}
        problems = [Problem(206, f"Value '{name}' of '{where}headers' is not valid: the webhooks send "
                                 f"{', '.join(sorted(sent))}.")
                    for name in rule.get("headers") or {} if name.lower() not in sent]
        if rule.get("fault") == MISSING_HEADER and str(rule.get("header", SIGNATURE_HEADER)).lower() not in sent:
            problems.append(Problem(206, f"Value '{rule['header']}' of '{where}header' is not valid: the webhooks "
                                         f"send {', '.join(sorted(sent))}."))
        if "body" in rule:
            found = {kind: collect_problems(self._subset_validator(webhooks[kind][0]), rule["body"], "body",
                                            f"{where}body") for kind in kinds}
            if all(found.values()):
                problems += [Problem(p.code, f"{kind} payload: {p.message}" if len(kinds) > 1 else p.message)
                             for kind, kind_problems in found.items() for p in kind_problems]
        return problems

    def _webhooks(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Each webhook of the contract by its payload kind (``x-mockhub-payload``): its body schema's reference and
        the headers it is sent with (lower case)."""
        found = {}
        for item in self._contract.document.get("webhooks", {}).values():
            post = item["post"]
            headers = frozenset({p["name"].lower() for p in post.get("parameters", ()) if p["in"] == "header"}
                                | {"content-type", "user-agent"})
            found[post[PAYLOAD]] = (post["requestBody"]["content"]["application/json"]["schema"]["$ref"], headers)
        return found

    def _subset_validator(self, ref: str) -> Draft202012Validator:
        validator = self._merging.get(ref)
        if validator is None:
            validator = self._merging[ref] = self._contract.validator(self._merged_into({"$ref": ref}, (), True))
        return validator

    def merged_problems(self, method: str, path: str, status: int, answer: Any) -> list[Problem]:
        """How an answer an override's merge made breaks the schema of its operation's ``status`` (none if it
        fits): what depends on the answer merged into, which no check of the merge alone decides."""
        op = next((op for op in self._operations if op.method == method and op.covers(path)), None)
        declared = op.responses.get(str(status)) if op is not None else None
        schema = (self._contract.resolve(declared).get("content", {}).get("application/json", {}).get("schema")
                  if declared is not None else None)
        return [] if schema is None else collect_problems(self._contract.validator(schema), answer, "body")

    def _merged_into(self, schema: Any, seen: tuple[str, ...], subset: bool = False) -> Any:
        """What a merge value must fit to merge into a value that fits ``schema``: an object merges key by key
        (:meth:`_object_merged_into`); anything else replaces the value, so must fit ``schema`` itself.
        ``subset``: what a matcher's body subset must fit to be found in such a value, where an array's items
        are subsets too (:func:`~mockhub.kernel.matching.body_differences`)."""
        kinds = ["object", "array"] if subset else "object"
        return {"if": {"type": kinds}, "then": self._object_merged_into(schema, seen, subset), "else": schema}

    def _object_merged_into(self, schema: Any, seen: tuple[str, ...], subset: bool = False) -> Any:
        """What an object must fit for what it merges into a value fitting ``schema`` to fit ``schema`` too, when
        that can be told without the value: no ``required`` (the value keeps what the object leaves out), each
        property given as :meth:`_merged_into` its own schema, and of each rule that depends on the merged
        whole (``if``/``then``, ``oneOf``, ``not``) only what holds whichever way it goes. Local references
        are inlined (a recursive one accepts anything below its second visit)."""
        if isinstance(schema, list):
            return [self._object_merged_into(item, seen, subset) for item in schema]
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                return {}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            target = self._object_merged_into(dict(self._contract.resolve(schema)), (*seen, ref), subset)
            return {"allOf": [target, self._object_merged_into(rest, seen, subset)]} if rest else target
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _DECIDED_BY_THE_WHOLE or (key in ("enum", "const") and _holds_an_object(value)):
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {name: self._merged_into(sub, seen, subset) for name, sub in value.items()}
            elif key in ("additionalProperties", "items" if subset else "") and not isinstance(value, bool):
                out[key] = self._merged_into(value, seen, subset)  # a subset's array items are subsets too
            elif key == "allOf":
                out.setdefault("allOf", []).extend(self._object_merged_into(value, seen, subset))
            elif key in ("anyOf", "oneOf"):  # the whole fits one branch (or just one): the object fits its part
                out.setdefault("allOf", []).append({"anyOf": self._object_merged_into(value, seen, subset)})
            else:
                out[key] = value
        if "then" in schema and "else" in schema:  # whichever way the whole goes, one of them holds
            branches = [self._object_merged_into(schema[key], seen, subset) for key in ("then", "else")]
            out.setdefault("allOf", []).append({"anyOf": branches})
        return out


_DECIDED_BY_THE_WHOLE = frozenset({"required", "minProperties", "dependentRequired", "dependentSchemas", "not",
                                   "if", "then", "else", "unevaluatedProperties"})
"""Keywords of an object's schema that a merged object's own keys cannot decide (what the answer keeps counts)."""


def _holds_an_object(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and any(isinstance(item, dict) for item in value))


def check_overrides(admin_contract: Contract, checker: OverrideChecker, values: Sequence[Mapping[str, Any]],
                    listed: bool = True) -> None:
    """Raise :class:`~mockhub.kernel.errors.ValidationFailed` listing every problem of some overrides, or return.

    First their shape (the control API's ``Override`` schema, then the combinations), then,
    for each one not marked ``off_contract``, the APIs' contract. ``listed`` says the values
    came as a list, so each problem's path starts with the override's index (``[1].response.body``).
    """
    OverrideEngine.check(values, admin_contract.check)
    problems = [problem for index, value in enumerate(values) if not value.get("off_contract")
                for problem in checker.problems(value, f"[{index}]." if listed else "")]
    if problems:
        raise ValidationFailed(problems=tuple(problems))


def check_delivery_faults(admin_contract: Contract, checker: OverrideChecker, values: Sequence[Mapping[str, Any]],
                          listed: bool = True) -> None:
    """Raise :class:`~mockhub.kernel.errors.ValidationFailed` listing every problem of some delivery faults, or
    return: their shape (the control API's ``DeliveryFault``, then the combinations), then the webhooks of the
    APIs' contract. ``listed``: each problem's path starts with the rule's index."""
    DeliveryFaultEngine.check(values, admin_contract.check)
    problems = [problem for index, value in enumerate(values)
                for problem in checker.delivery_fault_problems(value, f"[{index}]." if listed else "")]
    if problems:
        raise ValidationFailed(problems=tuple(problems))
