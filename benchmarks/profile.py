"""``python -m benchmarks.profile``: where ``mockhub serve`` spends its time under load (py-spy).

Each API figure's request (GET a hub, a page, POST a hub, LOOKUP), under wrk's load,
sampled by py-spy for a few seconds.
py-spy pauses the server for each sample (its ``--nonblocking`` mode reads torn stacks
under this load), which slows it down but keeps the shares right. Prints the functions with
the largest share of samples, inclusive (the function and all it calls) and self (the
function's own code), and saves py-spy's raw stacks beside the results. py-spy sees Python
frames: time in C code (the HTTP parser, socket calls) counts for the Python function
that called it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.plan import RESULTS, RUN_MARK, cores
from benchmarks.servers import mockhub_command, start
from benchmarks.throughput import CASES, ROOMY, fill_first_page
from benchmarks.wrk import Load, Wrk, ensure_wrk

LINE = re.compile(r":\d+\)$")


@dataclass(frozen=True)
class Profile:
    """Sample counts per function, from py-spy's raw (collapsed) stacks."""

    total: int
    inclusive: Counter[str]
    own: Counter[str]

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Profile:
        inclusive: Counter[str] = Counter()
        own: Counter[str] = Counter()
        total = 0
        for line in lines:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            frames = [LINE.sub(")", frame) for frame in stack.split(";")]
            samples = int(count)
            total += samples
            own[frames[-1]] += samples
            for frame in set(frames):
                inclusive[frame] += samples
        return cls(total, inclusive, own)

    def below_the_loop(self) -> Counter[str]:
        """Inclusive counts without the frames (nearly) every sample passes through: runpy, the loop."""
        return Counter({frame: n for frame, n in self.inclusive.items() if n < 0.99 * self.total})

    def top(self, counts: Counter[str], limit: int) -> list[str]:
        return [f"{count / self.total:6.1%}  {frame}" for frame, count in counts.most_common(limit)]


def record(py_spy: str, pid: int, seconds: float, raw: Path) -> Profile:
    subprocess.run([py_spy, "record", "--pid", str(pid), "--duration", str(round(seconds)), "--rate", "250",
                    "--format", "raw", "--output", str(raw)],
                   check=True, capture_output=True)
    return Profile.parse(raw.read_text(encoding="utf-8").splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8, help="sampling time per path (default 8)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per view (default 25)")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("benchmarks.profile: py-spy is missing: pip install py-spy", file=sys.stderr)
        return 2
    server_cpu, load_cpu = cores()
    wrk = Wrk(ensure_wrk(), load_cpu)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with start("mockhub", mockhub_command(*ROOMY), server_cpu) as server:
        fill_first_page(server.url)
        for case in CASES:
            load = case.load.with_body(case.load.body.replace(RUN_MARK, "profile"))
            profile = _under_load(py_spy, wrk, server.url, server.pid, load, args.seconds,
                                  RESULTS / f"profile-{re.sub(r'[^a-z0-9]+', '-', case.name.strip().lower())}.raw")
            print(f"\n== {case.name.strip()}: {profile.total} samples")
            print("inclusive (the function and everything it calls; frames in every sample left out):")
            print("\n".join(profile.top(profile.below_the_loop(), args.top)))
            print("self (the function's own code, and C code it calls):")
            print("\n".join(profile.top(profile.own, args.top)))
    return 0


def _under_load(py_spy: str, wrk: Wrk, url: str, pid: int, load: Load, seconds: float, raw: Path) -> Profile:
    """Sample the server while wrk loads it: wrk starts first and ends after the sampling."""
    command = wrk.command(url, load, seconds + 3)
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as loader:
        time.sleep(1)
        try:
            return record(py_spy, pid, seconds, raw)
        finally:
            loader.wait(timeout=seconds + 60)


if __name__ == "__main__":
    sys.exit(main())
