"""The layers hold, two ways.

1. Imports go one way: a module imports only from lower layers (the order is ARCHITECTURE.md's), and never a
   sibling package of its own layer (the store and the contract stand beside each other; so do web and verify).
2. The domain (the kernel, the store, the session services but the two that check against the contract, fake
   data) loads no HTTP library, no schema library and not the contract: only the HTTP edge renders.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mockhub
import mockhub.kernel
import mockhub.services
import mockhub.store

LAYERS: tuple[tuple[str, ...], ...] = (
    ("kernel", "settings", "resources"),
    ("store", "contract"),
    ("dataset",),
    ("services",),
    ("web", "verify"),
    ("proxy",),
    ("testing",),
    ("pytest_plugin",),
    ("cli",),
    ("__main__",),
)
"""mockhub's packages and top-level modules from the bottom up; those on one line stand beside each other."""
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
PACKAGE = Path(mockhub.__file__).parent
PACKAGE_METADATA = {"__version__"}
"""What any module may take from the package itself (``from mockhub import __version__``): it loads nothing."""


def imported_parts(source: str) -> Iterator[tuple[int, str]]:
    """Each mockhub package or top-level module ``source`` imports (at any depth: in functions and under
    ``TYPE_CHECKING`` too), with its line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            names = [node.module]
            if node.module == "mockhub":
                names = [f"mockhub.{alias.name}" for alias in node.names if alias.name not in PACKAGE_METADATA]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "mockhub" and len(parts) > 1:
                yield node.lineno, parts[1]


def wrong_way(part: str, source: str) -> list[str]:
    """Each import of ``source`` (a module of the package or top-level module ``part``) that goes up or sideways."""
    rank = RANK[part]
    return [f"line {line}: {part} imports mockhub.{target}"
            for line, target in imported_parts(source)
            if target != part and RANK.get(target, len(LAYERS)) >= rank]


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE)


def part_of(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def test_every_package_has_a_layer() -> None:
    assert {part_of(path) for path in modules()} == set(RANK)


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_module_imports_only_from_lower_layers(path: Path) -> None:
    assert wrong_way(part_of(path), path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("part", "source", "found"), [
    ("kernel", "from mockhub.store import Store", ["line 1: kernel imports mockhub.store"]),
    ("store", "def f():\n    from mockhub.contract.contracts import Contract",
     ["line 2: store imports mockhub.contract"]),
    ("services", "if TYPE_CHECKING:\n    import mockhub.web.app", ["line 2: services imports mockhub.web"]),
    ("verify", "from mockhub import testing", ["line 1: verify imports mockhub.testing"]),
    ("web", "from mockhub.verify.client import Answer\nfrom mockhub.kernel import jsonio",
     ["line 1: web imports mockhub.verify"]),
    ("services", "from mockhub.store import Store\nfrom mockhub import __version__\nfrom mockhub.services import x",
     []),
])
def test_the_check_sees_an_import_that_goes_up_or_sideways(part: str, source: str, found: list[str]) -> None:
    assert wrong_way(part, source) == found


CHECKS_AGAINST_THE_CONTRACT = ("mockhub.services.control", "mockhub.services.override_check")
"""The session services that read the contract: they check the states, rules and overrides they are given."""

DOMAIN = (
    *(f"{package.__name__}.{module.name}" for package in (mockhub.kernel, mockhub.store, mockhub.services)
      for module in pkgutil.iter_modules(package.__path__)
      if f"{package.__name__}.{module.name}" not in CHECKS_AGAINST_THE_CONTRACT),
    "mockhub.store",
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


def test_the_conformance_client_loads_no_server() -> None:
    loaded = forbidden_loaded("mockhub.verify.runner")
    assert not [name for name in loaded if name.startswith(("mockhub.web", "mockhub.proxy"))]


def test_the_check_sees_a_module_that_breaks_the_rule() -> None:
    loaded = forbidden_loaded("mockhub.web.endpoint")
    assert {"aiohttp", "jsonschema", "mockhub.contract", "mockhub.contract.contracts", "mockhub.web"} <= set(loaded)


def test_no_two_classes_share_a_name() -> None:
    """A name means one thing: a reader (or a search) finding ``Answer`` finds one class."""
    defined: dict[str, list[str]] = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                defined.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: where for name, where in defined.items() if len(where) > 1} == {}
