"""The scenario of ``mockhub verify`` is put together by :func:`mockhub.verify.scenario.scenario`, which
refuses a step placed before a step it needs."""

from __future__ import annotations

import pytest

from mockhub.verify.probe import Probe
from mockhub.verify.scenario import Json, Step, scenario


async def nothing(probe: Probe) -> Json | None:
    return None


MAKER: Step[Json] = Step("things", "make a thing", nothing, makes="thing")
USER = Step("things", "use the thing", nothing, needs=(MAKER,))


def test_steps_run_after_the_steps_they_need() -> None:
    assert scenario(MAKER, USER) == (MAKER, USER)
    with pytest.raises(ValueError, match="'use the thing' needs 'make a thing', which makes nothing before it"):
        scenario(USER, MAKER)
    with pytest.raises(ValueError, match="'use the thing' needs 'make a thing'"):
        scenario(USER)


def test_a_step_that_makes_nothing_cannot_be_needed() -> None:
    silent = Step("things", "say nothing", nothing)
    with pytest.raises(ValueError, match="'ask' needs 'say nothing', which makes nothing before it"):
        scenario(silent, Step("things", "ask", nothing, needs=(silent,)))


def test_a_blocked_step_names_the_step_that_should_have_made_what_it_needs() -> None:
    assert USER.blocked(lambda step: False, other_token=None) == "needs the thing that 'make a thing' makes"
    assert USER.blocked(lambda step: step is MAKER, other_token=None) == ""
    other = Step("things", "as another tenant", nothing, needs=(MAKER,), other_tenant=True)
    assert other.blocked(lambda step: True, other_token=None) == (
        "give --other-token (a token of another tenant) to check 403")
    assert other.blocked(lambda step: True, other_token="t") == ""

