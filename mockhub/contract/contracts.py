"""The contract (contracts/openapi.json): loaded once, its schemas compiled, its operations parsed.

:class:`Contract` holds the document, compiles validators for its schemas (local refs resolved
in it) and turns every operation into a request parser (:mod:`mockhub.contract.requests`);
schema errors become the APIs' problems in :mod:`mockhub.contract.problems`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockhub.contract.accepting import Accepts, Compiler
from mockhub.contract.dialects import ERROR_FORMAT, Dialect
from mockhub.contract.openapi32 import EXTENSION, STANDARD, to_openapi_3_2
from mockhub.contract.problems import collect_problems
from mockhub.contract.requests import Operation
from mockhub.kernel import jsonio
from mockhub.kernel.errors import ValidationFailed
from mockhub.resources import contract_path

T = TypeVar("T")
CONTRACT_URI = "urn:mockhub:contract"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ADDITIONAL_OPERATIONS = EXTENSION
"""Where the contract keeps custom verbs (LOOKUP): OpenAPI 3.2's additionalOperations, as an extension."""


class Contract:
    """The loaded OpenAPI document with its compiled operations."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(CONTRACT_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._tag_formats = {tag["name"]: tag[ERROR_FORMAT] for tag in document.get("tags", ()) if ERROR_FORMAT in tag}
        self._compiler = Compiler(CONTRACT_URI, document)
        self._derived: dict[str, Any] = {}
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

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """What ``build`` makes of this contract, made once per contract (a validator compiled against it:
        every app built on one contract shares it)."""
        if name not in self._derived:
            self._derived[name] = build()
        found: T = self._derived[name]
        return found

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
            # of a hub POST's validation time: docs/performance.md).
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

