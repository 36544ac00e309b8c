"""What one proxy holds: its target, checks, violations, journal and recording, behind one app key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from mockhub.contract.contracts import Contract
from mockhub.kernel import jsonio
from mockhub.kernel.clock import Clock
from mockhub.kernel.text import shown_url
from mockhub.proxy.checking import ExchangeChecker
from mockhub.proxy.forward import Forwarder
from mockhub.proxy.recording import Recorder
from mockhub.proxy.settings import ProxySettings
from mockhub.proxy.violations import ViolationLimits, ViolationLog
from mockhub.services.journal import Journal, JournalLimits
from mockhub.settings import Settings
from mockhub.web.accesslog import AccessLog
from mockhub.web.admin_guard import AdminGuard
from mockhub.web.cors import CorsPolicy
from mockhub.web.dashboard.streams import Snapshot, StreamLimits, Streams
from mockhub.web.hosts import HostPolicy

log = logging.getLogger("mockhub.proxy")


@dataclass
class Proxy:
    """The parts of a running proxy; the request pipeline and the control API share them."""

    settings: ProxySettings
    contract: Contract
    admin_contract: Contract
    """The control API's contract, which parses its calls' parameters."""
    forwarder: Forwarder
    checker: ExchangeChecker
    violations: ViolationLog
    journal: Journal
    recorder: Recorder | None
    clock: Clock
    cors: CorsPolicy
    guard: AdminGuard
    """Who may call the control API: the same checks as on ``serve``."""
    access_log: AccessLog | None
    dashboards: Streams
    """The open dashboards' event streams, fed by the journal."""

    @classmethod
    def build(cls, settings: ProxySettings, contract: Contract, admin_contract: Contract,
              snapshot: Snapshot) -> Proxy:
        """The proxy's parts; ``snapshot`` makes what a dashboard is sent of an exchange."""
        cors = CorsPolicy(settings.cors_origins)
        limits = JournalLimits.of(Settings(journal_size=settings.journal_size))
        journal = Journal(limits, session="proxy")
        return cls(
            settings=settings, contract=contract, admin_contract=admin_contract,
            forwarder=Forwarder(settings.target, settings.connect_timeout, settings.read_timeout),
            checker=ExchangeChecker(contract, settings.violation_problems),
            violations=ViolationLog(ViolationLimits(settings.max_violations, settings.violation_problems,
                                                    settings.violations_total_bytes)),
            journal=journal,
            recorder=Recorder(contract, settings.seed) if settings.record is not None else None,
            clock=Clock(), cors=cors, guard=AdminGuard(cors, HostPolicy(settings.allowed_hosts), settings.admin_token),
            access_log=AccessLog() if settings.access_log else None,
            dashboards=Streams(journal.feed, StreamLimits(settings.dashboard_streams, settings.dashboard_queue_bytes,
                                                          limits.body_bytes), "proxy", snapshot),
        )

    def write_record(self) -> dict[str, Any]:
        """Write the fixture file of what the answers showed; returns what ``POST /__mockhub/record`` says."""
        assert self.recorder is not None and self.settings.record is not None
        data, left_out = self.recorder.fixture()
        path: Path = self.settings.record
        path.write_bytes(jsonio.dumps(data) + b"\n")
        counts = {section: len(records) for section, records in data.items()}
        log.info("recorded %s to %s%s", ", ".join(f"{n} {s}" for s, n in counts.items()), path,
                 "".join(f"; left out {what}" for what in left_out))
        return {"status": "recorded", "file": str(path), "counts": counts, "leftOut": left_out}

    def write_junit(self) -> None:
        assert self.settings.junit is not None
        self.settings.junit.write_text(self.violations.junit(shown_url(self.settings.target)), encoding="utf-8")


PROXY = web.AppKey("mockhub_proxy", Proxy)
