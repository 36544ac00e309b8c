"""The whole scenario: Identity's steps, the Portal API's (the Tenants API's last), then Era's."""

from __future__ import annotations

from typing import Any

from mockhub.verify.era import ERA
from mockhub.verify.identity import IDENTITY, TENANT_STEPS, TOKEN_ON_ITS_API
from mockhub.verify.portal import PORTAL
from mockhub.verify.scenario import Step, scenario

STEPS: tuple[Step[Any], ...] = scenario(*IDENTITY, TOKEN_ON_ITS_API, *PORTAL, *TENANT_STEPS, *ERA)
"""The scenario, in the order it runs."""
