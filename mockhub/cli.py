"""The command line: ``mockhub serve``, ``mockhub verify``, ``mockhub verify-webhook`` and ``mockhub proxy`` (and
``python -m mockhub``).

Every ``serve`` and ``proxy`` option can also be set by an environment variable (``MOCKHUB_PORT``...),
as docker users expect; a command-line flag wins over the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import math
import os
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yarl import URL

from mockhub import __version__
from mockhub.kernel import jsonio
from mockhub.kernel.text import shown_url
from mockhub.proxy.settings import ProxySettings
from mockhub.settings import APIS, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN, Settings

if TYPE_CHECKING:
    from mockhub.verify.reports import Report

TRUE = ("1", "true", "yes", "on")


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0-65535; 0 picks a free one)")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _seconds(text: str) -> float:
    """A duration: a finite number of seconds above 0 (nan, inf or -1 would break every request quietly)."""
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds above 0")
    return value


def _token(text: str) -> str:
    """A secret that is not empty (an empty admin token would be matched by a request without one)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty token would leave the control API open; leave the option out")
    return text


def _header_value(text: str) -> str:
    """A key sent in a header: not empty, and no control characters (a line break would end the header)."""
    if not text.strip() or not text.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} cannot be sent as a header's value (empty, or a control "
                                         "character in it)")
    return text


def _factor(text: str) -> float:
    """A finite number >= 0."""
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number >= 0")
    return value


def _seconds_or_zero(text: str) -> float:
    """A duration that may be 0."""
    return 0.0 if float(text) == 0 else _seconds(text)


@dataclass(frozen=True)
class Option:
    """One ``serve`` or ``proxy`` option: its flag, its environment variable, how it parses, what it means."""

    flag: str
    help: str
    """What it does; ``{default}`` stands for its default."""
    type: Callable[[str], Any] | None = str
    default: Any = None
    """Read from the command's settings (:class:`~mockhub.settings.Settings`, ``ProxySettings``), where every
    default is written."""
    kind: str = "value"  # "value", "flag" (on/off) or "list" (repeatable; comma-separated in the env)
    metavar: str | None = None

    @property
    def env(self) -> str:
        return "MOCKHUB_" + self.flag.removeprefix("--").replace("-", "_").upper()

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


ALLOWED_HOST = Option("--allowed-host", "let the control API (/__mockhub/) answer this Host name too; it answers "
                      "localhost, *.localhost and IP addresses (repeatable; * allows any name)", str,
                      Settings.allowed_hosts, "list", "NAME")
"""The same on ``serve`` and ``proxy`` (``ProxySettings`` has the same default): their control APIs keep to one
rule."""
DASHBOARD_OPTIONS = (
    Option("--dashboard-streams", "dashboards (/__mockhub/ui) open at once; one more gets 503 (default {default})",
           _positive, Settings.dashboard_streams, metavar="N"),
    Option("--dashboard-queue-bytes", "bytes of requests waiting for one dashboard that reads slowly; past it the "
           "oldest are dropped and the dashboard is told how many (default {default})", _positive,
           Settings.dashboard_queue_bytes, metavar="N"),
)
"""The same on ``serve`` and ``proxy`` (``ProxySettings`` has the same defaults)."""

