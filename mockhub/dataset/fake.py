"""Bulk fake data on demand (decisions.md, Data): ``--fake hubs=50,integrations=5,commands=4,points=200,tenants=3``.

Faker draws from the store's one seeded random source, so the same seed and fixtures
give the same data, byte for byte. Records are built in the fixture format and enter
the store through the same loaders as fixture files.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from mockhub.store import Record, Store
from mockhub.store.integrations import CONFIGURED_CHANNELS

if TYPE_CHECKING:
    from faker import Faker

POINT_TYPES = ("public", "im", "Subscriber", "telegram")
RECEIVE_SCRIPTS = ("ws_hook", "http_hook", "tg_hook")
SEND_SCRIPTS = ("send_to_web", "send_to_tg", "send_to_im")
EVENTS = ("message", "message:customer", "message:agent", "message:bot")


@dataclass(frozen=True)
class FakeSpec:
    """How many records to make: hubs for the default tenant, integrations and commands in each, integration
    points, and tenants (each with a static token and its Portal and Engine clients, a secret each)."""

    hubs: int = 0
    integrations: int = 0
    commands: int = 0
    points: int = 0
    tenants: int = 0

    @classmethod
    def parse(cls, text: str) -> FakeSpec:
        """``hubs=50,integrations=5,commands=4,points=200``; any subset, in any order."""
        names = [f.name for f in fields(cls)]
        counts: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = (s.strip() for s in part.partition("="))
            if not sep or name not in names or not value.isdigit():
                raise ValueError(f"--fake takes {'=N,'.join(names)}=N (counts), not {part!r}")
            counts[name] = int(value)
        return cls(**counts)

    def __bool__(self) -> bool:
        return bool(self.hubs or self.integrations or self.commands or self.points or self.tenants)


def add_fake_data(store: Store, spec: FakeSpec) -> None:
    """Add ``spec``'s records to ``store``: tenants after those loaded, hubs for the default tenant (the first),
    ``integrations`` and ``commands`` in each (each new hub, or each hub of the default tenant when no hubs are
    asked for), then points. The commands of a hub alternate between transfer and response commands, a transfer
    command first."""
    from faker import Faker  # loaded only when fake data is asked for: it is slow to import

    fake = Faker("en_US")
    # One seeded random source for every value. Faker.random is a real property (faker/proxy.py)
    # that its type stubs leave out.
    fake.random = store.ctx.random.generator  # type: ignore[attr-defined]
    for _ in range(spec.tenants):
        _tenant(store, fake)
    tenants = list(store.tenants.by_id)
    if (spec.hubs or spec.integrations or spec.commands) and not tenants:
        raise ValueError("--fake hubs/integrations/commands need a tenant: load fixtures that define one")
    hub_ids = [_hub(store, fake, tenants[0], i)["hubId"] for i in range(spec.hubs)]
    if not hub_ids and (spec.integrations or spec.commands):
        hub_ids = [h["hubId"] for h in store.hubs.by_id.values() if h["tenantId"] == tenants[0]]
    for hub_id in hub_ids:
        for index in range(spec.integrations):
            _integration(store, fake, hub_id, index)
        for index in range(spec.commands):
            (_response_command if index % 2 else _transfer_command)(store, fake, hub_id, index)
    for _ in range(spec.points):
        _point(store, fake)


def _tenant(store: Store, fake: Faker) -> None:
    """A tenant with a company's name, a static token, and a Portal and an Engine client with a secret each (the
    secrets' values drawn from the seeded source)."""
    store.add_tenant({
        "tenantId": store.ctx.new_id(store.tenants.by_id),
        "name": fake.company(),
        "tokens": [f"mockhub-fake-{fake.hexify('^' * 24)}"],
        "clients": {api: {"secrets": [{"name": f"{api} secret"}]} for api in ("portal", "engine")},
    })


def _hub(store: Store, fake: Faker, tenant_id: str, index: int) -> Record:
    name = fake.company()
    if store.hubs.name_taken(tenant_id, name):
        name = f"{name} {index + 1}"
    return store.load_hub({
        "tenantId": tenant_id,
        "name": name,
        "description": fake.catch_phrase(),
        "closeDormantConversation": fake.random_element((0, 7, 14, 30, 60, 90)),
        "statusId": 2000 if fake.random.random() < 0.9 else 2002,
    })


