"""What the APIs' contract says of an answer a dashboard was shown (``POST /__mockhub/ui/verdict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict

from mockhub.contract.conformance import ResponseChecker
from mockhub.contract.contracts import Contract


def verdict(contract: Contract, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The operation the request went to, what the contract declares for the answer's status, and every way the
    answer (``method``, ``path``, ``status``, ``headers``, ``body`` as text) breaks the contract."""
    checker = contract.derived("response_checker", lambda: ResponseChecker(contract))
    method, path, status = answer["method"].upper(), answer["path"], answer["status"]
    _, spec, _ = checker.operation_for(method, path)
    headers = CIMultiDict(answer["headers"])
    found = checker.mismatches(method, path, status, headers, answer["body"].encode("utf-8"))
    return {"operation": spec["operationId"] if spec is not None else None,
            "expected": checker.describe(method, path, status),
            "problems": [{"in": mismatch.part, "at": mismatch.at, "message": mismatch.message} for mismatch in found]}
