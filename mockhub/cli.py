"""The command line: ``mockhub serve`` (and ``python -m mockhub``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mockhub import __version__, jsonio
from mockhub.settings import DEFAULT_HOST, DEFAULT_PORT, Settings


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0-65535; 0 picks a free one)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockhub",
        description="In-memory mock of the Hubster Portal API and Era integration_points.",
    )
    parser.add_argument("--version", action="version", version=f"mockhub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the mock server", description="Run the mock server until "
                                "SIGINT or SIGTERM.")
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=f"address to bind (default {DEFAULT_HOST}; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT,
                       help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free port)")
    serve.add_argument("--seed", type=int, default=0,
                       help="seed of the one random source behind every generated value (default 0)")
    serve.add_argument("--fixtures", type=Path, action="append", default=[], metavar="FILE",
                       help="load this fixture file instead of the built-in dataset (repeatable)")
    serve.add_argument("--empty", action="store_true", help="start with no data at all")
    serve.add_argument("--clock", metavar="ISO",
                       help="pin the clock to an instant (2021-01-01T00:00:00Z); it moves only on writes")
    serve.add_argument("--faults", type=Path, metavar="FILE",
                       help="fault rules in force from start-up and after every reset (a JSON list)")
    serve.add_argument("--access-log", action="store_true", help="log a line per request")
    return parser


def read_faults(path: Path | None) -> tuple[dict[str, Any], ...]:
    """The rules of a ``--faults`` file; ``ValueError`` names the file and what is wrong."""
    if path is None:
        return ()
    try:
        rules = jsonio.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the file: {exc.strerror}") from None
    except jsonio.JsonError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError(f"{path}: expected a JSON list of fault rules (objects)")
    return tuple(rules)


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(host=args.host, port=args.port, seed=args.seed, fixtures=tuple(args.fixtures),
                    empty=args.empty, clock=args.clock, faults=read_faults(args.faults),
                    access_log=args.access_log)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    from mockhub.app import create_app
    from mockhub.server import serve_forever

    try:
        settings = settings_from(args)
        app = create_app(settings)
    except ValueError as exc:  # FixtureError included: one line naming the file, record and field
        where = f"{args.faults}: " if args.faults and str(exc).startswith("fault rule") else ""
        print(f"mockhub: {where}{exc}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(f"mockhub {__version__} listening on {url}", flush=True)

    try:
        asyncio.run(serve_forever(app, settings.host, settings.port, ready, settings.access_log))
    except OSError as exc:
        print(f"mockhub: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