def _integration(store: Store, fake: Faker, hub_id: str, index: int) -> Record:
    channel = CONFIGURED_CHANNELS[index % len(CONFIGURED_CHANNELS)]
    return store.integrations.load({
        "hubId": hub_id,
        "channelId": channel,
        "name": f"{fake.bs().capitalize()} ({channel} {index + 1})",
        "statusId": 3000 if fake.random.random() < 0.9 else 3002,
        "configuration": _configuration(channel, fake),
    })


def _configuration(channel: str, fake: Faker) -> dict[str, Any]:
    """A realistic configuration as a client sends it; the store adds what the server adds."""
    def url() -> str:
        return f"https://{fake.domain_name()}/hubster/{fake.uri_path(deep=1)}"

    if channel == "TwilioSMS":
        return {"authToken": fake.hexify("^" * 32), "accountSid": "AC" + fake.hexify("^" * 32),
                "numberSid": "PN" + fake.hexify("^" * 32)}
    if channel == "Messenger":
        return {"pageAccessToken": "EAA" + fake.password(length=120, special_chars=False)}
    if channel == "WebChat":
        return {"allowedOrigins": ["localhost", fake.domain_name()],
                "start": [{"type": "text", "text": f"Welcome to {fake.company()}! How can we help you?"}]}
    if channel == "Direct":
        return {"integrationType": fake.random_element(("Customer", "Agent")), "echo": fake.boolean(),
                "webhookUrl": url()}
    if channel == "System":
        return {"webhookUrl": url(), "events": sorted(fake.random_sample(EVENTS), key=EVENTS.index)}
    # Slack: an OAuth code and its state (UNIX time plus client secret, Portal docs, Integrations > Create)
    return {"code": f"{fake.numerify('#' * 12)}.{fake.numerify('#' * 13)}.{fake.hexify('^' * 64)}",
            "state": f"{fake.unix_time():.0f}{fake.hexify('^' * 16)}"}


def _transfer_command(store: Store, fake: Faker, hub_id: str, index: int) -> Record:
    return store.transfer_commands.load({
        "hubId": hub_id,
        "name": f"{fake.word()}-{index + 1}",
        "description": fake.sentence(),
        "url": fake.url(),
        "linkDescription": f"Continue on {fake.domain_name()}",
        "mountDelay": fake.random_element((0, 0, 500, 1000, 3000, -1)),
    })


def _response_command(store: Store, fake: Faker, hub_id: str, index: int) -> Record:
    """A response command as the documentation shows them: a customer's contact card, or an agent's payload event."""
    body: dict[str, Any] = {"hubId": hub_id, "name": f"{fake.word()}-{index + 1}", "category": fake.word(),
                            "description": fake.sentence()}
    if fake.boolean():
        name = fake.name()
        contact = {"type": "contact", "title": name, "subtitle": fake.company(), "properties": [
            {"key": "Address", "value": fake.address().replace("\n", ", "), "type": "address;work"},
            {"key": "Cell", "value": fake.phone_number(), "type": "phone;cell"},
            {"key": "Email", "value": fake.company_email(), "type": "email"}]}
        body.update(integrationTypeId="customer", type="message",
                    responses=[{"type": "text", "text": f"Below is {name}'s contact info"}, contact])
    else:
        payload = {"type": "payload", "payloadType": f"{fake.word()}.{fake.word()}",
                   "payload": {"message": fake.sentence()}}
        body.update(integrationTypeId="agent", type="event", responses=[payload])
    return store.response_commands.load(body)


def _point(store: Store, fake: Faker) -> Record:
    code = fake.bothify("??-#####").upper()
    while store.points.code_taken(code):
        code = fake.bothify("??-#######").upper()
    return store.points.load({
        "code": code,
        "type": fake.random_element(POINT_TYPES),
        "token_remote": fake.hexify("^" * 16) if fake.boolean() else "",
        "url": fake.url(),
        "recv_svcscriptcode": fake.random_element(RECEIVE_SCRIPTS),
        "send_svcscriptcode": fake.random_element(SEND_SCRIPTS),
        "opts": {"title": fake.catch_phrase(), "comment": fake.sentence(),
                 "allow_files_api": fake.boolean(), "issync": fake.boolean()},
    })
