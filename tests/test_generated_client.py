"""A Python client generated from the served contract works against the mock (openapi-python-client).

Teams generate clients from ``/__mockhub/openapi.json``: the generator must take every operation
and model without a warning, and each generated call must get an answer it parses into the
generated models, with nothing lost (the model written back is the JSON the mock sent).
Generation takes about a second: no formatting hooks (``post_hooks: []``), no packaging metadata
(``--meta none``), once per module.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import httpx
import pytest

from mockhub.pytest_plugin import Mockhub
from mockhub.settings import Settings
from mockhub.web.app import create_app
from mockhub.web.server import BackgroundServer
from tests.conftest import ABCDE_TOKEN, POINT_ABCDE, POINTS

PACKAGE = "mockhub_client"
CONFIG = f"package_name_override: {PACKAGE}\npost_hooks: []\n"
"""No formatter run after generation (the default runs ruff over the output): the code works the same."""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from a running mock's published contract, imported."""
    out = tmp_path_factory.mktemp("client")
    config = out / "config.yaml"
    config.write_text(CONFIG)
    server = BackgroundServer(create_app(Settings(access_log=False)))
    url = server.start()
    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("openapi-python-client")), "generate",
             "--url", f"{url}/__mockhub/openapi.json", "--output-path", str(out / PACKAGE),
             "--meta", "none", "--config", str(config), "--fail-on-warning"],
            capture_output=True, text=True, timeout=120, check=False)
    finally:
        server.stop()
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "warning" not in report.lower(), report
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def module(generated: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{generated.__name__}.{name}")


def call(generated: ModuleType, operation: str, status: int, model: str | None, **kw: Any) -> Any:
    """Run one generated operation; its answer has ``status`` and parses into the generated ``model``."""
    tag, function = operation.split(".")
    response = module(generated, f"api.{tag}.{function}").sync_detailed(**kw)
    assert response.status_code == status, response.content
    parsed = response.parsed
    if model is None:
        assert parsed is None and response.content == b""
        return None
    models = module(generated, "models")
    if model.startswith("list["):
        item = getattr(models, model[5:-1])
        assert isinstance(parsed, list) and parsed and all(isinstance(p, item) for p in parsed), parsed
        assert [p.to_dict() for p in parsed] == json.loads(response.content)
    else:
        assert isinstance(parsed, getattr(models, model)), parsed
        assert parsed.to_dict() == json.loads(response.content)
    return parsed


def test_the_client_has_every_operation_and_model(generated: ModuleType) -> None:
    operations = {p.stem for p in Path(generated.__file__).parent.glob("api/*/*.py") if p.stem != "__init__"}
    assert operations == {
        "request_token",
        "create_hub", "list_hubs", "get_hub", "update_hub", "delete_hub",
        "create_or_update_integration", "get_integrations_by_channel", "get_integration",
        "delete_integration", "list_integrations",
        "create_integration_point", "list_integration_points", "get_integration_point",
        "patch_integration_point", "delete_integration_point",
        "get_client", "add_client_token", "delete_client_token",
        *(f"{verb}_{kind}_command" for verb in ("create", "get", "update", "delete")
          for kind in ("transfer", "response")),
        "list_transfer_commands", "list_response_commands",
        "establish_conversation", "get_conversation", "get_activities", "send_direct_activity",
    }
    models = module(generated, "models")
    for name in ("TokenRequest", "TokenResponse", "IdentityError", "Client", "ClientToken", "ClientTokenCreate",
                 "Hub", "HubPage", "Integration", "IntegrationPage", "PortalError", "EraError", "IntegrationPoint",
                 "IntegrationPointCreate", "IntegrationPointPatch", "IntegrationPointView", "IntegrationPointOpts",
                 "TransferCommand", "TransferCommandCreate", "TransferCommandUpdate", "ResponseCommand",
                 "ResponseCommandCreate", "ResponseCommandUpdate", "ActivityMessage", "ActivityEvent", "TextMessage",
                 "PayloadEvent", "EngineError", "ConversationEstablish", "EstablishedConversation", "Conversation",
                 "Activity", "DirectActivity", "DirectActivityAccepted", "SystemWebhookPayload",
                 "DirectWebhookPayload"):
        assert hasattr(models, name), name


def test_every_portal_operation(generated: ModuleType, mockhub: Mockhub) -> None:
    models = module(generated, "models")
    client = generated.AuthenticatedClient(base_url=mockhub.url, token=mockhub.token, raise_on_unexpected_status=True)
    with client:
        hub = call(generated, "hubs.create_hub", 200, "Hub", client=client,
                   body=models.HubCreate(name="Generated", description="made by a generated client"))
        page = call(generated, "hubs.list_hubs", 200, "HubPage", client=client, page_size=100)
        assert hub.hub_id in [h.hub_id for h in page.results]
        call(generated, "hubs.get_hub", 200, "Hub", client=client, hub_id=hub.hub_id)
        updated = call(generated, "hubs.update_hub", 200, "Hub", client=client, hub_id=hub.hub_id,
                       body=models.HubUpdate(status_id=models.HubUpdateStatusId(2002)))
        assert updated.status_id == 2002

        config = models.IntegrationCreateConfiguration.from_dict({"allowedOrigins": ["https://shop.example"]})
        made = call(generated, "integrations.create_or_update_integration", 200, "Integration", client=client,
                    id=hub.hub_id, body=models.IntegrationCreate(channel_id=models.ChannelRefType0("WebChat"),
                                                                 name="Chat", configuration=config))
        changed = call(generated, "integrations.create_or_update_integration", 200, "Integration", client=client,
                       id=made.integration_id, body=models.IntegrationUpdate(
                           configuration=models.WebChatConfigUpdate(allowed_origins=["https://other.example"])))
        assert changed.configuration.to_dict()["allowedOrigins"] == ["https://other.example"]
        call(generated, "integrations.get_integration", 200, "Integration", client=client,
             integration_id=made.integration_id)
        call(generated, "integrations.get_integrations_by_channel", 200, "list[Integration]", client=client,
             hub_id=hub.hub_id, channel_type=models.ChannelName.WEBCHAT)
        call(generated, "integrations.list_integrations", 200, "IntegrationPage", client=client, hub_id=hub.hub_id)
        call(generated, "integrations.delete_integration", 200, "Integration", client=client,
             integration_id=made.integration_id)
        call(generated, "hubs.delete_hub", 200, "Hub", client=client, hub_id=hub.hub_id)
        # an error answer parses into the error model too
        error = call(generated, "hubs.get_hub", 404, "PortalError", client=client, hub_id=hub.hub_id)
        assert error.status == 404


def test_the_identity_operation_gets_a_token_the_portal_operations_take(generated: ModuleType,
                                                                        mockhub: Mockhub) -> None:
    models = module(generated, "models")
    client = generated.Client(base_url=mockhub.url, raise_on_unexpected_status=True)
    with client:
        body = models.TokenRequest(grant_type=models.TokenRequestGrantType.CLIENT_CREDENTIALS,
                                   client_id="hubster.portal.api.00000000000000000000000000000001",
                                   client_secret="mockhub-dev-portal-secret")
        token = call(generated, "identity.request_token", 200, "TokenResponse", client=client, body=body)
        assert token.token_type == "Bearer" and token.expires_in == 2592000
        body.client_secret = "wrong"
        refused = call(generated, "identity.request_token", 401, "IdentityError", client=client, body=body)
        assert refused.error == models.IdentityErrorError.INVALID_CLIENT
    portal = generated.AuthenticatedClient(base_url=mockhub.url, token=token.access_token,
                                           raise_on_unexpected_status=True)
    with portal:
        call(generated, "hubs.list_hubs", 200, "HubPage", client=portal)


def test_every_tenants_operation(generated: ModuleType, mockhub: Mockhub) -> None:
    models = module(generated, "models")
    client_id = "hubster.portal.api.00000000000000000000000000000001"
    client = generated.AuthenticatedClient(base_url=mockhub.url, token=mockhub.token, raise_on_unexpected_status=True)
    with client:
        read = call(generated, "tenants.get_client", 200, "Client", client=client, client_id=client_id)
        assert [s.name for s in read.secrets] == ["mockhub dev portal secret"]
        made = call(generated, "tenants.add_client_token", 200, "ClientToken", client=client, client_id=client_id,
                    body=models.ClientTokenCreate(name="generated", expiration="2030-01-31T00:00:00"))
        assert made.expiration == "2030-01-31T00:00:00" and len(made.token) == 40
        gone = call(generated, "tenants.delete_client_token", 200, "ClientToken", client=client, client_id=client_id,
                    token_id=str(made.id))
        assert gone.token.endswith("...")
        error = call(generated, "tenants.get_client", 404, "PortalError", client=client, client_id="nobody")
        assert error.status == 404


def test_every_command_operation(generated: ModuleType, mockhub: Mockhub) -> None:
    models = module(generated, "models")
    client = generated.AuthenticatedClient(base_url=mockhub.url, token=mockhub.token, raise_on_unexpected_status=True)
    with client:
        hub = call(generated, "hubs.create_hub", 200, "Hub", client=client,
                   body=models.HubCreate(name="Commands", description="made by a generated client"))
        transfer = call(generated, "transfer_commands.create_transfer_command", 200, "TransferCommand", client=client,
                        id=hub.hub_id, body=models.TransferCommandCreate(
                            name="shop", url="https://shop.example", link_description="Go shopping"))
        assert transfer.mount_delay == 0
        change = models.TransferCommandUpdate(link_description="Shop", mount_delay=-1)
        changed = call(generated, "transfer_commands.update_transfer_command", 200, "TransferCommand", client=client,
                       id=transfer.command_id, body=change)
        assert (changed.link_description, changed.mount_delay, changed.name) == ("Shop", -1, "shop")
        call(generated, "transfer_commands.get_transfer_command", 200, "TransferCommand", client=client,
             id=transfer.command_id)
        call(generated, "transfer_commands.list_transfer_commands", 200, "list[TransferCommand]", client=client,
             hub_id=hub.hub_id)
        call(generated, "transfer_commands.delete_transfer_command", 200, "TransferCommand", client=client,
             id=transfer.command_id)

        text = models.ResponseCommandCreateResponsesItem.from_dict({"type": "text", "text": "Hello"})
        response = call(generated, "response_commands.create_response_command", 200, "ResponseCommand",
                        client=client, id=hub.hub_id, body=models.ResponseCommandCreate(
                            name="hello", integration_type_id=models.ResponseCommandCreateIntegrationTypeId.AGENT,
                            type_=models.ResponseCommandCreateType.MESSAGE, responses=[text]))
        assert response.responses[0].to_dict() == {"type": "text", "text": "Hello"}
        seen = models.ResponseCommandUpdateResponsesItem.from_dict({"type": "seen"})
        changed = call(generated, "response_commands.update_response_command", 200, "ResponseCommand", client=client,
                       id=response.command_id, body=models.ResponseCommandUpdate(
                           type_=models.ResponseCommandUpdateType.EVENT, responses=[seen]))
        assert changed.type_ == "event" and changed.category == ""
        call(generated, "response_commands.get_response_command", 200, "ResponseCommand", client=client,
             id=response.command_id)
        call(generated, "response_commands.list_response_commands", 200, "list[ResponseCommand]", client=client,
             hub_id=hub.hub_id)
        call(generated, "hubs.delete_hub", 200, "Hub", client=client, hub_id=hub.hub_id)
        error = call(generated, "response_commands.get_response_command", 404, "PortalError", client=client,
                     id=response.command_id)
        assert error.errors[0].code == 105


def test_every_engine_operation(generated: ModuleType, mockhub: Mockhub) -> None:
    models = module(generated, "models")
    client = generated.AuthenticatedClient(base_url=mockhub.url, token=mockhub.token, raise_on_unexpected_status=True)
    with client:
        hub = call(generated, "hubs.create_hub", 200, "Hub", client=client,
                   body=models.HubCreate(name="Engine", description="made by a generated client"))
        integrations = {}
        for kind in ("Customer", "Agent"):
            config = models.IntegrationCreateConfiguration.from_dict({"integrationType": kind})
            integrations[kind] = call(generated, "integrations.create_or_update_integration", 200, "Integration",
                                      client=client, id=hub.hub_id, body=models.IntegrationCreate(
                                          channel_id=models.ChannelRefType0("Direct"), name=kind,
                                          configuration=config))
        made = call(generated, "conversations.establish_conversation", 200, "EstablishedConversation", client=client,
                    body=models.ConversationEstablish.from_dict({
                        "integrationId": str(integrations["Customer"].integration_id), "binding": "generated",
                        "channelType": "Direct"}))
        assert made.is_new
        call(generated, "conversations.get_conversation", 200, "Conversation", client=client,
             conversation_id=made.conversation_id)
        said = call(generated, "direct.send_direct_activity", 200, "DirectActivityAccepted", client=client,
                    conversation_id=made.conversation_id, body=models.DirectActivity.from_dict(
                        {"type": "message", "message": {"type": "text", "text": "Hi there!"}}))
        answered = call(generated, "direct.send_direct_activity", 200, "DirectActivityAccepted", client=client,
                        conversation_id=made.conversation_id, body=models.DirectActivity.from_dict({
                            "type": "event", "event": {"type": "typing_on"},
                            "sender": {"integrationId": str(integrations["Agent"].integration_id)}}))
        assert isinstance(said.interaction_id, UUID) and not answered.interaction_id
        listed = call(generated, "interactions.get_activities", 200, "list[Activity]", client=client,
                      conversation_id=made.conversation_id, type_="Customer")
        assert [a.event_id for a in listed] == [said.event_id, answered.event_id]
        call(generated, "hubs.delete_hub", 200, "Hub", client=client, hub_id=hub.hub_id)
        error = call(generated, "conversations.get_conversation", 404, "EngineError", client=client,
                     conversation_id=made.conversation_id)
        assert error.errors[0].code == 6500


def test_every_era_operation(generated: ModuleType, mockhub: Mockhub) -> None:
    models = module(generated, "models")
    client = generated.Client(base_url=mockhub.url, raise_on_unexpected_status=True)
    with client:
        point = call(generated, "integration_points.create_integration_point", 200, "IntegrationPoint",
                     client=client, body=models.IntegrationPointCreate(
                         code="GEN", type_="public", opts=models.IntegrationPointOpts(title="made", roles=["admin", 1]),
                     ))
        listed = call(generated, "integration_points.list_integration_points", 200, "list[IntegrationPointView]",
                      client=client, filter_=json.dumps({"type": "public"}), order=json.dumps(["-code"]),
                      mask="id,code,opts.roles", flat=True)
        assert [(p.code, p.opts_roles) for p in listed][:1] == [("GEN", ["admin", 1])]
        view = call(generated, "integration_points.get_integration_point", 200, "IntegrationPointView",
                    client=client, id=point.id)
        assert view.token_local == point.token_local
        patched = call(generated, "integration_points.patch_integration_point", 200, "IntegrationPoint",
                       client=client, id=point.id, body=models.IntegrationPointPatch(url="https://hook.example"))
        assert patched.url == "https://hook.example"
        call(generated, "integration_points.delete_integration_point", 204, None, client=client, id=point.id)
        error = call(generated, "integration_points.get_integration_point", 404, "EraError", client=client, id=point.id)
        assert error.error_code == 1404


def test_lookup_answers_parse_into_the_generated_types(generated: ModuleType, mockhub: Mockhub) -> None:
    """LOOKUP is a custom verb, which no generator makes a function for (in 3.1 it lives in an x- extension):
    the client's own HTTP session sends it, and the generated parser of the POST (whose answer with
    ``X-HTTP-Method-Override: LOOKUP`` is LOOKUP's) reads the ids and the error."""
    create = module(generated, "api.integration_points.create_integration_point")
    models = module(generated, "models")
    client = generated.Client(base_url=mockhub.url, raise_on_unexpected_status=True)
    with client:
        http: httpx.Client = client.get_httpx_client()
        found = create._build_response(client=client, response=http.request("LOOKUP", POINTS, json=ABCDE_TOKEN))
        assert found.status_code == 200 and found.parsed == [UUID(POINT_ABCDE)]
        missing = create._build_response(client=client, response=http.request("LOOKUP", POINTS, json="NOPE"))
        assert isinstance(missing.parsed, models.EraError) and missing.parsed.error_code == 1404
