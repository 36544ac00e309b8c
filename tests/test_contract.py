"""The contract itself: valid OpenAPI, fully served, its decisions marked (SPEC 1)."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from mockhub.app import HANDLERS, create_app
from mockhub.contracts import Contract
from mockhub.resources import contract_path


def test_the_contract_is_valid_openapi_3_1() -> None:
    document = json.loads(contract_path().read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_has_a_handler_and_every_handler_an_operation(contract: Contract) -> None:
    assert set(contract.operations) == set(HANDLERS)


def test_the_router_serves_exactly_the_contracts_operations(contract: Contract) -> None:
    app = create_app(contract=contract)
    served = {(r.method, r.resource.canonical) for r in app.router.routes()
              if r.resource is not None and not r.resource.canonical.startswith("/__mockhub")}
    documented = {(op.method, op.path) for op in contract.operations.values()}
    assert served == documented


def test_decisions_beyond_the_documentation_are_marked(contract: Contract) -> None:
    text = json.dumps(contract.document)
    assert text.count("x-mockhub-decision") >= 5
