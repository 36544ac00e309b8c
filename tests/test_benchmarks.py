"""The benchmark harness (benchmarks/): its data, its baseline, its verdicts. No timing is asserted here."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks import balancer, bulk, dashboard, fixture_overhead, startup, throughput
from benchmarks.baseline import create_app as baseline_app
from benchmarks.figures import Figure, Goal, table
from benchmarks.plan import Run
from benchmarks.profile import Profile
from benchmarks.servers import Client, baseline_command, mockhub_command, start
from benchmarks.wrk import Load, Wrk, WrkResult
from tests.conftest import HUB_A, POINTS, TOKEN, MakeApi


async def test_the_bulk_fixture_is_a_valid_fixture_file_with_full_pages(make_api: MakeApi, tmp_path: Path) -> None:
    api = await make_api(fixtures=(bulk.write(tmp_path / "bulk.json", 120, 3),))
    page = (await api.get("/api/v1/hubs?pageSize=50&pageNumber=2", token=bulk.TOKEN)).json()
    assert page["total"] == 120
    assert [hub["name"] for hub in page["results"]] == [f"Hub {n}" for n in range(100, 120)]
    assert page["results"][0]["hubId"] == bulk.hub_id(100)
    points = (await api.get(POINTS, token=None)).json()
    assert [p["code"] for p in points] == ["POINT-0", "POINT-1", "POINT-2"]


async def test_the_baseline_answers_its_routes_with_fixed_bytes_after_reading_the_body(aiohttp_client: Any) -> None:
    client = await aiohttp_client(baseline_app([
        {"method": "GET", "path": "/api/v1/hubs/{hubId}", "body": '{"hubId":"x"}'},
        {"method": "POST", "path": "/api/v1/hubs", "body": '{"created":true}'},
    ]))
    got = await client.get("/api/v1/hubs/anything")
    assert (got.status, await got.read()) == (200, b'{"hubId":"x"}')
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    posted = await client.post("/api/v1/hubs", data=b'{"name": "n"}')
    assert await posted.read() == b'{"created":true}'
    assert (await client.get("/__mockhub/health")).status == 200
    assert (await client.get("/api/v1/hubs")).status == 405


def test_the_fixture_load_figure_times_both_sides_on_the_same_file() -> None:
    figure = startup.measure_fixture_load(records=50, loads=2)
    assert (figure.name, figure.reference_name) == ("load a fixture file of 100 records", "json.loads of the file")
    assert [len(figure.samples["load"]), len(figure.samples["json.loads"])] == [2, 2]
    assert figure.ratio == figure.value / figure.reference  # type: ignore[operator]


def test_a_started_server_reports_its_url_pid_memory_and_cpu(tmp_path: Path) -> None:
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps([{"method": "GET", "path": "/fixed", "body": "[1]"}]), encoding="utf-8")
    cpu = min(os.sched_getaffinity(0))
    with start("baseline", baseline_command(routes), cpu) as server, Client(server.url) as client:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.banner.startswith("baseline listening on ")
        assert client.request("GET", "/fixed") == (200, b"[1]")
        assert os.sched_getaffinity(server.pid) == {cpu}
        assert server.rss_mb() > 1
        assert server.cpu_seconds() > 0
    assert server.process.poll() is not None


def test_the_dashboard_figures_reader_takes_in_every_request_the_server_shows() -> None:
    """The dashboard figure's open dashboard: a reader of the event stream, counting what it is shown."""
    cpu = min(os.sched_getaffinity(0))
    with start("mockhub", mockhub_command(), cpu) as server, dashboard.Dashboard(server.url) as reader, \
            Client(server.url) as client:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        for _ in range(3):
            assert client.request("GET", f"/api/v1/hubs/{HUB_A}", headers=bearer)[0] == 200
        for _ in range(400):  # the events come as the server writes them: wait, a bounded while
            if reader.events >= 3:
                break
            time.sleep(0.05)
    assert (reader.events, reader.error) == (3, None)


def test_goals_bound_the_ratio_or_the_value() -> None:
    at_least = Goal(0.75, at_most=False)
    assert at_least.met(1000, 0.8) and not at_least.met(1000, 0.7)
    at_most_ms = Goal(5, at_most=True, on_ratio=False)
    assert at_most_ms.met(4.9, None) and not at_most_ms.met(5.1, None)
    assert at_least.text("req/s") == ">= 0.75x"
    assert at_most_ms.text("ms") == "<= 5 ms"


def test_the_table_says_which_goals_are_met() -> None:
    figures = [
        Figure("fast enough", "req/CPU-s", 900, Goal(0.75, at_most=False), 1000, "baseline", 0.9),
        Figure("too slow", "req/CPU-s", 500, Goal(0.75, at_most=False), 1000, "baseline", 0.5, note="why"),
        Figure("shown only", "ms", 2.5, None),
    ]
    lines = table(figures).splitlines()
    assert lines[2].startswith("fast enough") and lines[2].endswith("met") and "0.90x" in lines[2]
    assert lines[3].endswith("NOT MET") and "1,000 req/CPU-s (baseline)" in lines[3]
    assert lines[4].endswith("(no goal)")
    assert "  too slow: why" in lines
    assert [f.to_json()["met"] for f in figures] == [True, False, None]


