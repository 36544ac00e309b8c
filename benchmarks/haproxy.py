"""HAProxy in front of ``mockhub serve`` processes, configured by the shipped ``deploy/haproxy.cfg``.

The file names three processes (mockhub-0, -1, -2) and reads every address from the environment
(``MOCKHUB_BIND``, ``MOCKHUB_PROCESS_<i>``), so it runs here as shipped; :func:`config_for` leaves
out the lines of the processes past a smaller count. Used by the balancer figures and by
``tests/test_haproxy.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from benchmarks.servers import ROOT, Server, wait_healthy

CONFIG = ROOT / "deploy" / "haproxy.cfg"
MINIMUM_VERSION = (2, 6)
INSTALL = "apt-get install haproxy"
PROCESS_NAME = re.compile(r"\bmockhub-(\d+)\b")
"""How the configuration names a process: every line about process N names ``mockhub-N``."""
VERSION = re.compile(r"version (\d+)\.(\d+)")
SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
START_ATTEMPTS = 3


class HaproxyUnusable(RuntimeError):
    """HAProxy is not installed here, or is older than 2.6."""


def binary() -> str | None:
    """The path of ``haproxy``: on the PATH, or where Debian puts it (``/usr/sbin``, not on a user's PATH)."""
    return shutil.which("haproxy") or shutil.which("haproxy", path=SBIN)


def problem() -> str | None:
    """Why HAProxy cannot be used here, or None when it can."""
    found_binary = binary()
    if found_binary is None:
        return "haproxy is not installed"
    shown = subprocess.run([found_binary, "-v"], capture_output=True, text=True, check=False).stdout
    found = VERSION.search(shown)
    if found is None or (int(found.group(1)), int(found.group(2))) < MINIMUM_VERSION:
        return f"haproxy is older than 2.6 ({shown.splitlines()[0] if shown else 'no version'})"
    return None


def ensure_haproxy() -> None:
    """Install Debian's HAProxy with apt-get when it is missing and this runs as root; else say what to do."""
    if problem() is None:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("haproxy is missing: installing Debian's package (apt-get install haproxy)...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], stdout=subprocess.DEVNULL, check=False)
    reason = problem()
    if reason is not None:
        raise HaproxyUnusable(f"{reason}: run `sudo {INSTALL}` (HAProxy 2.6 or later), then run again")


def config_for(processes: int, text: str | None = None) -> str:
    """``deploy/haproxy.cfg`` (or ``text``) for ``processes`` processes: the lines naming later ones left out."""
    shipped = CONFIG.read_text(encoding="utf-8") if text is None else text
    return "".join(line for line in shipped.splitlines(keepends=True)
                   if all(int(number) < processes for number in PROCESS_NAME.findall(line)))


def processes_named(text: str) -> list[str]:
    """The processes a configuration names, in order: ``mockhub-0``, ``mockhub-1``..."""
    return [f"mockhub-{n}" for n in sorted({int(number) for number in PROCESS_NAME.findall(text)})]


def environment(bind: str, addresses: Sequence[str]) -> dict[str, str]:
    """The variables the configuration reads: where HAProxy listens and where each process does."""
    return {"MOCKHUB_BIND": bind, **{f"MOCKHUB_PROCESS_{i}": address for i, address in enumerate(addresses)}}


def address_of(url: str) -> str:
    """``host:port`` of a server's URL."""
    return urlsplit(url).netloc


def free_port() -> int:
    """A loopback port free at this moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_haproxy(config: Path, addresses: Sequence[str], cpu: int | None = None,
                  output: IO[bytes] | int = subprocess.DEVNULL, timeout: float = 30) -> Server:
    """HAProxy on a free loopback port with ``config``, in front of the processes at ``addresses``.

    Runs in the foreground (``-db``), on core ``cpu`` if given, its log to ``output``; returns once
    ``/__mockhub/health`` answers 200 through it. Another port is tried when HAProxy exits at once
    (the free port taken meanwhile).
    """
    command = [binary() or "haproxy", "-db", "-f", str(config)]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    attempt = 0
    while True:
        attempt += 1
        port = free_port()
        spawned = time.perf_counter()
        process = subprocess.Popen(command, env={**os.environ, **environment(f"127.0.0.1:{port}", addresses)},
                                   stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        server = Server("haproxy", process, f"http://127.0.0.1:{port}", " ".join(command), 0.0)
        try:
            server.ready_s = wait_healthy(server.url, spawned + timeout, process) - spawned
            return server
        except RuntimeError:
            exited = process.poll() is not None
            server.stop()
            if not exited or attempt == START_ATTEMPTS:
                raise
        except BaseException:
            server.stop()
            raise
