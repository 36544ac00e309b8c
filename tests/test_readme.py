"""The examples of every documentation page (the README, each page of the docs site in ``docs/``, and
ARCHITECTURE.md, which the site includes), run as a new user runs them: each page's shell blocks in
order in one shell against its own ``mockhub serve``, the Python examples of the pytest quick starts in
a fresh project with default pytest settings.

The examples are read from the pages themselves, so the pages and this test cannot drift. Every
block is either run here or named in ``NOT_RUN`` with the reason, so a new block needs a decision.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Api
from tests.pages import DOCS, ROOT
from tests.test_cli import serving
from tests.test_plugin import run_user_tests

pytest_plugins = ["pytester"]

PAGES = ("README.md", *(f"docs/{page.name}" for page in sorted(DOCS.glob("*.md"))), "ARCHITECTURE.md")
"""Every page with examples, as paths from the repository's root."""
PAGE_URL = "http://127.0.0.1:8080"
PAGE_PROXY_URL = "http://127.0.0.1:8081"
PAGE_RECEIVER_PORT = "8090"
"""The port of the webhook receiver a page starts (for ``mockhub verify-webhook``)."""

RUN_IN_PYTEST = (("README.md", "1. The pytest fixture in your own project"),
                 ("docs/engine.md", "Testing your webhook receiver with pytest"),
                 ("docs/pytest.md", "The fixture"),
                 ("docs/pytest.md", "In-process tests with pytest-aiohttp"))
"""Sections (page, title) whose Python blocks are test files of the user's own project."""

NOT_RUN = {
    "pip install": "set-up: installs mockhub (the suite runs on such an install)",
    "docker build": "needs a container engine; scripts/container-smoke.sh proves the image",
    "https://portal.example.com": "needs the real services",
    "python -m benchmarks": "minutes of load on the whole machine; tests/test_benchmarks.py checks the harness",
}
"""A shell block holding one of these strings is not run, for the reason given."""

OUTPUT = re.compile(r"# (?:-> )?[\[{]")
"""A comment line that starts the output a command prints (a JSON body)."""


@dataclass
class Block:
    page: str
    section: str
    language: str
    text: str


@dataclass
class Command:
    text: str
    expected: str | None
    """The output the page shows for it, ``…`` standing for anything; None when it shows none."""


def blocks(pages: tuple[str, ...] = PAGES) -> list[Block]:
    """Every fenced block of the pages with its page, its language and the title of its section."""
    found = []
    for page in pages:
        section = ""
        text = (ROOT / page).read_text()
        for match in re.finditer(r"^(#{1,3}) ([^\n]*)$|^```(\w*)\n(.*?)^```", text, flags=re.M | re.S):
            if match.group(1):
                section = match.group(2).strip()
            else:
                found.append(Block(page, section, match.group(3), match.group(4)))
    return found


def in_pytest(block: Block) -> bool:
    """A Python block that is a test file of the user's own project."""
    return block.language == "python" and (block.page, block.section) in RUN_IN_PYTEST


def commands(script: str) -> list[Command]:
    """A shell block's commands (continuation lines and multi-line quotes joined), each with its shown output."""
    result: list[Command] = []
    pending: list[str] = []
    output: list[str] | None = None
    for line in script.splitlines():
        if pending:
            pending.append(line)
        elif line.startswith("#") or not line.strip():
            if OUTPUT.match(line) and result and output is None:
                output = [OUTPUT.sub(lambda m: m.group(0)[-1], line, count=1)]
            elif output is not None and line.startswith("#  "):
                output.append(line[1:].strip())
            else:
                _close(result, output)
                output = None
            continue
        else:
            _close(result, output)
            output = None
            pending = [line]
        text = "\n".join(pending)
        if text.endswith("\\") or not _complete(text):
            continue
        result.append(Command(text, None))
        pending = []
    _close(result, output)
    assert not pending, f"an unfinished command in a page: {pending}"
    return result