SERVE_OPTIONS = (
    Option("--host", "address to bind (default {default}; 0.0.0.0 for every interface)", str, Settings.host),
    Option("--port", "port to listen on (default {default}; 0 picks a free port)", _port, Settings.port),
    Option("--seed", "seed of the one random source behind every generated value (default {default})", int,
           Settings.seed),
    Option("--fixtures", "load this fixture file instead of the built-in dataset (repeatable)", Path, Settings.fixtures,
           "list", "FILE"),
    Option("--empty", "start with no data at all", None, Settings.empty, "flag"),
    Option("--fake", "add Faker-made data to what is loaded: hubs=N (for the default tenant), integrations=N "
           "and commands=N (in each hub), points=N, tenants=N (each with a static token and a Portal and an Engine "
           "client with a secret); e.g. hubs=50,integrations=5,commands=4,points=200", str, Settings.fake,
           metavar="SPEC"),
    Option("--clock", "pin the clock to an instant (2021-01-01T00:00:00Z); it then moves one second per write",
           str, Settings.clock, metavar="ISO"),
    Option("--token-lifetime", "seconds an access token from POST /connect/token is valid: its expires_in "
           "(default {default}, 30 days, as documented)", _positive, Settings.token_lifetime, metavar="SECONDS"),
    Option("--faults", "fault rules in force from start-up and after every reset (a JSON list)", Path,
           metavar="FILE"),
    Option("--overrides", "overrides (answers on demand, checked against the contract) in force from start-up "
           "and after every reset (a JSON list)", Path, metavar="FILE"),
    Option("--cors-origin", "allow only this browser origin (repeatable; default: any origin, echoed); it may call "
           "the control API too, which otherwise answers pages on this machine only", str, Settings.cors_origins,
           "list", "ORIGIN"),
    Option("--journal-size", "how many requests each session's journal keeps (default {default})", _positive,
           Settings.journal_size),
    Option("--journal-headers", "headers a journal entry keeps; the rest are cut (default {default})", _positive,
           Settings.journal_headers),
    Option("--journal-header-bytes", "characters a journal entry keeps of each header name and value "
           "(default {default})", _positive, Settings.journal_header_bytes),
    Option("--journal-body-bytes", "bytes a journal entry keeps of the body (default {default})", _positive,
           Settings.journal_body_bytes),
    Option("--journal-total-bytes", "bytes all sessions' journals hold together; past it the oldest entries go "
           "first (default {default})", _positive, Settings.journal_total_bytes),
    Option("--journal-page-bytes", "bytes one read of a journal (GET /__mockhub/requests) renders at most; the "
           "rest is on the next page (default {default})", _positive, Settings.journal_page_bytes),
    Option("--max-sessions", "most sessions (X-Mockhub-Session) at once, the default one included; the least "
           "recently used is dropped (default {default})", _positive, Settings.max_sessions),
    Option("--session-idle", "seconds after which an unused session is dropped (default {default})", _seconds,
           Settings.session_idle_seconds, metavar="SECONDS"),
    Option("--session-busy", "a session used this many seconds ago or less is never dropped to make room; a new "
           "session is refused with 503 instead (default {default})", _seconds_or_zero, Settings.session_busy_seconds,
           metavar="SECONDS"),
    Option("--max-fault-rules", "most fault rules one session holds (default {default})", _positive,
           Settings.max_fault_rules),
    Option("--max-fault-bytes", "bytes in memory (estimated) one session's fault rules hold together, "
           "rate-limit windows counted full (default {default})", _positive, Settings.max_fault_bytes),
    Option("--max-override-bytes", "bytes in memory (estimated) one session's overrides hold together "
           "(default {default})", _positive, Settings.max_override_bytes),
    Option("--max-session-records", "records one session holds of its own: those it created or changed "
           "(default {default})", _positive, Settings.max_session_records),
    Option("--max-session-bytes", "bytes in memory one session's own records take together (default {default})",
           _positive, Settings.max_session_bytes),
    Option("--max-json-depth", "deepest nesting of arrays and objects a request body may have (default {default})",
           _positive, Settings.max_json_depth),
    Option("--max-body-bytes", "largest request body; larger is 413 (default {default})", _positive,
           Settings.max_body_bytes),
    Option("--max-pending-body-bytes", "bytes the request bodies being received hold together, every connection "
           "counted; a body past it is 503 with Retry-After (default {default})", _positive,
           Settings.max_pending_body_bytes),
    Option("--admin-token", "require the header X-Mockhub-Admin-Token with this value on every /__mockhub/ "
           "call but health", _token, Settings.admin_token, metavar="TOKEN"),
    ALLOWED_HOST,
    Option("--webhook-time-scale", "multiply each wait of the webhook retry schedule (0, 2, 4, 6, 8, 10 minutes) "
           "by this factor; 0.001 makes ten minutes 0.6 s (default {default})", _factor, Settings.webhook_time_scale,
           metavar="FACTOR"),
    Option("--webhook-timeout", "seconds a webhook attempt waits for an answer (default {default}, as documented)",
           _seconds, Settings.webhook_timeout, metavar="SECONDS"),
    Option("--webhook-allow-host", "let webhooks be delivered to this host name too; only loopback (localhost, "
           "127.0.0.0/8, ::1) is by default, and any other URL is recorded as refused, never contacted "
           "(repeatable)", str, Settings.webhook_allow_hosts, "list", "NAME"),
    Option("--webhook-queue", "webhook deliveries one session has under way at once; past it one is dropped and "
           "recorded (default {default})", _positive, Settings.webhook_queue),
    Option("--webhook-queue-bytes", "bytes of payload one session's deliveries under way hold together "
           "(default {default})", _positive, Settings.webhook_queue_bytes),
    Option("--webhook-queue-total", "webhook deliveries the whole server has under way at once, every session's "
           "counted (default {default})", _positive, Settings.webhook_queue_total),
    Option("--webhook-queue-total-bytes", "bytes of payload the whole server's deliveries under way hold together "
           "(default {default})", _positive, Settings.webhook_queue_total_bytes),
    Option("--webhook-records", "records (attempts, refusals, notices) each session's delivery log keeps; they "
           "count towards --journal-total-bytes (default {default})", _positive, Settings.webhook_records),
    Option("--head-timeout", "seconds a connection has to send a whole request head (default {default}; 0: no "
           "limit)", _seconds_or_zero, Settings.head_timeout, metavar="SECONDS"),
    Option("--body-timeout", "seconds a request body has to arrive whole once its head has come; time the server "
           "itself is not reading is not counted (default {default}; 0: no limit)", _seconds_or_zero,
           Settings.body_timeout, metavar="SECONDS"),
    Option("--keep-alive", "seconds an idle keep-alive connection stays open (default {default})", _seconds,
           Settings.keep_alive, metavar="SECONDS"),
    Option("--max-connections", "open connections at most; past it the one that has waited longest on its client "
           "(silent, sending a body slowly, not reading its answers) is closed to make room, or else a new one is "
           "answered 503 (health as usual) and closed (default {default}, lowered to fit the open-file limit)",
           _positive, Settings.max_connections, metavar="N"),
    *DASHBOARD_OPTIONS,
    Option("--quiet", "no access log line per request", None, False, "flag"),
)


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; defaults come from ``environ`` (the process environment by default)."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="mockhub",
        description="In-memory mock of Hubster Identity, the Hubster Portal and Engine APIs (with webhook "
                    "deliveries) and Era integration_points.",
    )
    parser.add_argument("--version", action="version", version=f"mockhub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="run the mock server",
        description="Run the mock server until SIGINT or SIGTERM. Each option can also be set by the "
                    "environment variable named after it; a flag wins over the environment.")
    add_options(serve, SERVE_OPTIONS, environ)
    add_verify_command(commands, environ)
    add_verify_webhook_command(commands, environ)
    add_proxy_command(commands, environ)
    return parser


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option], environ: Mapping[str, str]) -> None:
    """Add ``options`` to a command, each defaulting to its environment variable."""
    for option in options:
        given = environ.get(option.env)
        help_text = f"{option.help.format(default=_shown(option.default))} [env {option.env}]"
        if option.kind == "flag":
            default = given.strip().lower() in TRUE if given is not None else option.default
            parser.add_argument(option.flag, action="store_true", default=default, help=help_text)
        elif option.kind == "list":
            assert option.type is not None
            from_env = [option.type(v.strip()) for v in given.split(",") if v.strip()] if given else option.default
            parser.add_argument(option.flag, type=option.type, action="append", default=None,
                                metavar=option.metavar, help=help_text)
            parser.set_defaults(**{f"{option.dest}_env": tuple(from_env)})
        else:
            assert option.type is not None
            parser.add_argument(option.flag, type=_naming(option.type, option.env),
                                default=_FromEnvironment(given) if given is not None else option.default,
                                metavar=option.metavar, help=help_text)


