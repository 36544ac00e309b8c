"""``mockhub verify-webhook``: a webhook receiver checked as the platform's documentation asks of it.

Each case of :mod:`.webhook_cases` is one POST to the receiver's URL and one named check: a delivery signed
right must be answered 2xx, one signed wrong 403. What a receiver can send back is bounded: each answer is
read up to ``answer_bytes`` and must come within ``timeout`` seconds. The report is verify's
(:mod:`.reports`): text, JUnit XML and the same exit status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from time import perf_counter

import aiohttp
from yarl import URL

from mockhub import __version__
from mockhub.settings import Settings
from mockhub.verify.client import Unreachable, read_at_most, unreachable
from mockhub.verify.probe import SHOWN_BODY
from mockhub.verify.reports import Check, Report
from mockhub.verify.webhook_cases import NAMES, Case, cases
from mockhub.verify.webhook_payloads import KINDS, ProbeDeliveries, ProbeDelivery, make_deliveries


class ReceiverReport(Report):
    """A verify-webhook run's checks; ``run_id`` is the seed the deliveries were made from."""

    COMMAND = "mockhub verify-webhook"

    @property
    def heading(self) -> str:
        return f"{self.COMMAND} {self.base_url} (seed {self.run_id})"


@dataclass(frozen=True)
class ReceiverAnswer:
    """A receiver's answer: its status, its media type and the first bytes of its body."""

    status: int
    media: str
    body: bytes
    cut: bool
    """The body went on past what was read."""


async def verify_webhook(url: str, public_key: str, private_key: str, *, seed: int = Settings.seed,
                         kinds: Sequence[str] = KINDS, timeout: float = Settings.webhook_timeout,
                         answer_bytes: int = Settings.webhook_answer_bytes) -> ReceiverReport:
    """Send the receiver at ``url`` (of an integration with these signing keys) the deliveries of ``seed``, of
    ``kinds`` (``system``, ``direct``), and report how it answered each."""
    report = ReceiverReport(url, str(seed))
    made = make_deliveries(seed, public_key, private_key)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout),
                                     headers={"User-Agent": f"mockhub-verify-webhook/{__version__}"}) as session:
        for case in cases(kinds):
            try:
                report.checks.append(await _check(session, url, case, made, timeout, answer_bytes))
            except Unreachable as exc:  # no check: the receiver, not its answer, is the problem
                report.unreachable = str(exc)
                break
    return report


async def _check(session: aiohttp.ClientSession, url: str, case: Case, made: ProbeDeliveries, timeout: float,
                 answer_bytes: int) -> Check:
    """Send ``case``'s delivery and judge the answer; raises :class:`Unreachable`."""
    delivery = case.make(made, case.kind)
    expected = "2xx" if case.accepted else "403 (Forbidden)"
    sent = f"POST {URL(url).path_qs} ({NAMES[case.kind]} payload, {len(delivery.body)} bytes)"
    started = perf_counter()
    try:
        answer = await _send(session, url, delivery, answer_bytes)
    except aiohttp.ClientConnectorError as exc:
        raise unreachable(exc) from None
    except TimeoutError:
        return _no_answer(case, sent, expected, f"no answer within {timeout:g} s", perf_counter() - started)
    except aiohttp.ClientError as exc:
        return _no_answer(case, sent, expected, f"no answer: {exc!r}", perf_counter() - started)
    seconds = perf_counter() - started
    problems = _judged(case, answer.status)
    got = f"{answer.status} {answer.media}, {len(answer.body)}{' or more' * answer.cut} bytes"
    if problems and answer.body:
        text = answer.body.decode("utf-8", "replace")
        got += ": " + (text if len(text) <= SHOWN_BODY and not answer.cut else text[:SHOWN_BODY] + "...")
    return Check(case.group, case.name, f"{sent} -> {answer.status}", expected, got, problems, seconds=seconds)


async def _send(session: aiohttp.ClientSession, url: str, delivery: ProbeDelivery, answer_bytes: int) -> ReceiverAnswer:
    """POST ``delivery`` and read the answer's body up to ``answer_bytes`` (the rest is never read)."""
    async with session.post(url, data=delivery.body, headers=dict(delivery.headers),
                            allow_redirects=False) as response:
        body, cut = await read_at_most(response, answer_bytes)
        return ReceiverAnswer(response.status, response.headers.get("Content-Type", "no Content-Type"), body, cut)


def _judged(case: Case, status: int) -> tuple[str, ...]:
    """What is wrong with answering ``case`` with ``status``."""
    if case.accepted:
        if 200 <= status < 300:
            return ()
        return (f"status {status}, expected 2xx: a delivery signed with the integration's private key was refused",)
    if status == 403:
        return ()
    if 200 <= status < 300:
        return (f"status {status}, expected 403: the receiver accepted {case.wrong}",)
    return (f"status {status}, expected 403 (Forbidden), which the documentation asks for a delivery whose "
            "signature does not match",)


def _no_answer(case: Case, sent: str, expected: str, problem: str, seconds: float) -> Check:
    return Check(case.group, case.name, f"{sent} -> no answer", expected, "no answer", (problem,), seconds=seconds)