def _close(result: list[Command], output: list[str] | None) -> None:
    if output is not None:
        result[-1].expected = "".join(output)


def _complete(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual.strip(), flags=re.S) is not None


def shell_run(pages: tuple[str, ...] = PAGES) -> list[Block]:
    """The blocks a user runs in order against one server: the shell blocks, and the Python scripts between."""
    def runs(block: Block) -> bool:
        if block.language == "sh":
            return not any(marker in block.text for marker in NOT_RUN)
        return block.language == "python" and not in_pytest(block)

    return [block for block in blocks(pages) if runs(block)]


def test_every_block_is_run_or_named_with_a_reason() -> None:
    every = blocks()
    for marker in NOT_RUN:
        assert any(marker in b.text for b in every if b.language == "sh"), f"no block holds {marker!r} any more"
    run = shell_run()
    tests = [b for b in every if in_pytest(b)]
    assert len(run) >= 21 and len(tests) == 7
    assert {b.page for b in run} >= {"README.md", "docs/portal.md", "docs/era.md", "docs/identity.md",
                                     "docs/faults-and-overrides.md", "docs/control-api.md", "docs/contracts.md",
                                     "docs/conformance.md"}
    for block in every:
        if block.language in ("sh", "python"):
            assert block in run or block in tests or any(m in block.text for m in NOT_RUN), block
    assert {b.language for b in every} <= {"sh", "python", "js", "json", ""}


def test_the_docs_folder_holds_only_the_site_s_pages() -> None:
    """``docs/`` becomes the site: nothing in it but Markdown pages."""
    assert sorted(p.name for p in DOCS.rglob("*") if p.suffix != ".md") == []


def test_commands_are_split_with_their_shown_output() -> None:
    split = commands("A=1\n# a comment\ncurl -s x \\\n  -d '{\"a\":\n 1}'\n# -> {\"a\":\n#    …}\n\n# next\necho")
    assert [(c.text, c.expected) for c in split] == [
        ("A=1", None), ("curl -s x \\\n  -d '{\"a\":\n 1}'", '{"a":…}'), ("echo", None)]
    assert matches('{"id":"…","n":1}', '{"id":"x-y","n":1}\n')
    assert not matches('{"id":"…","n":1}', '{"id":"x","n":2}')


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                    reason="the pages' shell blocks need bash and curl")
@pytest.mark.parametrize("page", [page for page in PAGES if shell_run((page,))])
def test_the_shell_blocks_run_in_order_against_one_server(page: str, tmp_path: Path) -> None:
    """What a user sees who follows a page top to bottom: every command succeeds, every
    request is answered 2xx unless the page shows the error it gets, and every output shown
    is the output given. The test's server on a free port stands in for the page's
    ``mockhub serve`` on 8080 (the lines that start one are left out), and another free port
    for the proxy's 8081."""
    with serving("--quiet") as (_, url):
        steps, outputs, errors = run_in_one_shell(shell_run((page,)), url, tmp_path)
    problems = []
    for index, step in enumerate(steps):
        output, rc, stderr = outputs[2 * index], outputs[2 * index + 1], errors[index]
        codes = re.findall(r"^@status (\d+)$", stderr, flags=re.M)
        said = f"step {index}: {step.text}\n  rc {rc}, statuses {codes}, output {output[:300]!r}, stderr {stderr!r}"
        if rc != "0":
            problems.append(said)
        elif step.expected is not None:
            if not matches(step.expected, output):
                problems.append(f"{said}\n  the page shows {step.expected!r}")
        elif any(code[0] not in "20" for code in codes):  # 000, no answer yet, is a wait loop's try
            problems.append(f"{said}\n  a request failed and the page shows no error")
    assert not problems, "\n".join(problems)


