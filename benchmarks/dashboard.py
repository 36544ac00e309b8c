"""The dashboard figure: GET a hub on a server with one dashboard open, against the same server with none.

Two ``mockhub serve`` processes run on the server core and take turns under wrk's load; one has a
dashboard's event stream open (``/__mockhub/ui/stream``), read on the load core by :class:`Dashboard` as
a browser tab reads it, taking in every event; the other has none, so its journal pays one check of an
empty list per request. The ratio is the share of the rate left with the dashboard open.
"""

from __future__ import annotations

import http.client
import socket
import threading
from types import TracebackType
from urllib.parse import urlsplit

from benchmarks.figures import Figure
from benchmarks.plan import Plan
from benchmarks.servers import mockhub_command, start
from benchmarks.throughput import CASES, rate_figure

STREAM = "/__mockhub/ui/stream"
EVENT = b"event: request"


class Dashboard:
    """One open dashboard: a thread reading a server's event stream and counting the requests it shows."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        self._thread = threading.Thread(target=self._read, name="dashboard", daemon=True)
        self._opened = threading.Event()
        self.events = 0
        """Requests shown so far."""
        self.error: BaseException | None = None

    def __enter__(self) -> Dashboard:
        self._thread.start()
        if not self._opened.wait(30) or self.error is not None:
            raise RuntimeError(f"the dashboard's stream did not open: {self.error}")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        sock = self._connection.sock
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)  # the reader's next read ends
        self._thread.join(30)
        self._connection.close()

    def _read(self) -> None:
        try:
            self._connection.request("GET", STREAM, headers={"Accept": "text/event-stream"})
            response = self._connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"{STREAM} answered {response.status}: {response.read(300)!r}")
            self._opened.set()
            for line in response:
                if line.startswith(EVENT):
                    self.events += 1
        except (OSError, http.client.HTTPException, RuntimeError) as exc:
            self.error = exc
        finally:
            self._opened.set()


def measure(plan: Plan) -> list[Figure]:
    """GET a hub, one dashboard open, over the same with none."""
    case = next(case for case in CASES if case.name == "GET a hub")
    with start("mockhub", mockhub_command(), plan.server_cpu) as watched, \
            start("mockhub", mockhub_command(), plan.server_cpu) as alone, Dashboard(watched.url) as dashboard:
        with_one, with_none = plan.compare([(watched, case.load), (alone, case.load)])
    return [rate_figure(f"{case.name}, one dashboard open", None, with_one, with_none, "no dashboard open",
                        f"the dashboard took in {dashboard.events} requests as events")]
