"""The whole scenario: Identity's steps, the Portal API's (a hub's commands and the Engine's conversations before the
hub's deletion, the Tenants API's last), then Era's."""

from __future__ import annotations

from typing import Any

from mockhub.verify.commands import COMMANDS, COMMANDS_TAKEN_ALONG
from mockhub.verify.engine import ENGINE, ENGINE_TAKEN_ALONG
from mockhub.verify.era import ERA
from mockhub.verify.identity import IDENTITY, TENANT_STEPS, TOKEN_ON_ITS_API
from mockhub.verify.portal import HUB_DELETION, PORTAL
from mockhub.verify.scenario import Step, scenario

STEPS: tuple[Step[Any], ...] = scenario(*IDENTITY, TOKEN_ON_ITS_API, *PORTAL, *COMMANDS, *ENGINE, *HUB_DELETION,
                                        *COMMANDS_TAKEN_ALONG, *ENGINE_TAKEN_ALONG, *TENANT_STEPS, *ERA)
"""The scenario, in the order it runs."""