def run_in_one_shell(chosen: list[Block], url: str, folder: Path) -> tuple[list[Command], list[str], list[str]]:
    """Run the blocks' commands in one bash against ``url``; the steps, then per step its
    stdout and exit status (alternating), and its stderr (where curl writes each HTTP status)."""
    steps: list[Command] = []
    for block in chosen:
        if block.language == "python":
            shown = re.findall(r"^print\(.*\)\s+#\s*([^,\s]+)", block.text, flags=re.M)
            script = folder / f"example_{len(steps)}.py"
            script.write_text(block.text.replace(PAGE_URL, url))
            steps.append(Command(f'python3 "{script}"', "\n".join(shown) or None))
        else:
            steps += [c for c in commands(block.text) if not c.text.startswith("mockhub serve")]
    lines = ["curl() { command curl -w '%{stderr}@status %{http_code}\\n' \"$@\"; }"]
    for index, step in enumerate(steps):
        lines += [step.text, f"printf '\\n@@step {index} %s\\n' $? | tee -a /dev/stderr"]
    proxy_port = free_port()
    script = "\n".join(lines).replace(PAGE_URL, url).replace(PAGE_PROXY_URL, f"http://127.0.0.1:{proxy_port}")
    script = script.replace("--port 8081", f"--port {proxy_port}")
    receiver_port = str(free_port())
    script = script.replace(f"127.0.0.1:{PAGE_RECEIVER_PORT}", f"127.0.0.1:{receiver_port}")
    script = script.replace(f"port={PAGE_RECEIVER_PORT}", f"port={receiver_port}")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(folder),
           "LC_ALL": "C.UTF-8"}
    out, err = folder / "stdout", folder / "stderr"  # files, not pipes: a background process keeps those open
    with out.open("a") as stdout, err.open("a") as stderr:  # appends, as tee -a does
        shell = subprocess.Popen(["bash", "-c", script], stdout=stdout, stderr=stderr, env=env, cwd=folder,
                                 start_new_session=True)
        try:
            shell.wait(timeout=300)
        finally:  # what the blocks started in the background (the proxy) ends with them
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
    done = subprocess.CompletedProcess(shell.args, shell.returncode, out.read_text(), err.read_text())
    outputs = re.split(r"\n@@step \d+ (\d+)\n", done.stdout)
    errors = re.split(r"\n?@@step \d+ \d+\n", done.stderr)
    assert len(outputs) == 2 * len(steps) + 1, done.stdout + done.stderr
    return steps, outputs, errors


def test_the_python_examples_pass_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    """A project of the user's own: an empty pytest configuration (strict asyncio mode, no
    asyncio_mode), the installed mockhub plugin, each example of the pytest quick starts a test file."""
    examples = [b.text for b in blocks() if in_pytest(b)]
    pytester.makeini("[pytest]\n")
    for index, example in enumerate(examples):
        pytester.makepyfile(**{f"test_readme_{index}": example})
    result = run_user_tests(pytester, "--strict-markers")
    result.assert_outcomes(passed=14)


async def test_the_empty_list_override_empties_a_plain_list(api: Api) -> None:
    """The docs' "empty list" override, as a user copies it, empties ``GET /api/v1/hubs`` without a
    query (one that matched only ``?pageNumber=0`` left the app's plain list full)."""
    [block] = [b for b in blocks(("docs/faults-and-overrides.md",))
               if b.section == "Answers on demand: overrides" and '"results": []' in b.text]
    steps = commands(block.text)
    [added] = [c for c in steps if '"results": []' in c.text]
    body = re.search(r"-d '(.*)'", added.text, flags=re.S)
    assert body is not None
    override = json.loads(body.group(1))
    plain_get = [c.expected for c in steps[steps.index(added):] if re.search(r" \S+/api/v1/hubs ", c.text)]
    assert plain_get and plain_get[0] is not None and json.loads(plain_get[0])["results"] == []  # what it shows
    assert (await api.post("/__mockhub/overrides", override, token=None)).status == 201
    listed = (await api.get("/api/v1/hubs")).json()
    assert (listed["total"], listed["results"]) == (0, [])
