"""Property-based fuzzing of the mock against its own published contract (Schemathesis; docs/contracts.md).

Every operation of contracts/openapi.json gets generated requests, valid and invalid, and every
Schemathesis check runs on each answer: no 5xx, documented status codes only, bodies, headers and
content types as the contract says, schema-valid requests accepted and invalid ones rejected.
Each example starts from the start-up state (a reset), so it replays alone; generation is
derandomized and bounded, so a run repeats exactly and stays fast.

LOOKUP lives under ``x-additionalOperations``, which Schemathesis does not read; tests/test_points.py
and ``mockhub verify`` (tests/test_verify.py) cover it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from mockhub.contract.contracts import Contract
from mockhub.contract.requests import BODY_CHECKED_BY_HANDLER, MAX_DIGITS, METHOD_OVERRIDE
from mockhub.resources import admin_contract_path, contract_path
from mockhub.settings import Settings
from mockhub.store.points import NAMES
from mockhub.testing import Mockhub
from mockhub.web.app import create_app
from mockhub.web.server import BackgroundServer
from tests.conftest import CLOCK, HUB_A, HUB_B, POINT_ABCDE, POINTS, RESPONSE_A, TOKEN, TRANSFER_A, Api

EXAMPLES = 50
"""Generated requests per operation and phase (~40 s in all, half of it the response commands' create and update,
whose nested activity types are slow to generate). Longer runs with other seeds (300 examples)
found nothing more; the regular tests at the end keep each finding fixed, whatever the seed."""

INTEGRATION_A = "00000000-0000-0000-0000-0000000000b4"
"""Tenant A's Direct integration in the built-in dataset."""
WEBCHAT_A = "00000000-0000-0000-0000-0000000000b3"
"""Tenant A's WebChat integration in the built-in dataset."""
PORTAL_CLIENT = "hubster.portal.api.00000000000000000000000000000001"
"""Tenant A's Portal client in the built-in dataset (its one secret has id 1)."""
OTHER_CLIENT = "hubster.portal.api.ABC1E69FC888875FEE2C45789FD66A00"
"""Tenant B's Portal client."""
EVENT_COMMAND_A = "00000000-0000-0000-0000-000000000006"
"""Tenant A's event response command in the built-in dataset (RESPONSE_A is a customer's message command)."""

KNOWN: Mapping[str, tuple[Mapping[str, str], ...]] = {
    "/api/v1/hubs/{hubId}": ({"hubId": HUB_A}, {"hubId": HUB_B}),
    "/api/v1/integrations/hubs/{id}": ({"id": HUB_A}, {"id": WEBCHAT_A}, {"id": INTEGRATION_A}, {"id": HUB_B}),
    "/api/v1/integrations/hubs/{hubId}/{channelType}": ({"hubId": HUB_A},),
    "/api/v1/integrations/{integrationId}": ({"integrationId": INTEGRATION_A},),
    "/api/v1/integrations": ({"hubId": HUB_A},),
    f"{POINTS}/{{id}}": ({"id": POINT_ABCDE},),
    "/api/v1/tenants/clients/{clientId}": ({"clientId": PORTAL_CLIENT}, {"clientId": OTHER_CLIENT}),
    "/api/v1/tenants/clients/{clientId}/tokens": ({"clientId": PORTAL_CLIENT},),
    "/api/v1/tenants/clients/{clientId}/tokens/{tokenId}": ({"clientId": PORTAL_CLIENT, "tokenId": "1"},),
    "/api/v1/commands/transfers/{id}": ({"id": HUB_A}, {"id": TRANSFER_A}, {"id": HUB_B}),
    "/api/v1/commands/responses/{id}": ({"id": HUB_A}, {"id": RESPONSE_A}, {"id": EVENT_COMMAND_A}, {"id": HUB_B}),
    **{f"/api/v1/commands/{kind}/hub/{{hubId}}": ({"hubId": HUB_A}, {"hubId": HUB_B})
       for kind in ("transfers", "responses")},
}
"""Ids of the built-in dataset a generated GUID may be swapped for, so that reads, updates and deletes
of records that exist (and of another tenant's, 403) are fuzzed too, not only 404s."""

TOKEN_PATH = "/connect/token"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VALID: Mapping[str, Callable[[str], object]] = {"clientId": lambda value: 1 <= len(value) <= 256,
                                                "tokenId": re.compile(r"^[0-9]{1,10}$").match}
"""What the contract takes for the parameters that are no GUID."""


def _valid(name: str, value: Any) -> bool:
    """Whether a generated parameter is valid, so that a known id may stand in for it."""
    return isinstance(value, str) and bool(VALID.get(name, GUID.match)(value))

# The Portal API's bearer token, given as the contract's own security scheme so that the requests
# testing a missing or bad token go without it.
config = schemathesis.Config.from_dict({"seed": 0, "auth": {"openapi": {"portalToken": {"bearer": TOKEN},
                                                                          "engineToken": {"bearer": TOKEN}}}})


