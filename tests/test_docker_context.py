"""The image's build context holds what the Dockerfile copies and none of a developer's local folders:
every path ``.gitignore`` names (virtual environments, caches, ``.ci/node_modules``) is left out by
``.dockerignore``, read with Docker's rules."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_FOLDERS = (".venv-anything/bin/python", ".ci/node_modules/.bin/spectral", ".hypothesis/examples/x",
                 ".pytest_cache/v/x", "mockhub/web/__pycache__/app.cpython-311.pyc")
"""What a developer's machine holds that no ignore file may miss, whatever ``.gitignore`` says."""


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` line as a regular expression over slash-separated paths from the context's root:
    ``*`` and ``?`` within one segment, ``**`` across any number of them."""
    regex, text, at = "", pattern.strip().strip("/"), 0
    while at < len(text):
        if text.startswith("**/", at):
            regex, at = regex + "(?:.*/)?", at + 3
        elif text.startswith("**", at):
            regex, at = regex + ".*", at + 2
        else:
            regex += {"*": "[^/]*", "?": "[^/]"}.get(text[at], re.escape(text[at]))
            at += 1
    return re.compile(regex)


def left_out(path: str) -> bool:
    """Whether Docker leaves ``path`` out of the context: it or a folder above it matches the last
    matching line (a line starting with ``!`` lets it back in)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    out = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            keep = line.startswith("!")
            if any(docker_pattern(line.removeprefix("!")).fullmatch(p) for p in prefixes):
                out = not keep
    return out


def git_ignored_samples() -> list[str]:
    """A file inside each path ``.gitignore`` names (at the repository's root)."""
    entries = (line.strip().strip("/") for line in (ROOT / ".gitignore").read_text().splitlines())
    return [f"{entry.replace('*', 'x')}/file" for entry in entries if entry and not entry.startswith(("#", "!"))]


def test_nothing_git_ignores_goes_into_the_image_context() -> None:
    samples = [*git_ignored_samples(), *LOCAL_FOLDERS]
    assert ".ci/node_modules/file" in samples
    assert [path for path in samples if not left_out(path)] == []


def test_what_the_dockerfile_copies_stays_in_the_context() -> None:
    copied = re.findall(r"^COPY (.+) \S+$", (ROOT / "Dockerfile").read_text(), flags=re.M)
    sources = [source for line in copied for source in line.split()]
    assert {"pyproject.toml", "README.md", "mockhub", "contracts", "fixtures"} <= set(sources)
    for source in sources:
        inside = [source] if (ROOT / source).is_file() else [
            path.relative_to(ROOT).as_posix() for path in (ROOT / source).rglob("*.*")
            if "__pycache__" not in path.parts]
        assert inside and [path for path in inside if left_out(path)] == [], source


def test_the_patterns_are_read_as_docker_reads_them() -> None:
    assert docker_pattern("**/__pycache__").fullmatch("mockhub/web/__pycache__")
    assert docker_pattern("**/__pycache__").fullmatch("__pycache__")
    assert not docker_pattern(".ci").fullmatch(".ci-venv")
    assert docker_pattern(".venv*").fullmatch(".venv-serve")
    assert not docker_pattern("*.egg-info").fullmatch("src/x.egg-info")