def _shown(value: Any) -> str:
    """A default as the help says it: 3600.0 as 3600."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class _FromEnvironment(str):
    """An option's value taken from its environment variable (so that a refusal can name the variable)."""


def _naming(convert: Callable[[str], Any], variable: str) -> Callable[[str], Any]:
    """``convert``, whose refusal of a value from the environment names ``variable`` (argparse names the flag)."""

    def checked(text: str) -> Any:
        try:
            return convert(text)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            if isinstance(text, _FromEnvironment):
                reason = exc if isinstance(exc, argparse.ArgumentTypeError) else f"not a valid {checked.__name__}"
                raise argparse.ArgumentTypeError(f"{variable}={text!r}: {reason}") from None
            raise

    checked.__name__ = getattr(convert, "__name__", "value").lstrip("_")  # argparse's "invalid port value"
    return checked


def _output_file(text: str) -> Path:
    """A file a report is written to: its folder must exist and be writable, checked before anything runs
    (a report lost at the end of a run, after the traffic, cannot be had again)."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: there is no folder {path.parent}")
    if path.is_dir() or not os.access(path if path.exists() else path.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text}: {'a folder' if path.is_dir() else 'not writable'}")
    return path


def _url(text: str) -> str:
    """An http(s) URL with a host, as given (a webhook's path is the receiver's own: kept to the last slash)."""
    try:
        host = URL(text).host if text.startswith(("http://", "https://")) else None
    except ValueError:  # http://[::1
        host = None
    if not host:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL with a host")
    return text


def _base_url(text: str) -> str:
    return _url(text).rstrip("/")


def add_verify_command(commands: Any, environ: Mapping[str, str]) -> None:
    """``mockhub verify``: the contracts checked against any server; see mockhub/verify/."""
    verify = commands.add_parser(
        "verify", help="check a server (the real API, or any) against the contracts",
        description="Run a scripted scenario over every documented endpoint against a server and check each "
                    "status, header and body against the contracts. It creates what it needs under unique "
                    "names and deletes it again. Exit status: 0 all checks passed, 1 a check failed, "
                    "2 the server could not be reached.")
    verify.add_argument("--base-url", type=_base_url, required=True, metavar="URL",
                        help="the server's root, e.g. http://127.0.0.1:8080 (paths start at /api/v1 and /rest/v1)")
    verify.add_argument("--token", default=environ.get("MOCKHUB_TOKEN", DEFAULT_TOKEN), metavar="T",
                        help=f"Portal API bearer token (default: $MOCKHUB_TOKEN, else {DEFAULT_TOKEN})")
    verify.add_argument("--other-token", default=environ.get("MOCKHUB_OTHER_TOKEN"), metavar="T2",
                        help="a token of another tenant, to check 403 (default: $MOCKHUB_OTHER_TOKEN; "
                             "without one the 403 checks are skipped)")
    verify.add_argument("--engine-token", default=environ.get("MOCKHUB_ENGINE_TOKEN"), metavar="TE",
                        help="an Engine token of the token's tenant, for the Engine's checks (default: "
                             "$MOCKHUB_ENGINE_TOKEN, else the token, as the mock's static tokens open every API)")
    verify.add_argument("--client-id", default=environ.get("MOCKHUB_CLIENT_ID", DEFAULT_CLIENT_ID), metavar="ID",
                        help="an Identity client of the token's tenant, for POST /connect/token (default: "
                             f"$MOCKHUB_CLIENT_ID, else {DEFAULT_CLIENT_ID})")
    verify.add_argument("--client-secret", default=environ.get("MOCKHUB_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
                        metavar="SECRET", help="a secret of that client (default: $MOCKHUB_CLIENT_SECRET, else "
                                               f"{DEFAULT_CLIENT_SECRET})")
    verify.add_argument("--junit", type=_output_file, metavar="FILE", help="also write the results as JUnit XML")
    verify.add_argument("--only", choices=APIS, help="check one API (they may live on different servers)")
    verify.add_argument("--max-answer-bytes", type=_positive, default=Settings.verify_answer_bytes, metavar="N",
                        help="bytes read of each answer at most; one that goes on past them fails its check "
                             "(default %(default)s)")


def add_verify_webhook_command(commands: Any, environ: Mapping[str, str]) -> None:
    """``mockhub verify-webhook``: a webhook receiver checked as the documentation asks; see
    mockhub/verify/webhook_check.py."""
    check = commands.add_parser(
        "verify-webhook", help="check a webhook receiver: signed deliveries accepted, wrongly signed ones refused",
        description="POST the documented webhook payloads (System and Direct) to a receiver, signed with the "
                    "integration's private key and signed wrong in each way, and check that it answers the good "
                    "ones 2xx and the others 403, as the documentation asks. Exit status: 0 all checks passed, "
                    "1 a check failed, 2 the receiver could not be reached.")
    check.add_argument("url", type=_url, metavar="URL", help="the receiver: the integration's webhookUrl")
    for flag, variable, meaning, kind in (("--public-key", "MOCKHUB_PUBLIC_KEY", "publicSigningKey", _header_value),
                                          ("--private-key", "MOCKHUB_PRIVATE_KEY", "privateSigningKey", _token)):
        given = environ.get(variable) or None
        check.add_argument(flag, type=kind, default=given, required=given is None, metavar="K",
                           help=f"the integration's {meaning}, as the receiver knows it (default: ${variable})")
    check.add_argument("--only", choices=("system", "direct"),
                       help="send one kind of payload (a receiver of one kind of integration)")
    check.add_argument("--seed", type=int, default=Settings.seed,
                       help="seed of the payloads' ids and texts (default %(default)s)")
    check.add_argument("--timeout", type=_seconds, default=Settings.webhook_timeout, metavar="SECONDS",
                       help="seconds the receiver has to answer each delivery (default %(default)g, as the platform)")
    check.add_argument("--max-answer-bytes", type=_positive, default=Settings.webhook_answer_bytes, metavar="N",
                       help="bytes read of each answer at most (default %(default)s)")
    check.add_argument("--junit", type=_output_file, metavar="FILE", help="also write the results as JUnit XML")


PROXY_OPTIONS = (
    Option("--target", "the server to forward to, e.g. https://portal.example.com (required)", _base_url,
           metavar="URL"),
    Option("--host", "address to bind (default {default}; 0.0.0.0 for every interface)", str, ProxySettings.host),
    Option("--port", "port to listen on (default {default}; 0 picks a free port)", _port, ProxySettings.port),
    Option("--record", "write the hubs, integrations, commands and integration points seen in answers to this "
           "fixture file at shutdown (and on POST /__mockhub/record); secrets are replaced", _output_file,
           metavar="FILE"),
    Option("--junit", "write JUnit XML at shutdown: one testcase per operation seen, failed when any of its "
           "exchanges broke the contract", _output_file, metavar="FILE"),
    Option("--connect-timeout", "seconds to wait for a connection to the target before answering 504 "
           "(default {default})", _seconds, ProxySettings.connect_timeout, metavar="SECONDS"),
    Option("--read-timeout", "seconds to wait for the target's next bytes before answering 504 (default {default})",
           _seconds, ProxySettings.read_timeout, metavar="SECONDS"),
    Option("--seed", "seed of the random source behind the tokens and secrets --record writes (default {default})",
           int, ProxySettings.seed),
    Option("--journal-size", "how many requests the journal keeps (default {default})", _positive,
           ProxySettings.journal_size),
    Option("--violation-problems", "problems each violation keeps; the rest are counted (default {default})",
           _positive, ProxySettings.violation_problems),
    Option("--violations-total-bytes", "bytes the violations kept for GET /__mockhub/violations hold together; "
           "past it the oldest go first (default {default})", _positive, ProxySettings.violations_total_bytes),
    Option("--cors-origin", "let pages of this browser origin call the control API too; it answers pages on "
           "this machine only (repeatable); forwarded answers keep the target's CORS headers", str,
           ProxySettings.cors_origins, "list", "ORIGIN"),
    Option("--admin-token", "require the header X-Mockhub-Admin-Token with this value on every /__mockhub/ "
           "call but health", _token, ProxySettings.admin_token, metavar="TOKEN"),
    ALLOWED_HOST,
    *DASHBOARD_OPTIONS,
    Option("--quiet", "no access log line per request (violations are still logged)", None, False, "flag"),
)


def add_proxy_command(commands: Any, environ: Mapping[str, str]) -> None:
    """``mockhub proxy``: real traffic forwarded to a target and checked against the contract."""
    proxy = commands.add_parser(
        "proxy", help="forward to a server (the real API, or any) and check each exchange against the contract",
        description="Forward every request to --target and pass its answer back unchanged; check each request and "
                    "answer against the contract, logging each violation and listing them at "
                    "GET /__mockhub/violations. Runs until SIGINT or SIGTERM. Each option can also be set by the "
                    "environment variable named after it; a flag wins over the environment.")
    add_options(proxy, PROXY_OPTIONS, environ)


def listed(args: argparse.Namespace, name: str) -> tuple[Any, ...]:
    """A repeatable option's values: the flags given, else its environment variable's."""
    given = getattr(args, name)
    return tuple(given) if given is not None else tuple(getattr(args, f"{name}_env"))


def proxy_settings_from(args: argparse.Namespace) -> ProxySettings:
    """Proxy settings from parsed arguments (``ValueError`` without a target)."""
    if not args.target:
        raise ValueError("give the server to forward to: --target URL (or MOCKHUB_TARGET)")
    return ProxySettings(target=args.target, host=args.host, port=args.port, record=args.record, junit=args.junit,
                         connect_timeout=args.connect_timeout, read_timeout=args.read_timeout, seed=args.seed,
                         journal_size=args.journal_size, violation_problems=args.violation_problems,
                         violations_total_bytes=args.violations_total_bytes, cors_origins=listed(args, "cors_origin"),
                         admin_token=args.admin_token, allowed_hosts=listed(args, "allowed_host"),
                         dashboard_streams=args.dashboard_streams, dashboard_queue_bytes=args.dashboard_queue_bytes,
                         access_log=not args.quiet)


def run_proxy(args: argparse.Namespace) -> int:
    """Run ``mockhub proxy`` until SIGINT or SIGTERM; returns the exit status."""
    from mockhub.proxy import create_proxy_app

    try:
        settings = proxy_settings_from(args)
    except ValueError as exc:
        print(f"mockhub: {exc}", file=sys.stderr)
        return 2
    app = create_proxy_app(settings)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    def ready(url: str) -> None:
        print(f"mockhub proxy listening on {url} -> {shown_url(settings.target)}\n"
              f"  dashboard: {url}/__mockhub/ui (exchanges as they come, with their violations)\n"
              f"  admin:  {url}/__mockhub/ health, openapi.json, requests, violations, record", flush=True)

    return run_server(app, settings.host, settings.port, ready)


def run_server(app: Any, host: str, port: int, ready: Callable[[str], None]) -> int:
    """Serve ``app`` until SIGINT or SIGTERM (``ready`` gets the URL once it listens); returns the exit status."""
    from mockhub.web.server import new_event_loop, serve_forever

    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(serve_forever(app, host, port, ready))
    except OSError as exc:
        # asyncio's strerror repeats the address; a name that does not resolve has a resolver's code, not errno's
        reason = os.strerror(exc.errno) if exc.errno and not isinstance(exc, socket.gaierror) else exc.strerror
        hint = "; --port 0 picks a free port" if port and exc.errno == errno.EADDRINUSE else ""
        print(f"mockhub: cannot listen on {host}:{port}: {reason}{hint}", file=sys.stderr)
        return 1
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Print the report of ``mockhub verify`` (and write its JUnit XML); returns the exit status."""
    from mockhub.verify import verify

    report = asyncio.run(verify(args.base_url, token=args.token, other_token=args.other_token,
                                client_id=args.client_id, client_secret=args.client_secret,
                                apis=(args.only,) if args.only else APIS, answer_bytes=args.max_answer_bytes,
                                engine_token=args.engine_token))
    return _reported(report, args.junit)