def json_text_parameters_as_content(document: dict[str, Any]) -> dict[str, Any]:
    """The contract with each JSON-text parameter (order, filter: a string whose ``contentMediaType`` is JSON)
    in the equivalent ``content`` form. Schemathesis reads ``contentSchema`` as no constraint and would send
    any string as valid; from ``content`` it generates JSON texts of that schema, valid and invalid."""
    parameters = {}
    for name, param in document["components"]["parameters"].items():
        schema = param.get("schema", {})
        if schema.get("contentMediaType") == "application/json":
            param = {k: v for k, v in param.items() if k != "schema"}
            param["content"] = {"application/json": {"schema": schema["contentSchema"]}}
        parameters[name] = param
    return {**document, "components": {**document["components"], "parameters": parameters}}


contract = schemathesis.openapi.from_dict(json_text_parameters_as_content(json.loads(contract_path().read_text())),
                                          config=config)


def _maybe_known(context: schemathesis.HookContext, values: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """``values`` as generated, or with a known id in place of a generated GUID (never of an invalid
    value: a request generated to be invalid stays invalid)."""
    choices = [values]
    assert context.operation is not None
    for known in KNOWN.get(context.operation.path, ()):
        if values and all(_valid(k, values.get(k)) for k in known):
            choices.append({**values, **known})
    return st.sampled_from(choices)


@contract.hook
def flatmap_path_parameters(context: schemathesis.HookContext, values: dict[str, Any]) -> st.SearchStrategy[Any]:
    return _maybe_known(context, values)


@contract.hook
def flatmap_query(context: schemathesis.HookContext, values: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    return _maybe_known(context, values)


TOKEN_REQUEST = Contract.load().schema("TokenRequest")
BUILT_IN_CLIENT = {"client_id": "hubster.portal.api.00000000000000000000000000000001",
                   "client_secret": "mockhub-dev-portal-secret"}


@contract.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """A valid token request as generated, or with a built-in client's credentials in place of the generated
    ones, so that tokens are fuzzed too, not only 401s (an invalid request stays as it is)."""
    assert context.operation is not None
    if context.operation.path != TOKEN_PATH or not TOKEN_REQUEST.is_valid(body):
        return st.just(body)
    return st.sampled_from([body, {**body, **BUILT_IN_CLIENT}])


@pytest.fixture(scope="module")
def mock() -> Iterator[Mockhub]:
    """A mock for the module; each example resets it as the pytest fixture does (no HTTP round trip)."""
    server = BackgroundServer(create_app(Settings(clock=CLOCK, access_log=False)))
    server.start()
    yield Mockhub(server)
    server.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@contract.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_the_mock_keeps_its_published_contract(case: schemathesis.Case, mock: Mockhub, http: requests.Session) -> None:
    mock.reset()
    excluded = []
    if case.path == POINTS:
        # The collection's Allow rightly names LOOKUP, which Schemathesis cannot see in x-additionalOperations;
        # the suite's own checker (tests/conftest.py) checks that Allow against the whole contract.
        excluded.append(allow_header_conformance)
    if case.operation.definition.raw.get(BODY_CHECKED_BY_HANDLER) and case.path != TOKEN_PATH:
        # The body's schema depends on what the path names (a hub: create; an integration: update with its
        # channel's configuration), which no static schema can say: a body valid for one is refused for the
        # other. Every other check still runs; tests/test_integrations.py covers both bodies. (The token
        # endpoint checks its form itself to answer OAuth 2's errors, but its schema says what it takes.)
        excluded.append(positive_data_acceptance)
    if case.headers and case.headers.get(METHOD_OVERRIDE) == "LOOKUP":
        # The header turns the POST into LOOKUP, whose body is a JSON string; OpenAPI cannot tie a body
        # to a header's value, so a create body would pass for valid. tests/test_points.py covers it.
        del case.headers[METHOD_OVERRIDE]
    case.call_and_validate(base_url=mock.url, session=http, excluded_checks=excluded)


clock_control = schemathesis.openapi.from_dict(json.loads(admin_contract_path().read_text()),
                                              config=schemathesis.Config.from_dict({"seed": 0})
                                              ).include(path="/__mockhub/clock")


@clock_control.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_the_clock_control_keeps_its_contract(case: schemathesis.Case, mock: Mockhub, http: requests.Session) -> None:
    """The control API's clock, the way tests move it: every answer as its contract says, none a 5xx. A
    ClockChange's ``set`` and ``advance`` are strings whose meaning (an instant, a duration, a move that stays
    within the years 1 to 9999) the mock checks and names; no schema can say it, so a schema-valid change may
    be refused with 400."""
    mock.reset()
    case.call_and_validate(base_url=mock.url, session=http, excluded_checks=[positive_data_acceptance])


webhook_controls = schemathesis.openapi.from_dict(json.loads(admin_contract_path().read_text()),
                                                 config=schemathesis.Config.from_dict({"seed": 0})
                                                 ).include(path_regex="^/__mockhub/(activities|deliver)")


@webhook_controls.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_the_webhook_controls_keep_their_contract(case: schemathesis.Case, mock: Mockhub,
                                                  http: requests.Session) -> None:
    """The control calls of the Engine's webhooks (a customer's message, the delivery log, delivery faults): every
    answer as the contract says, none a 5xx. A customer's message is checked against the APIs' contract and a
    delivery fault against its webhooks, which the control API's own schemas cannot say: a schema-valid one may be
    refused with 400."""
    mock.reset()
    case.call_and_validate(base_url=mock.url, session=http, excluded_checks=[positive_data_acceptance])


# -- what the fuzzer found, each as a regular test -------------------------------------------------

@pytest.mark.parametrize("operation", [op.label for op in (r.ok() for r in contract.get_all_operations())])
def test_schemathesis_can_generate_every_operations_requests(operation: str) -> None:
    """Finding: no request could be generated for POST /api/v1/integrations/hubs/{id} (UnsupportedSchema):
    IntegrationCreate chose its configuration schema by six if/then pairs in an allOf, which Schemathesis's
    canonicaliser gives up on. Fix: the same rule as one if/else chain."""
    method, path = operation.split(" ", 1)

    @given(contract[path][method].as_strategy())
    @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
    def draw(case: schemathesis.Case) -> None:
        assert case.method == method

    draw()


def era_param(name: str) -> Any:
    """A validator of the contract's schema of an Era list parameter (plain JSON Schema, no mockhub reading)."""
    param = Contract.load().document["components"]["parameters"][name]
    schema = param["schema"].get("contentSchema", param["schema"])
    return Contract.load().validator(schema)


@pytest.mark.parametrize(("name", "values"), [
    ("mask", [*NAMES, "id,opts.title", " code , ext.ct ", "A", "tokenlocal", "opts.nope", "id.x", "id,,code"]),
    ("order", [[n] for n in NAMES] + [[f"-{n}"] for n in NAMES] + [[{n: "desc"}] for n in NAMES] + [["A"]]),
    ("filter", [{n: "x"} for n in NAMES] + [{"A": None}, {"opts.nope": 1}]),
])
async def test_the_contract_accepts_exactly_the_field_names_the_mock_accepts(
        api: Api, name: str, values: list[Any]) -> None:
    """Finding: ``mask=A`` (and unknown names in order and filter) fit the contract, yet the mock answered 400.
    Fix: the contract's schemas name the fields (marked x-mockhub-checked-by-handler, so the mock's own
    answer still names the unknown field and suggests the closest)."""
    validator = era_param(name)
    for value in values:
        sent = value if isinstance(value, str) else json.dumps(value)
        reply = await api.get(POINTS, params={name: sent})
        assert validator.is_valid(value) == (reply.status == 200), (value, reply.body)
    assert "did you mean 'token_local'?" in (await api.get(POINTS, params={"mask": "tokenlocal"})).json()[
        "error_message"]


@pytest.mark.parametrize(("path", "param"), [("/api/v1/hubs", "pageNumber"), (POINTS, "offset")])
async def test_an_integer_parameter_of_any_length_is_a_number(api: Api, path: str, param: str) -> None:
    """Finding: ``pageNumber=16817745013461548595714941220028416`` (an integer, as the contract allowed) was
    answered "is not a number". Fix: the contract bounds pageNumber and offset (2147483647, as the .NET
    service binds them), and the mock reads integers of any length, so a long one is out of range."""
    assert (await api.get(path, params={param: "2147483647"})).status == 200
    for too_large in ("2147483648", "16817745013461548595714941220028416"):
        reply = await api.get(path, params={param: too_large})
        assert reply.status == 400
        assert f"Value '{too_large}' of '{param}' is not valid: it must be <= 2147483647." in reply.body.decode()
    # past Python's int-from-text limit (4300 digits): still a plain 400, never a 500
    reply = await api.get(path, params={param: "9" * 5000})
    assert reply.status == 400
    assert f"of '{param}' is out of range." in reply.body.decode()
    # digits of other scripts, which Python's int() would read, are not a JSON number
    assert "is not a number" in (await api.get(path, params={param: "\u0663"})).body.decode()


def test_every_integer_query_parameter_has_bounds_within_what_the_mock_reads(contract: Contract) -> None:
    """The mock calls an integer of more than MAX_DIGITS digits out of range; that is true only if every
    integer parameter of the contract has a maximum (and a minimum) of fewer digits."""
    for op in contract.operations.values():
        for param in op.query_params.values():
            if param.kind == "integer":
                schema = param.validator.schema
                assert len(str(schema["maximum"])) < MAX_DIGITS and "minimum" in schema, (op.operation_id, param.name)
