"""The command line, run as users run it: a real process on a real port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pages import page


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``mockhub serve`` on a free port; yields the process and its URL (from the banner's first line)."""
    process = subprocess.Popen([sys.executable, "-m", "mockhub", "serve", *(["--port", "0"] if not env else []),
                                *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **env} if env else None)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + process.stderr.read()  # type: ignore[union-attr]
        yield process, line.rsplit(" ", 1)[1].strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(5)


def get_json(url: str, token: str | None = None) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_serve_prints_its_url_answers_and_stops_on_sigterm() -> None:
    with serving() as (process, url):
        assert get_json(f"{url}/__mockhub/health") == {"status": "ok", "version": "0.1.0"}
        page = get_json(f"{url}/api/v1/hubs", token="mockhub-dev-token")
        assert page["total"] == 3  # type: ignore[index]
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 0


def test_serve_loads_the_given_fixtures_instead_of_the_built_in_ones(tmp_path: Path) -> None:
    fixtures = tmp_path / "mine.json"
    fixtures.write_text(json.dumps({
        "tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["my-token"]}],
        "hubs": [{"tenantId": "22222222-2222-2222-2222-222222222222", "name": "Mine", "description": "d"}],
    }))
    with serving("--fixtures", str(fixtures)) as (_, url):
        page = get_json(f"{url}/api/v1/hubs", token="my-token")
        assert [h["name"] for h in page["results"]] == ["Mine"]  # type: ignore[index]


@pytest.mark.parametrize(("content", "expected"), [
    ('{"hubs": [{"tenantId": "00000000-0000-0000-0000-000000000001", "name": "A", "description": "d", '
     '"statusId": 7}]}', "hubs[0] (name 'A'): Value '7' of 'statusId' is not valid"),
    ('{"tenants": [{"tenantId": "nope", "tokens": ["t"]}]}',
     "tenants[0] (tenantId 'nope'): Value 'nope' of 'tenantId' is not a valid GUID"),
    ('{"hubs": [{"tenantId": "33333333-3333-3333-3333-333333333333", "name": "A", "description": "d"}]}',
     "hubs[0] (name 'A'): tenant 33333333-3333-3333-3333-333333333333 is not defined"),
    ("{not json", "not valid JSON"),
])
def test_a_bad_fixture_file_stops_start_up_with_a_precise_message(tmp_path: Path, content: str,
                                                                    expected: str) -> None:
    assert_refused(tmp_path, "--fixtures", content, expected)


