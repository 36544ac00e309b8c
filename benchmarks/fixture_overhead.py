"""The pytest plugin: what the ``mockhub`` fixture adds to each test that uses it.

Two generated test files, run by pytest in a subprocess on the server core: one where
1,000 trivial tests use the fixture, one where 1,000 do not. Both also hold one test that
uses it, so both pay the one server start-up the plugin does per session; the difference
in wall time, over 1,000, is what each test pays (its reset and the plugin's hooks).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.figures import Figure, Goal, median
from benchmarks.plan import Plan
from benchmarks.servers import child_environment

TESTS = 1000
RUNS = 3
GOAL = Goal(0.5, at_most=True, on_ratio=False)
STARTS_THE_SERVER = "def test_server_start(mockhub):\n    assert mockhub.url\n\n\n"


def module_source(tests: int, uses_fixture: bool) -> str:
    """A test module: the server-starting test, then ``tests`` trivial ones, with the fixture or not."""
    argument = "mockhub" if uses_fixture else ""
    body = "assert mockhub.url" if uses_fixture else "assert True"
    cases = "".join(f"def test_{n}({argument}):\n    {body}\n\n\n" for n in range(tests))
    return STARTS_THE_SERVER + cases


def run_pytest(folder: Path, module: str, cpu: int) -> float:
    """Seconds that ``pytest module`` took, with only mockhub's plugin loaded."""
    env = {**child_environment(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = ["taskset", "-c", str(cpu), sys.executable, "-m", "pytest", "-q", "-p", "mockhub.pytest_plugin",
               "-p", "no:cacheprovider", module]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"pytest failed on the generated {module}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return took


def measure(plan: Plan, tests: int = TESTS, runs: int = RUNS) -> Figure:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not the checkout's own settings
        (folder / "test_with_fixture.py").write_text(module_source(tests, True), encoding="utf-8")
        (folder / "test_without_fixture.py").write_text(module_source(tests, False), encoding="utf-8")
        with_fixture: list[float] = []
        without: list[float] = []
        for _ in range(runs):
            with_fixture.append(run_pytest(folder, "test_with_fixture.py", plan.server_cpu))
            without.append(run_pytest(folder, "test_without_fixture.py", plan.server_cpu))
    per_test = (median(with_fixture) - median(without)) / tests * 1000
    return Figure(f"pytest: mockhub fixture, per test ({tests:,} tests)", "ms", per_test, GOAL,
                  samples={"with_fixture_s": with_fixture, "without_fixture_s": without},
                  note=f"{tests:,} tests using the fixture took {median(with_fixture):.2f} s, "
                       f"{tests:,} not using it {median(without):.2f} s (one server start-up in each)")