def _reported(report: Report, junit: Path | None) -> int:
    """Print a verify run's report and write its JUnit XML; returns its exit status."""
    print(report.text(), flush=True)
    if junit is not None:
        junit.write_text(report.junit(), encoding="utf-8")
    return report.exit_status


def run_verify_webhook(args: argparse.Namespace) -> int:
    """Print the report of ``mockhub verify-webhook`` (and write its JUnit XML); returns the exit status."""
    from mockhub.verify import verify_webhook

    report = asyncio.run(verify_webhook(args.url, args.public_key, args.private_key, seed=args.seed,
                                        kinds=(args.only,) if args.only else ("system", "direct"),
                                        timeout=args.timeout, answer_bytes=args.max_answer_bytes))
    return _reported(report, args.junit)


def read_rules(path: Path | None, kind: str = "fault rules") -> tuple[dict[str, Any], ...]:
    """The rules of a ``--faults`` or ``--overrides`` file; ``ValueError`` names the file and what is wrong."""
    if path is None:
        return ()
    try:
        rules = jsonio.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the file: {exc.strerror}") from None
    except jsonio.JsonError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError(f"{path}: expected a JSON list of {kind} (objects)")
    return tuple(rules)


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed arguments: repeatable flags replace their environment variable."""
    return Settings(host=args.host, port=args.port, seed=args.seed, fixtures=listed(args, "fixtures"),
                    empty=args.empty, fake=args.fake, clock=args.clock, token_lifetime=args.token_lifetime,
                    faults=read_rules(args.faults),
                    overrides=read_rules(args.overrides, "overrides"),
                    cors_origins=listed(args, "cors_origin"), journal_size=args.journal_size,
                    journal_headers=args.journal_headers, journal_header_bytes=args.journal_header_bytes,
                    journal_body_bytes=args.journal_body_bytes, journal_total_bytes=args.journal_total_bytes,
                    journal_page_bytes=args.journal_page_bytes,
                    max_sessions=args.max_sessions, session_idle_seconds=args.session_idle,
                    session_busy_seconds=args.session_busy, max_fault_rules=args.max_fault_rules,
                    max_json_depth=args.max_json_depth, max_override_bytes=args.max_override_bytes,
                    max_fault_bytes=args.max_fault_bytes,
                    max_session_records=args.max_session_records, max_session_bytes=args.max_session_bytes,
                    max_body_bytes=args.max_body_bytes,
                    max_pending_body_bytes=args.max_pending_body_bytes,
                    admin_token=args.admin_token, allowed_hosts=listed(args, "allowed_host"),
                    head_timeout=args.head_timeout, body_timeout=args.body_timeout, keep_alive=args.keep_alive,
                    max_connections=args.max_connections, dashboard_streams=args.dashboard_streams,
                    dashboard_queue_bytes=args.dashboard_queue_bytes,
                    webhook_time_scale=args.webhook_time_scale, webhook_timeout=args.webhook_timeout,
                    webhook_allow_hosts=listed(args, "webhook_allow_host"), webhook_queue=args.webhook_queue,
                    webhook_queue_bytes=args.webhook_queue_bytes, webhook_queue_total=args.webhook_queue_total,
                    webhook_queue_total_bytes=args.webhook_queue_total_bytes, webhook_records=args.webhook_records,
                    access_log=not args.quiet)


def banner(url: str, settings: Settings, summary: Mapping[str, Any]) -> str:
    """What ``serve`` prints once it listens: where, what data, which tokens, where to control it."""
    if settings.empty:
        data = "no data (--empty)"
    elif settings.fixtures:
        data = ", ".join(str(f) for f in settings.fixtures)
    else:
        data = "the built-in dataset"
    if settings.fake:
        data += f" + fake {settings.fake}"
    counts = ", ".join(f"{len(records)} {section}" for section, records in summary.items() if section != "tenants")
    tokens = [f"{token} (tenant {tenant['tenantId']}{', default' if i == 0 and j == 0 else ''})"
              for i, tenant in enumerate(summary.get("tenants", ())) for j, token in enumerate(tenant["tokens"])]
    clients = [f"{client['clientId']} secret {client['secrets'][0]['token']}"
               for tenant in summary.get("tenants", ()) for client in tenant.get("clients", {}).values()
               if client.get("secrets")]
    clock = f", clock pinned at {settings.clock}" if settings.clock else ""
    return "\n".join([
        f"mockhub {__version__} listening on {url}",
        f"  data:   {data}: {counts or 'nothing'} (seed {settings.seed}{clock})",
        f"  tokens: {'; '.join(tokens) if tokens else 'none (no tenants loaded)'}",
        f"  clients: {'; '.join(clients) if clients else 'none with a secret'} "
        f"(POST {url}/connect/token, grant_type=client_credentials)",
        f"  docs:   {url}/__mockhub/docs",
        f"  dashboard: {url}/__mockhub/ui (requests as they come, sessions, state, fault rules, overrides)",
        f"  admin:  {url}/__mockhub/ health, openapi.json, reset, state, clock, faults, overrides, requests, "
        "sessions, activities, deliveries, delivery-faults"
        + (" (X-Mockhub-Admin-Token required)" if settings.admin_token else ""),
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "verify":
        return run_verify(args)
    if args.command == "verify-webhook":
        return run_verify_webhook(args)
    if args.command == "proxy":
        return run_proxy(args)
    from mockhub.dataset.fixtures import dump
    from mockhub.web.app import create_app
    from mockhub.web.keys import SESSIONS
    try:
        settings = settings_from(args)
        app = create_app(settings)
    except ValueError as exc:  # FixtureError included: one line naming the file, record and field
        where = (f"{args.faults}: " if args.faults and str(exc).startswith("fault rule") else
                 f"{args.overrides}: " if args.overrides and str(exc).startswith("override") else "")
        print(f"mockhub: {where}{exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    def ready(url: str) -> None:
        print(banner(url, settings, dump(app[SESSIONS].startup)), flush=True)

    return run_server(app, settings.host, settings.port, ready)


if __name__ == "__main__":
    sys.exit(main())