def assert_refused(tmp_path: Path, option: str, content: str, expected: str) -> None:
    """Start-up with ``option FILE`` holding ``content`` stops with status 2 and one precise line."""
    path = tmp_path / "given.json"
    path.write_text(content)
    result = subprocess.run([sys.executable, "-m", "mockhub", "serve", "--port", "0", option, str(path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_help_describes_every_serve_option() -> None:
    result = subprocess.run([sys.executable, "-m", "mockhub", "serve", "--help"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    for option in ("--host", "--port", "--seed", "--fixtures", "--empty", "--clock"):
        assert option in result.stdout


def test_a_port_in_use_is_a_clear_error() -> None:
    with serving() as (_, url):
        port = url.rsplit(":", 1)[1]
        result = subprocess.run([sys.executable, "-m", "mockhub", "serve", "--port", port], capture_output=True,
                                text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"mockhub: cannot listen on 127.0.0.1:{port}: Address already in use; " \
        "--port 0 picks a free port"


def test_serve_applies_a_faults_file(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"path": "/api/v1/hubs", "status": 503, "times": 1}]))
    with serving("--faults", str(faults)) as (_, url):
        with pytest.raises(urllib.error.HTTPError) as failed:
            get_json(f"{url}/api/v1/hubs", token="mockhub-dev-token")
        assert failed.value.code == 503
        assert failed.value.headers["Retry-After"] == "1"
        assert get_json(f"{url}/api/v1/hubs", token="mockhub-dev-token")["total"] == 3  # type: ignore[index]


@pytest.mark.parametrize(("content", "expected"), [
    ('[{"status": 302}]', "fault rule 0: Value '302' of 'status' is not valid"),
    ('{"status": 503}', "expected a JSON list of fault rules"),
    ("[", "not valid JSON"),
])
def test_a_bad_faults_file_stops_start_up_naming_the_file(tmp_path: Path, content: str, expected: str) -> None:
    assert_refused(tmp_path, "--faults", content, expected)


LIMITS = {
    "--journal-size": ("journal_size", "7"),
    "--journal-headers": ("journal_headers", "8"),
    "--journal-header-bytes": ("journal_header_bytes", "9"),
    "--journal-body-bytes": ("journal_body_bytes", "10"),
    "--journal-total-bytes": ("journal_total_bytes", "11"),
    "--max-sessions": ("max_sessions", "12"),
    "--session-busy": ("session_busy_seconds", "13"),
    "--session-idle": ("session_idle_seconds", "14"),
    "--max-fault-rules": ("max_fault_rules", "15"),
    "--max-json-depth": ("max_json_depth", "16"),
    "--max-override-bytes": ("max_override_bytes", "18"),
    "--max-body-bytes": ("max_body_bytes", "17"),
    "--max-session-records": ("max_session_records", "19"),
    "--max-session-bytes": ("max_session_bytes", "20"),
    "--max-fault-bytes": ("max_fault_bytes", "21"),
    "--max-pending-body-bytes": ("max_pending_body_bytes", "22"),
    "--journal-page-bytes": ("journal_page_bytes", "23"),
}


def test_every_limit_is_an_option_an_environment_variable_and_in_the_limits_table() -> None:
    from mockhub.cli import build_parser, settings_from

    limits = page("limits-and-security.md")
    environ = {"MOCKHUB_" + flag[2:].replace("-", "_").upper(): value for flag, (_, value) in LIMITS.items()}
    from_env = settings_from(build_parser(environ).parse_args(["serve"]))
    flags = [part for flag, (_, value) in LIMITS.items() for part in (flag, str(int(value) + 100))]
    from_flags = settings_from(build_parser(environ).parse_args(["serve", *flags]))
    for flag, (field, value) in LIMITS.items():
        assert getattr(from_env, field) == float(value), flag
        assert getattr(from_flags, field) == float(value) + 100, flag
        env = "MOCKHUB_" + flag[2:].replace("-", "_").upper()
        assert f"| `{flag}` (`{env}`) |" in limits, flag


PROXY_LIMITS = {
    "--violation-problems": ("violation_problems", "7"),
    "--violations-total-bytes": ("violations_total_bytes", "8"),
}


def test_every_limit_of_the_proxy_is_an_option_an_environment_variable_and_in_the_limits_table() -> None:
    from mockhub.cli import build_parser, proxy_settings_from

    limits = page("limits-and-security.md")
    target = ["proxy", "--target", "http://127.0.0.1:9"]
    environ = {"MOCKHUB_" + flag[2:].replace("-", "_").upper(): value for flag, (_, value) in PROXY_LIMITS.items()}
    from_env = proxy_settings_from(build_parser(environ).parse_args(target))
    flags = [part for flag, (_, value) in PROXY_LIMITS.items() for part in (flag, str(int(value) + 100))]
    from_flags = proxy_settings_from(build_parser(environ).parse_args([*target, *flags]))
    for flag, (field, value) in PROXY_LIMITS.items():
        assert getattr(from_env, field) == int(value), flag
        assert getattr(from_flags, field) == int(value) + 100, flag
        env = "MOCKHUB_" + flag[2:].replace("-", "_").upper()
        assert f"| `{flag}` (`{env}`), `mockhub proxy` |" in limits, flag


@pytest.mark.parametrize("args", [
    ["serve", "--session-idle", "-5"], ["serve", "--keep-alive", "nan"], ["serve", "--head-timeout", "inf"],
    ["serve", "--session-busy", "-1"], ["serve", "--admin-token", ""], ["serve", "--token-lifetime", "0"],
    ["proxy", "--target", "http://127.0.0.1:9", "--read-timeout", "-1"],
    ["proxy", "--target", "http://127.0.0.1:9", "--connect-timeout", "inf"],
    ["proxy", "--target", "http://127.0.0.1:9", "--record", "/nonexistent-folder/record.json"],
    ["proxy", "--target", "http://127.0.0.1:9", "--junit", "/nonexistent-folder/proxy.xml"],
    ["verify", "--base-url", "http://127.0.0.1:9", "--junit", "/nonexistent-folder/verify.xml"],
    ["verify", "--base-url", "http://"], ["verify", "--base-url", "http://[::1"],
])
def test_a_value_that_would_break_the_run_quietly_is_refused_at_once(args: list[str],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Each was accepted: a negative or nan duration broke every request or lost sessions' data, an empty admin
    token opened the control API, a report's unwritable path was found only after the run, a URL without a
    host failed every check."""
    from mockhub.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith(f"mockhub {args[0]}: error:")]
    assert f"argument {args[-2]}:" in line


@pytest.mark.parametrize(("args", "expected"), [
    (["--clock", "0001-01-01T00:00:00+01:00"], "is outside the years 1 to 9999 in UTC"),
    (["--host", "nonexist.invalid"], "cannot listen on nonexist.invalid:0: Name or service not known"),
])
def test_an_instant_or_host_that_cannot_be_had_is_one_clear_line(args: list[str], expected: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from mockhub.cli import main

    assert main(["serve", "--port", "0", *args]) in (1, 2)
    error = capsys.readouterr().err
    assert expected in error
    assert "Traceback" not in error and "Unknown error" not in error


@pytest.mark.parametrize(("variable", "value", "flag"), [
    ("MOCKHUB_PORT", "abc", "--port"), ("MOCKHUB_KEEP_ALIVE", "-1", "--keep-alive"), ("MOCKHUB_SEED", "x", "--seed"),
])
def test_a_bad_environment_value_is_refused_naming_the_variable(variable: str, value: str, flag: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from mockhub.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser({variable: value}).parse_args(["serve"])
    assert stopped.value.code == 2
    assert f"argument {flag}: {variable}='{value}': " in capsys.readouterr().err


def test_a_head_timeout_of_0_is_no_limit_as_documented() -> None:
    from mockhub.cli import build_parser, settings_from

    assert settings_from(build_parser({}).parse_args(["serve", "--head-timeout", "0"])).head_timeout == 0


def test_the_proxy_takes_the_control_apis_host_and_page_options_as_serve_does() -> None:
    """Its control API keeps to serve's rules, so a proxy in docker needs --allowed-host as serve does."""
    from mockhub.cli import build_parser, proxy_settings_from

    environ = {"MOCKHUB_TARGET": "http://127.0.0.1:9", "MOCKHUB_ALLOWED_HOST": "mockhub, proxy"}
    from_env = proxy_settings_from(build_parser(environ).parse_args(["proxy"]))
    assert from_env.allowed_hosts == ("mockhub", "proxy")
    flags = ["proxy", "--allowed-host", "other", "--cors-origin", "http://192.168.1.20:5173"]
    from_flags = proxy_settings_from(build_parser(environ).parse_args(flags))
    assert (from_flags.allowed_hosts, from_flags.cors_origins) == (("other",), ("http://192.168.1.20:5173",))


def test_token_lifetime_is_an_option_and_an_environment_variable() -> None:
    from mockhub.cli import build_parser, settings_from

    assert settings_from(build_parser({}).parse_args(["serve"])).token_lifetime == 2592000  # documented: 30 days
    environ = {"MOCKHUB_TOKEN_LIFETIME": "60"}
    assert settings_from(build_parser(environ).parse_args(["serve"])).token_lifetime == 60
    assert settings_from(build_parser(environ).parse_args(["serve", "--token-lifetime", "5"])).token_lifetime == 5