def test_a_profile_counts_a_function_once_per_stack_and_its_own_time_at_the_leaf() -> None:
    profile = Profile.parse([
        "main (app.py:1);handle (app.py:5);encode (json.py:9) 6",
        "main (app.py:1);handle (app.py:7);handle (app.py:5) 3",
        "main (app.py:1) 1",
    ])
    assert profile.total == 10
    assert profile.inclusive["handle (app.py)"] == 9
    assert profile.own == {"encode (json.py)": 6, "handle (app.py)": 3, "main (app.py)": 1}
    assert "main (app.py)" not in profile.below_the_loop()
    assert profile.top(profile.own, 1) == [" 60.0%  encode (json.py)"]


def test_the_generated_test_modules_pass_under_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for uses_fixture in (True, False):
        name = f"test_generated_{uses_fixture}.py".lower()
        source = fixture_overhead.module_source(3, uses_fixture)
        assert source.count("(mockhub)") == (4 if uses_fixture else 1)
        (tmp_path / name).write_text(source, encoding="utf-8")
        cpu = min(os.sched_getaffinity(0))
        assert fixture_overhead.run_pytest(tmp_path, name, cpu) > 0


def test_wrk_runs_pinned_to_the_load_core_with_the_request_shape_after_its_options() -> None:
    load = Load("POST", "/api/v1/hubs", '{"name": "n{n}"}', ("Authorization: Bearer t",))
    command = Wrk("/usr/bin/wrk", cpu=1, connections=16).command("http://127.0.0.1:9", load, 2.4)
    assert command[:4] == ["taskset", "-c", "1", "/usr/bin/wrk"]
    assert command[command.index("-c", 4) + 1] == "16"
    assert command[command.index("-d") + 1] == "2s"
    shape = command[command.index("--") + 1:]
    assert shape == ["POST", "/api/v1/hubs", '{"name": "n{n}"}', "Authorization: Bearer t"]


def test_the_balancer_figure_on_paper_adds_haproxys_cpu_a_request_to_one_process_alone() -> None:
    def run(requests: int, cpu_seconds: float) -> Run:
        return Run(WrkResult(requests, 4_000_000, 0, 0, 1.0, 1, 1, 1), cpu_seconds)

    alone = [run(10_000, 1.0), run(20_000, 2.0), run(10_000, 1.0)]  # 100 us a request
    balanced = [run(10_000, 1.5), run(10_000, 1.5), run(20_000, 3.0)]
    figure = balancer.on_paper("GET a hub", alone, balanced, [0.25, 0.3, 0.5])  # HAProxy: 25, 30, 25 us a request
    assert figure.value == pytest.approx(8_000)  # 1 / (100 us + 25 us)
    assert (figure.reference, figure.ratio) == (pytest.approx(10_000), pytest.approx(0.8))
    assert "HAProxy 25.0 us of CPU a request" in figure.note and "about 4 processes" in figure.note


def test_a_server_idle_between_one_connections_requests_is_not_taken_for_a_busy_machine() -> None:
    def run(cpu_seconds: float) -> Run:  # 10,000 requests in 4 s of wall clock
        return Run(WrkResult(10_000, 4_000_000, 0, 0, 1.0, 1, 1, 1), cpu_seconds)

    ours, theirs = [run(2.0), run(2.0)], [run(1.0), run(1.0)]  # busy half and a quarter of the run
    loaded = throughput.rate_figure("GET a hub", None, ours, theirs, "baseline")
    paced = throughput.rate_figure("GET a hub, one connection", None, ours, theirs, "baseline",
                                   throughput.ONE_AT_A_TIME_NOTE, waits_on_client=True)
    assert (loaded.value, loaded.reference, loaded.ratio) == (5_000, 10_000, 0.5)
    assert (paced.value, paced.reference, paced.ratio) == (5_000, 10_000, 0.5)
    assert "servers busy only 50% and 25% of the time: other load on the machine" in loaded.note
    assert "other load" not in paced.note and paced.note.startswith("one connection, a request at a time")


def test_the_soak_calls_memory_flat_only_when_the_last_third_stops_growing() -> None:
    from benchmarks.soak import Slice, flat

    def run(*rss: float) -> list[Slice]:
        return [Slice(10.0 * i, 1000 * i, 1000, mb, 0) for i, mb in enumerate(rss, 1)]

    assert flat(run(40, 60, 62, 63, 62, 63, 63, 62, 63))  # warms up, then holds
    assert not flat(run(40, 50, 60, 70, 80, 90, 100, 110, 120))  # a leak
    assert flat(run(40, 60, 61, 62, 62, 63, 64, 64, 65))  # within 5% of the middle third's peak


def test_the_worst_case_run_reaches_every_bound_and_the_server_still_answers(capsys: Any) -> None:
    from benchmarks import worst

    assert worst.main(["--sessions", "2", "--connections", "20", "--journal-total-bytes", "1000000",
                       "--readers", "2", "--proxy-bodies", "2", "--proxy-properties", "2000"]) == 0
    printed = capsys.readouterr().out
    # Each session was filled until its own limit refused more (the run stops on anything else).
    assert "2 sessions: " in printed and "+ 20 connections each sending a 1 MiB body" in printed
    assert "+ 2 clients reading a journal of 0x01 bodies without reading the answers" in printed
    assert "health 200; state dump 200; server running" in printed
    assert "proxy + 2 bodies of 0.0 MiB, 2,000 unknown properties each" in printed
    assert "proxy + a body of 16 MiB" in printed and "proxy peak" in printed
