"""What the APIs' contract says of an answer a dashboard was shown (``POST /__mockhub/ui/verdict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract

SHOWN_PROBLEMS = 100
"""Problems a verdict lists; past them it counts (``more_problems``)."""


def verdict(contract: Contract, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The operation the request went to, what the contract declares for the answer's status, and the ways the
    answer (``method``, ``path``, ``status``, ``headers``, ``body`` as text) breaks the contract: the first
    :data:`SHOWN_PROBLEMS`, then how many more the check found (it stops at
    :data:`~mockhub.contract.conformance.MOST_MISMATCHES` schema problems)."""
    checker = contract.derived("response_checker", lambda: ResponseChecker(contract))
    method, path, status = answer["method"].upper(), answer["path"], answer["status"]
    _, spec, _ = checker.operation_for(method, path)
    headers = CIMultiDict(answer["headers"])
    found = checker.mismatches(method, path, status, headers, answer["body"].encode("utf-8"))
    shown = [{"in": mismatch.part, "at": mismatch.at, "message": mismatch.message}
             for mismatch in found[:SHOWN_PROBLEMS]]
    made: dict[str, Any] = {"operation": spec["operationId"] if spec is not None else None,
                            "expected": checker.describe(method, path, status), "problems": shown}
    if len(found) > SHOWN_PROBLEMS:
        made["more_problems"] = len(found) - SHOWN_PROBLEMS
    return made
