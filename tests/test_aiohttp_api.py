"""mockhub uses aiohttp's public API, so it installs beside any aiohttp 3.x from 3.12 a user has.

One module (``mockhub/web/aiohttp_private.py``) may use a name aiohttp does not document, and
lists each with its reason; these tests fail, naming it, when the installed aiohttp lacks one,
and when any other module reaches for a private aiohttp module or name.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import aiohttp

from mockhub.web.aiohttp_private import PRIVATE_NAMES

PACKAGE = Path(__file__).parent.parent / "mockhub"
PUBLIC_MODULES = {"aiohttp", "aiohttp.web", "aiohttp.abc", "aiohttp.typedefs", "aiohttp.test_utils", "aiohttp.hdrs"}
"""The aiohttp modules its documentation describes for applications and tests."""
PRIVATE_ATTRIBUTES = {"_resource_index", "_match", "_cookies", "_body", "_headers", "_send_headers_immediately",
                      "_make_runner", "_make_server", "_parser", "_payload_parser", "_subapps", "_routes",
                      "_any_route", "_request_handler", "_manager", "_waiter", "_messages", "_task_handler",
                      "_match_info", "_make_request", "_kwargs", "_keepalive", "_tail", "_upgraded"}
"""Private attributes of aiohttp's objects mockhub reached for before it kept to the public API."""


def test_every_private_name_mockhub_uses_is_in_the_installed_aiohttp() -> None:
    missing = [f"{owner.__name__}.{name}" for owner, name in PRIVATE_NAMES if not hasattr(owner, name)]
    assert not missing, (f"aiohttp {aiohttp.__version__} has no {', '.join(missing)}, which "
                         f"mockhub/web/aiohttp_private.py uses (see the reasons listed there)")


def _aiohttp_names(tree: ast.Module) -> set[str]:
    """The local names a module binds to aiohttp or its modules."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] == "aiohttp"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiohttp"):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    aiohttp_names = _aiohttp_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiohttp"):
            if node.module not in PUBLIC_MODULES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
            found += [f"line {node.lineno}: imports {alias.name}" for alias in node.names
                      if alias.name.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {alias.name}" for alias in node.names
                      if alias.name.startswith("aiohttp") and alias.name not in PUBLIC_MODULES]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            on_aiohttp = isinstance(owner, ast.Name) and owner.id in aiohttp_names
            on_other = not (isinstance(owner, ast.Name) and owner.id in ("self", "cls"))
            if on_aiohttp or (on_other and node.attr in PRIVATE_ATTRIBUTES):
                found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_no_module_but_the_one_listed_uses_private_aiohttp_names() -> None:
    uses = {str(path.relative_to(PACKAGE.parent)): _private_uses(path) for path in sorted(PACKAGE.rglob("*.py"))
            if path.name != "aiohttp_private.py"}
    assert {path: found for path, found in uses.items() if found} == {}


def test_the_scan_finds_a_private_name(tmp_path: Path) -> None:
    module = tmp_path / "reach.py"
    module.write_text("from aiohttp import web\nfrom aiohttp.web_protocol import RequestHandler\n"
                      "def f(app, router):\n    return web._run_app, router._resource_index\n")
    assert _private_uses(module) == ["line 2: from aiohttp.web_protocol import ...", "line 4: ._run_app",
                                     "line 4: ._resource_index"]


def test_pyproject_allows_every_aiohttp_3_from_3_12() -> None:
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "aiohttp>=3.12,<4" in pyproject["project"]["dependencies"]
