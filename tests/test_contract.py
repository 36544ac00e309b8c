"""The contract itself: valid OpenAPI, fully served, its decisions marked (docs/contracts.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV32SpecValidator, validate

from mockhub.contract.contracts import Contract
from mockhub.contract.openapi32 import to_openapi_3_2
from mockhub.proxy.admin import HANDLERS as PROXY_HANDLERS
from mockhub.resources import admin_contract_path, contract_path
from mockhub.web import admin
from mockhub.web.app import HANDLERS, create_app
from mockhub.web.endpoint import served_by


def test_the_contracts_are_valid_openapi_3_1() -> None:
    for path in (contract_path(), admin_contract_path()):
        document = json.loads(path.read_text())
        assert document["openapi"].startswith("3.1")
        validate(document)


def test_every_operation_has_a_handler_and_every_handler_an_operation(contract: Contract) -> None:
    assert set(contract.operations) == set(HANDLERS)
    admin_contract = Contract.load(admin_contract_path())
    assert served_by(admin_contract, "serve") == set(admin.HANDLERS)
    assert served_by(admin_contract, "proxy") == set(PROXY_HANDLERS)
    assert served_by(admin_contract, "serve") | served_by(admin_contract, "proxy") == set(admin_contract.operations)


def test_the_router_serves_exactly_the_contracts_operations(contract: Contract) -> None:
    app = create_app(contract=contract)
    served = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None}
    admin_contract = Contract.load(admin_contract_path())
    documented = {(op.method, op.path) for op in contract.operations.values()}
    documented |= {(op.method, op.path) for op_id, op in admin_contract.operations.items()
                   if op_id in served_by(admin_contract, "serve")}
    assert served == documented


def test_decisions_beyond_the_documentation_are_marked(contract: Contract) -> None:
    text = json.dumps(contract.document)
    assert text.count("x-mockhub-decision") >= 5


def _examples(node: Any, where: str = "#") -> Iterator[tuple[str, Any, Any]]:
    """Every example of an OpenAPI document with the schema it illustrates: of a media type or a parameter
    (``example``, or each ``examples`` entry's ``value``) and of a schema (each of its ``examples``)."""
    if isinstance(node, dict):
        if "schema" in node and isinstance(node["schema"], dict):
            if "example" in node:
                yield f"{where}/example", node["schema"], node["example"]
            for name, example in node.get("examples", {}).items():
                yield f"{where}/examples/{name}", node["schema"], example["value"]
            if node["schema"].get("contentMediaType") == "application/json":  # a JSON text's own examples
                for i, text in enumerate(node["schema"].get("examples", ())):
                    yield f"{where}/schema/examples/{i}", node["schema"]["contentSchema"], json.loads(text)
        elif isinstance(node.get("examples"), list) and ("type" in node or "$ref" in node):
            for i, example in enumerate(node["examples"]):
                yield f"{where}/examples/{i}", node, example
        for key, value in node.items():
            yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _examples(value, f"{where}/{i}")


@pytest.mark.parametrize("path", [contract_path(), admin_contract_path()], ids=["api", "admin"])
def test_every_example_fits_its_schema(path: Path) -> None:
    """Linters and documentation tools show the examples; each must be a value the contract accepts."""
    document = Contract.load(path)
    examples = list(_examples(document.document))
    for where, schema, example in examples:
        errors = [e.message for e in document.validator(schema).iter_errors(example)]
        assert not errors, (where, errors)
    assert examples


def test_the_committed_openapi_3_2_form_is_made_from_the_contract(contract: Contract) -> None:
    committed = json.loads(contract_path().with_name("openapi-3.2.json").read_text())
    assert committed == to_openapi_3_2(contract.document), (
        "contracts/openapi-3.2.json is stale: run `python -m mockhub.contract.openapi32 contracts/openapi-3.2.json`")


def test_the_openapi_3_2_form_is_valid_with_lookup_as_an_additional_operation(contract: Contract) -> None:
    """Checked against the official OpenAPI 3.2 schema (2025-11-23), which openapi-spec-validator ships."""
    document = to_openapi_3_2(contract.document)
    validate(document, cls=OpenAPIV32SpecValidator)
    points = document["paths"]["/rest/v1/service/integration_points"]
    assert points["additionalOperations"]["LOOKUP"]["operationId"] == "lookupIntegrationPoint"
    assert not any("x-additionalOperations" in item for item in document["paths"].values())
    # the same operations, read by mockhub's own loader from either form
    routes = {(op.method, op.path, op_id) for op_id, op in contract.operations.items()}
    assert {(op.method, op.path, op_id) for op_id, op in Contract(document).operations.items()} == routes
    # and nothing else differs
    assert {**document, "openapi": contract.document["openapi"], "paths": contract.document["paths"]} == (
        contract.document)
