"""What a step works with while it runs: a :class:`Probe` sends its requests, checks each answer against
the contract and against what the step expects, hands it what earlier steps made, and becomes its
:class:`~mockhub.verify.reports.Check`."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.dialects import Dialect
from mockhub.contract.requests import FORM
from mockhub.kernel.jsonio import small_integer
from mockhub.verify.client import Answer, Client
from mockhub.verify.reports import Check

if TYPE_CHECKING:
    from mockhub.verify.scenario import Step

T = TypeVar("T")

SHOWN_BODY = 300
"""How much of an unexpected body the report quotes."""
THROTTLED = (429, 503)
"""Answers after which a request is sent again (they carry Retry-After: decisions.md, Faults)."""
RETRIES = 2
MAX_WAIT_SECONDS = 10
"""The longest Retry-After honoured; a longer one is cut short."""

_DEFAULT: Any = object()


def _seconds(retry_after: str | None) -> float:
    """How long to wait for a ``Retry-After`` of seconds (1 s when it is missing or not a number)."""
    seconds = small_integer(retry_after) if retry_after else None
    return min(float(seconds), MAX_WAIT_SECONDS) if seconds is not None else 1.0


@dataclass(frozen=True)
class RunContext:
    """What every step of one run shares: the client, the contract's checker, the run's id and the other
    tenant's token (``None``: not given)."""

    client: Client
    checker: ResponseChecker
    run_id: str
    other_token: str | None
    engine_token: str | None = None
    """The token of the Engine's steps (``None``: the run's token, which works for every API on the mock)."""
    client_id: str = ""
    """The Identity client the run authenticates as (and whose secrets the Tenants API steps change)."""
    client_secret: str = ""

    @property
    def missing_id(self) -> str:
        """A well-formed GUID that names nothing: the run id makes it unique to this run."""
        return f"{self.run_id}-0000-4000-8000-{self.run_id}0000"

    def unique(self, what: str) -> str:
        """A name no earlier run used: ``mockhub-verify-<run id>-<what>``."""
        return f"mockhub-verify-{self.run_id}-{what}"


