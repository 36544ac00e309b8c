"""Servers under test, each a subprocess pinned to the server core: ``mockhub serve`` and the baseline."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: the mockhub measured is this one, not another installed copy."""
URL = re.compile(r"https?://\S+")
HEALTH = "/__mockhub/health"


def mockhub_command(*options: str) -> list[str]:
    """``mockhub serve`` as users run it: a free port, journal, contracts and access log all on."""
    return [sys.executable, "-m", "mockhub", "serve", "--port", "0", *options]


def proxy_command(target: str) -> list[str]:
    """``mockhub proxy`` as users run it, in front of ``target``: a free port, checks, journal and access log on."""
    return [sys.executable, "-m", "mockhub", "proxy", "--port", "0", "--target", target]


def baseline_command(routes: Path | None = None) -> list[str]:
    return [sys.executable, "-m", "benchmarks.baseline", *(["--routes", str(routes)] if routes else [])]


def child_environment() -> dict[str, str]:
    """The environment of every child: this checkout first on the import path, no MOCKHUB_* options."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKHUB_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Client:
    """A keep-alive HTTP/1.1 connection to one server, for setting up and for single timed requests."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send one request (a non-bytes body is sent as JSON); returns the status and the body."""
        raw = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode("utf-8")
        sent = dict(headers or {})
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
        self._connection.request(method, path, body=raw, headers=sent)
        response = self._connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


@dataclass
class Server:
    """A running server process and the URL from the first line it printed."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    banner: str
    """The first line it printed."""
    ready_s: float
    """From spawn to the first 200 on /__mockhub/health."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        """Resident memory now, in MiB (Linux /proc)."""
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"no VmRSS in /proc/{self.pid}/status")
        return int(found.group(1)) / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, user and system (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
        user, system = int(fields[11]), int(fields[12])  # utime and stime, fields 14 and 15 of proc(5)
        return (user + system) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def start(name: str, command: Sequence[str], cpu: int, timeout: float = 600) -> Server:
    """Spawn ``command`` on core ``cpu``, read its URL from its first line, wait for a 200 on the health route.

    Its log (stderr) goes to /dev/null: a file or a pipe nobody reads would measure the disk
    or stall the server, and a terminal is not what a benchmark should pay for.
    """
    spawned = time.perf_counter()
    process = subprocess.Popen(["taskset", "-c", str(cpu), *command], cwd=ROOT, env=child_environment(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    first = process.stdout.readline().decode("utf-8", "replace") if ready else ""
    found = URL.search(first)
    if found is None:
        process.kill()
        process.wait()
        raise RuntimeError(f"{name} did not start (first line {first.strip()!r}); "
                           f"run it by hand to see why: {' '.join(command)}")
    server = Server(name, process, found.group(0), first.strip(), 0.0)
    try:
        server.ready_s = wait_healthy(server.url, spawned + timeout, process) - spawned
    except BaseException:
        server.stop()
        raise
    return server


def wait_healthy(url: str, deadline: float, process: subprocess.Popen[bytes] | None = None) -> float:
    """Poll the health route until it answers 200; returns the moment it did (an error if ``process`` exits)."""
    parts = urlsplit(url)
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before {url}{HEALTH} answered")
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        try:
            connection.request("GET", HEALTH)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return time.perf_counter()
        except OSError:
            pass
        finally:
            connection.close()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{url}{HEALTH} never answered 200")
        time.sleep(0.001)
