"""Where the documentation lives: the README and the docs site's pages (``docs/``, built by ``mkdocs.yml``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def page(name: str) -> str:
    """The text of a docs page, ``name`` as in ``docs/`` (``limits-and-security.md``)."""
    return (DOCS / name).read_text()


def sections(text: str, deepest: int = 2) -> list[tuple[str, str]]:
    """A page's (title, text) sections, split at its headings of level ``deepest`` and above; the lines of
    fenced code blocks (a shell comment is ``# ...``) are never headings. The text before any heading is left
    out."""
    found: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = re.match(r"(#+) (.*)", line) if not fenced else None
        if heading and len(heading.group(1)) <= deepest:
            found.append((heading.group(2).strip(), []))
        elif found:
            found[-1][1].append(line)
    return [(title, "\n".join(lines)) for title, lines in found]