class Probe:
    """One step's run: its requests, what each answer got wrong, and what the steps it needs made."""

    def __init__(self, context: RunContext, made: Mapping[Step[Any], Any]) -> None:
        self.context = context
        self._made = made
        self._problems: list[str] = []
        self._request = self._expected = self._got = ""
        self._answer: Answer | None = None

    @property
    def missing_id(self) -> str:
        return self.context.missing_id

    @property
    def other_token(self) -> str | None:
        return self.context.other_token

    def unique(self, what: str) -> str:
        return self.context.unique(what)

    @property
    def engine_token(self) -> str:
        """The token of the Engine's requests."""
        return self.context.engine_token or self.context.client.token

    @property
    def client_id(self) -> str:
        return self.context.client_id

    @property
    def client_secret(self) -> str:
        return self.context.client_secret

    def made(self, step: Step[T]) -> T:
        """What ``step`` made; the scenario says it among the needs of the step that asks."""
        if step not in self._made:
            raise LookupError(f"the step does not name '{step.name}' among its needs")
        return cast(T, self._made[step])

    def created(self, path: str) -> None:
        """The step made ``path``: the run deletes it at the end unless the step does."""
        self.context.client.created(path)

    def deleted(self, path: str) -> None:
        """The step deleted ``path``: the run need not."""
        self.context.client.deleted(path)

    def expect(self, condition: bool, problem: str) -> None:
        """Record ``problem`` unless ``condition`` holds (what a step knows beyond the contract)."""
        if not condition:
            self._problems.append(problem)

    def same(self, value: Any, expected: Mapping[str, Any], what: str) -> None:
        """Each field of ``expected`` is in ``value`` (a JSON object) with the same value."""
        if not isinstance(value, dict):
            return  # the contract check has reported the shape
        for key, wanted in expected.items():
            self.expect(value.get(key) == wanted, f"{what}: {key} is {json.dumps(value.get(key))}, "
                                                  f"expected {json.dumps(wanted)}")

    async def call(self, method: str, path: str, status: int, *, body: Any = _DEFAULT, raw: bytes | None = None,
                   content_type: str = "application/json", token: str | None = _DEFAULT,
                   params: Mapping[str, str] | None = None, codes: Sequence[int] = (),
                   form: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
                   error: str | None = None) -> Answer:
        """Send one request (``form``: as a form body); check the status, the contract, the error ``codes`` (PRT
        numbers) and the OAuth 2 ``error``."""
        token = self.context.client.token if token is _DEFAULT else token
        data = raw if body is _DEFAULT else json.dumps(body).encode()
        if form is not None:
            data, content_type = urllib.parse.urlencode(form).encode(), FORM
        throttled: list[str] = []
        for attempt in range(RETRIES + 1):
            answer = await self.context.client.send(method, path, data, content_type, token, params, headers)
            if answer.status not in THROTTLED or answer.status == status or attempt == RETRIES:
                break
            # A usage limit or an outage is no mismatch: the answer must keep the contract (Retry-After
            # included), then the request is sent again when the server says, as a client would.
            if not answer.cut:
                self._check_contract(method, path, answer)
            throttled.append(str(answer.status))
            await asyncio.sleep(_seconds(answer.headers.get("Retry-After")))
        self._answer = answer
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        retried = f" (retried after {', '.join(throttled)})" if throttled else ""
        self._request = f"{method} {path}{query} -> {answer.status}{retried}"
        prefix = "ENG" if self.context.checker.dialect_for(method, path) is Dialect.ENGINE else "PRT"
        self._expected = self.context.checker.describe(method, path, status) + (
            f" ({', '.join(f'{prefix}{c:06d}' for c in codes)})" if codes else "")
        media = answer.headers.get("Content-Type", "no Content-Type")
        self._got = f"{answer.status} {media}, {len(answer.body)} bytes"
        if answer.status != status:
            self._problems.append(f"status {answer.status}, expected {status}")
        if answer.cut:  # a body read in part cannot be checked: that it has no end is the problem
            self._got = f"{answer.status} {media}, more than {len(answer.body)} bytes"
            self._problems.append(f"the answer went on past {len(answer.body)} bytes (--max-answer-bytes): "
                                  "only its beginning was read, and nothing of it checked")
            return answer
        self._check_contract(method, path, answer)
        if codes and answer.status == status and isinstance(answer.json(), dict):
            given = [e.get("code") for e in answer.json().get("errors", []) if isinstance(e, dict)]
            self.expect(all(c in given for c in codes),
                        f"error codes {given}, expected {', '.join(str(c) for c in codes)}")
        if error is not None and answer.status == status and isinstance(answer.json(), dict):
            self.expect(answer.json().get("error") == error, f"error is {json.dumps(answer.json().get('error'))}, "
                                                              f"expected {json.dumps(error)}")
        return answer

    def _check_contract(self, method: str, path: str, answer: Answer) -> None:
        where = f"{method} {path} -> {answer.status}: "  # the report names the request once, above its problems
        for problem in self.context.checker.check(method, path, answer.status, answer.headers, answer.body):
            if problem.removeprefix(where) not in self._problems:
                self._problems.append(problem.removeprefix(where))

    def check(self, group: str, name: str, seconds: float) -> Check:
        """The step's result: its last request, what was expected, what came back and every problem."""
        got = self._got
        if self._problems and self._answer is not None and self._answer.body:
            text = self._answer.body.decode("utf-8", "replace")
            got += ": " + (text if len(text) <= SHOWN_BODY else text[:SHOWN_BODY] + "...")
        return Check(group, name, self._request, self._expected, got, tuple(self._problems), seconds=seconds)
