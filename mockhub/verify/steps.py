"""The whole scenario: the Portal API's steps (a hub's commands before the hub's deletion), then Era's."""

from __future__ import annotations

from typing import Any

from mockhub.verify.commands import COMMANDS, COMMANDS_TAKEN_ALONG
from mockhub.verify.era import ERA
from mockhub.verify.portal import HUB_DELETION, PORTAL
from mockhub.verify.scenario import Step, scenario

STEPS: tuple[Step[Any], ...] = scenario(*PORTAL, *COMMANDS, *HUB_DELETION, *COMMANDS_TAKEN_ALONG, *ERA)
"""The scenario, in the order it runs."""
