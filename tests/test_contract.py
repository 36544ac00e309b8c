"""The contract itself: valid OpenAPI, fully served, its decisions marked (SPEC 1)."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from mockhub import admin
from mockhub.app import HANDLERS, create_app
from mockhub.contracts import Contract
from mockhub.endpoint import served_by
from mockhub.proxy.admin import HANDLERS as PROXY_HANDLERS
from mockhub.resources import admin_contract_path, contract_path


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


def test_every_request_example_fits_its_schema() -> None:
    from mockhub.contracts import collect_problems, operations_of

    checked = 0
    for path in (contract_path(), admin_contract_path()):
        document = Contract.load(path)
        for item in document.document["paths"].values():
            for _, op in operations_of(item):
                media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                if "example" in media:
                    assert collect_problems(document.validator(media["schema"]), media["example"], "body") == []
                    checked += 1
    assert checked >= 7
