"""The layers hold: the domain (the store, the fault engine, sessions, the journal and the errors they
raise) imports no HTTP library, no schema library and not the contract; only the HTTP edge renders."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import mockhub.engine
import mockhub.store

CONTROL = "mockhub.engine.control"
"""The one engine module that reads the contract: it checks the states, rules and overrides it is given."""

DOMAIN = (
    "mockhub.store",
    *(f"mockhub.store.{module.name}" for module in pkgutil.iter_modules(mockhub.store.__path__)),
    "mockhub.engine",
    *(name for module in pkgutil.iter_modules(mockhub.engine.__path__)
      if (name := f"mockhub.engine.{module.name}") != CONTROL),
    "mockhub.dataset.fake",
)
FORBIDDEN = ("aiohttp", "yarl", "jsonschema", "jsonschema_rs", "referencing", "mockhub.web", "mockhub.contract",
             "mockhub.dataset.fixtures", "mockhub.proxy", "mockhub.verify")
"""What the domain must not load. multidict is allowed: the matcher keeps query parameters and
headers in its containers (repeated keys, names in any case), which are data, not HTTP."""


def forbidden_loaded(module: str) -> list[str]:
    """What importing ``module`` in a fresh interpreter loads of FORBIDDEN, directly or through its imports."""
    script = (f"import sys, {module}\n"
              f"forbidden = {FORBIDDEN!r}\n"
              "print(*sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in forbidden)))")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_loads_no_http_or_schema_library(module: str) -> None:
    loaded = forbidden_loaded(module)
    assert loaded == [], f"importing {module} loads {', '.join(loaded)}"


def test_the_check_sees_a_module_that_breaks_the_rule() -> None:
    loaded = forbidden_loaded("mockhub.web.endpoint")
    assert {"aiohttp", "jsonschema", "mockhub.contract", "mockhub.contract.contracts", "mockhub.web"} <= set(loaded)
