"""Bulk data for the scale figures: a fixture file (contracts/fixtures.schema.json) of N hubs and N points.

``mockhub serve --fake hubs=N,points=N`` (issue 6) makes such data too; a file keeps the
figures independent of it, and of its random names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TENANT = "00000000-0000-4000-8000-00000000b001"
TOKEN = "bench-token"
CREATED = "2021-01-01T00:00:00.0000000Z"


def hub_id(number: int) -> str:
    """A GUID per hub number: the data stays the same from run to run."""
    return f"{number:08x}-0000-4000-8000-{number:012x}"


def fixture(hubs: int, points: int) -> dict[str, Any]:
    """One tenant (token ``bench-token``) with ``hubs`` hubs, and ``points`` integration points."""
    return {
        "tenants": [{"tenantId": TENANT, "name": "Benchmark tenant", "tokens": [TOKEN]}],
        "hubs": [
            {"hubId": hub_id(n), "tenantId": TENANT, "name": f"Hub {n}", "description": f"Benchmark hub number {n}",
             "closeDormantConversation": 30, "statusId": 2000, "created": CREATED, "modified": CREATED}
            for n in range(hubs)
        ],
        "integrationPoints": [{"code": f"POINT-{n}", "type": "public"} for n in range(points)],
    }


def write(path: Path, hubs: int, points: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(fixture(hubs, points), handle, separators=(",", ":"))
    return path
