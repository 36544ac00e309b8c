"""Runs the scenario against a server: each step in turn, or skipped when what it needs was not made, then
whatever the run made deleted again."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from time import perf_counter
from typing import Any

import aiohttp

from mockhub import __version__
from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract
from mockhub.settings import APIS, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN, Settings
from mockhub.verify.client import Client, Unreachable
from mockhub.verify.probe import Probe, RunContext
from mockhub.verify.reports import Check, Report
from mockhub.verify.scenario import Step
from mockhub.verify.steps import STEPS

TIMEOUT_SECONDS = 30


async def verify(base_url: str, *, token: str = DEFAULT_TOKEN, other_token: str | None = None,
                 client_id: str = DEFAULT_CLIENT_ID, client_secret: str = DEFAULT_CLIENT_SECRET,
                 apis: Sequence[str] = APIS, run_id: str | None = None, contract: Contract | None = None,
                 answer_bytes: int = Settings.verify_answer_bytes, engine_token: str | None = None) -> Report:
    """Run the scenario against ``base_url`` and report every check (``apis`` picks identity, portal, engine and/or
    era; ``client_id`` and ``client_secret`` are a client of ``token``'s tenant; ``answer_bytes``: what is read of
    one answer at most; ``engine_token``, of the same tenant, is the Engine's, ``token`` when not given)."""
    run_id = run_id or secrets.token_hex(4)  # unique per run against a shared server, so not the seeded source
    report = Report(base_url, run_id)
    checker = ResponseChecker(contract or Contract.load())
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": f"mockhub-verify/{__version__}"},
                                     auto_decompress=True) as session:
        client = Client(session, base_url, token, answer_bytes)
        context = RunContext(client, checker, run_id, other_token, engine_token, client_id, client_secret)
        made: dict[Step[Any], Any] = {}  # what each step made that the contract accepts, for the steps after it
        for step in (s for s in STEPS if s.api in apis):
            try:
                check, value = await perform(step, context, made)
            except Unreachable as exc:  # no check: the server, not its answer, is the problem
                report.unreachable = str(exc)
                return report
            report.checks.append(check)
            if value is not None and step.makes and (
                    not step.schema or checker.contracts[0].schema(step.schema).is_valid(value)):
                made[step] = value
        report.left_behind = await context.client.clean_up()
    return report


async def perform(step: Step[Any], context: RunContext, made: dict[Step[Any], Any]) -> tuple[Check, Any]:
    """Run one step (unless it is blocked); its check and what it made (``None``: nothing)."""
    blocked = step.blocked(made.__contains__, context.other_token)
    if blocked:
        return Check(step.group, step.name, skipped=blocked), None
    probe = Probe(context, {need: made[need] for need in step.needs})
    started = perf_counter()
    value = None
    try:
        value = await step.action(probe)
    except (TimeoutError, aiohttp.ClientError) as exc:
        probe.expect(False, f"no answer: {exc!r}")
    except Unreachable:
        raise
    except Exception as exc:  # a conformance tool must report, not crash on, whatever a server answers
        probe.expect(False, f"the answer broke the step: {exc!r}")
    return probe.check(step.group, step.name, perf_counter() - started), value
