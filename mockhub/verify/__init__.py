"""``mockhub verify``: the contracts checked against any server, by one scripted scenario (decisions.md, Conformance).

The scenario is a list of named steps (:data:`STEPS`) over every documented endpoint of both
APIs: create, read, update, list with paging, each client error it can provoke, LOOKUP, delete.
Each step sends one request (a listing may page) and is one named check: the status it expects,
and the answer's status, headers and body against the contract (:class:`ResponseChecker`), plus
what the step itself knows (a created hub reads back as it was created). It talks plain HTTP, so
the server may be mockhub, the real service or anything between. Whatever it creates carries the
run's unique name and is deleted before it ends, including what a failed step left behind.

The parts: :mod:`.scenario` (what a step is, and how it names the steps it needs), :mod:`.portal`
and :mod:`.era` (the steps), :mod:`.runner` (runs them), :mod:`.probe` (what a step sends and
checks), :mod:`.client` (HTTP and clean-up) and :mod:`.reports` (text, JUnit XML, exit status).

``mockhub verify-webhook`` checks the other side, a webhook receiver (decisions.md, Webhook receivers):
:mod:`.webhook_payloads` (the documented deliveries, from a seed), :mod:`.webhook_cases` (each signed right or
wrong, and the answer expected) and :mod:`.webhook_check` (sends them, reports as verify does).
"""

from mockhub.verify.reports import Check, Report
from mockhub.verify.runner import verify
from mockhub.verify.scenario import Step
from mockhub.verify.steps import STEPS
from mockhub.verify.webhook_check import ReceiverReport, verify_webhook

__all__ = ["STEPS", "Check", "ReceiverReport", "Report", "Step", "verify", "verify_webhook"]
