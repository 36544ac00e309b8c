"""Load from a separate process: wrk, pinned to its own core, driven by bench.lua."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench.lua")
RESULT_MARK = "WRK_RESULT "


class WrkMissing(RuntimeError):
    """wrk is not installed and could not be installed here."""


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise WrkMissing("wrk is not installed: run `sudo apt-get install wrk` (Debian/Ubuntu), then run again")
    print("wrk is missing: installing Debian's package (apt-get install wrk)...", flush=True)
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        # A fresh machine may not have the package lists yet.
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL, check=False)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=False)
    found = shutil.which("wrk")
    if not found:
        raise WrkMissing("wrk is not installed and `apt-get install wrk` failed; install it, then run again")
    return found


@dataclass(frozen=True)
class Load:
    """One request shape, sent over and over. ``{n}`` in the body becomes a number unique to the request."""

    method: str
    path: str
    body: str = ""
    headers: tuple[str, ...] = ()
    """``Name: value`` lines."""

    def with_body(self, body: str) -> Load:
        return Load(self.method, self.path, body, self.headers)


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    duration_us: int
    status_errors: int
    """Responses other than 2xx or 3xx: a run with any of them measured the wrong thing."""
    socket_errors: int
    latency_mean_us: float
    latency_p50_us: int
    latency_p99_us: int
    latency_max_us: int

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / (self.duration_us / 1_000_000)


@dataclass(frozen=True)
class Wrk:
    """How to run wrk: which binary, on which core, with how many connections."""

    binary: str
    cpu: int
    connections: int = 16
    script: Path = SCRIPT
    """The script of :meth:`run`: ``bench.lua``, or one that sends the same loads another way."""

    def command(self, base_url: str, load: Load, seconds: float, script: Path | None = None) -> list[str]:
        """wrk's command line: one thread on its core, running ``script`` (sending ``load``) for ``seconds``."""
        return [
            "taskset", "-c", str(self.cpu), self.binary, "-t", "1", "-c", str(self.connections),
            "-d", f"{max(1, round(seconds))}s", "-s", str(script or self.script), base_url,
            "--", load.method, load.path, load.body, *load.headers,
        ]

    def execute(self, command: list[str], seconds: float) -> WrkResult:
        """Run a wrk command line and read the result its script reported; the caller judges the answers."""
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith(RESULT_MARK)), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return WrkResult(**json.loads(line.removeprefix(RESULT_MARK)))

    def run(self, base_url: str, load: Load, seconds: float) -> WrkResult:
        """Send ``load`` to ``base_url`` for ``seconds``; raises if any answer was an error."""
        result = self.execute(self.command(base_url, load, seconds), seconds)
        if result.status_errors or result.socket_errors or not result.requests:
            raise RuntimeError(f"{load.method} {base_url}{load.path}: {result.status_errors} error answers, "
                               f"{result.socket_errors} socket errors in {result.requests} requests")
        return result
