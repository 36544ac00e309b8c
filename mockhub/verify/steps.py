"""The whole scenario: the Portal API's steps, then Era's."""

from __future__ import annotations

from typing import Any

from mockhub.verify.era import ERA
from mockhub.verify.portal import PORTAL
from mockhub.verify.scenario import Step, scenario

STEPS: tuple[Step[Any], ...] = scenario(*PORTAL, *ERA)
"""The scenario, in the order it runs."""
