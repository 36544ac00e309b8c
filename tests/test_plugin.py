"""The pytest plugin, used as a user would: an installed mockhub and a user's test file."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]


def run_user_tests(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest on the user's project (pytester's folder), the installed plugins loading as they would.

    In this process, whose imports are done: seconds faster than a new interpreter each time.
    pytest-asyncio's warning about a project with no configuration of its own is left out: it
    would land in this suite's summary too."""
    unset_loop_scope = "ignore:The configuration option \"asyncio_default_fixture_loop_scope\" is unset"
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", unset_loop_scope, *args)


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return run_user_tests(pytester, "--strict-markers", *args)


def test_tenants_lists_every_tenant_with_its_tokens(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest

        def test_built_in(mockhub):
            assert [(t.name, t.token) for t in mockhub.tenants] == [
                ("Tenant A", "mockhub-dev-token"), ("Tenant B", "mockhub-other-token")]
            assert mockhub.tenants[0].headers == mockhub.headers
            assert mockhub.tenants[1].id == "abc1e69f-c888-875f-ee2c-45789fd66a00"

        @pytest.mark.mockhub(fixtures=[{"tenants": [
            {"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["one", "two"]},
            {"tenantId": "33333333-3333-3333-3333-333333333333", "tokens": []}]}])
        def test_own_data(mockhub):
            first, second = mockhub.tenants
            assert (first.tokens, first.headers) == (("one", "two"), {"Authorization": "Bearer one"})
            with pytest.raises(LookupError, match="33333333"):
                second.token
    """)
    result.assert_outcomes(passed=2)


def test_each_test_starts_from_the_start_up_state(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import json, urllib.request

        def create(mockhub, name):
            body = json.dumps({"name": name, "description": ""}).encode()
            request = urllib.request.Request(f"{mockhub.url}/api/v1/hubs", data=body, method="POST",
                                             headers={**mockhub.headers, "Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request))

        def total(mockhub):
            request = urllib.request.Request(f"{mockhub.url}/api/v1/hubs", headers=mockhub.headers)
            return json.load(urllib.request.urlopen(request))["total"]

        def test_one(mockhub):
            create(mockhub, "Same name")
            assert total(mockhub) == 4

        def test_two(mockhub):
            create(mockhub, "Same name")
            assert total(mockhub) == 4
            assert len(mockhub.requests) == 2
    """)
    result.assert_outcomes(passed=2)


def test_async_clients_work_too(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import aiohttp, pytest

        @pytest.mark.asyncio
        async def test_async(mockhub):
            async with aiohttp.ClientSession() as client:
                async with client.get(f"{mockhub.url}/api/v1/hubs", headers=mockhub.headers) as response:
                    assert response.status == 200
                    assert (await response.json())["total"] == 3
    """)
    result.assert_outcomes(passed=1)


def test_the_marker_sets_seed_clock_fixtures_and_faults(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import json, urllib.request, urllib.error, pytest

        DATA = {"tenants": [{"tenantId": "22222222-2222-2222-2222-222222222222", "tokens": ["mine"]}],
                "hubs": [{"tenantId": "22222222-2222-2222-2222-222222222222", "name": "Mine", "description": ""}]}

        def create(mockhub):
            body = json.dumps({"name": "New", "description": ""}).encode()
            request = urllib.request.Request(f"{mockhub.url}/api/v1/hubs", data=body, method="POST",
                                             headers={**mockhub.headers, "Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request))

        @pytest.mark.mockhub(seed=1, clock="2030-05-01T10:00:00Z")
        def test_seed_one(mockhub):
            hub = create(mockhub)
            assert hub["created"] == "2030-05-01T10:00:00.0000000Z"
            pytest.seed_one = hub["hubId"]

        @pytest.mark.mockhub(seed=1, clock="2030-05-01T10:00:00Z")
        def test_seed_one_again(mockhub):
            assert create(mockhub)["hubId"] == pytest.seed_one

        @pytest.mark.mockhub(seed=2, clock="2030-05-01T10:00:00Z")
        def test_seed_two(mockhub):
            assert create(mockhub)["hubId"] != pytest.seed_one

        @pytest.mark.mockhub(fixtures=[DATA])
        def test_fixture_data(mockhub):
            assert mockhub.token == "mine"
            assert mockhub.state()["hubs"][0]["name"] == "Mine"

        @pytest.mark.mockhub(faults=[{"status": 408, "times": 1}])
        def test_faults(mockhub):
            with pytest.raises(urllib.error.HTTPError) as failed:
                urllib.request.urlopen(urllib.request.Request(f"{mockhub.url}/api/v1/hubs", headers=mockhub.headers))
            assert failed.value.code == 408
            assert mockhub.requests[0]["fault"] == "408"
    """, "-p", "no:randomly")
    result.assert_outcomes(passed=5)


def test_add_fault_load_and_assert_called(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import json, urllib.request, urllib.error, pytest

        def get(mockhub, path):
            return urllib.request.urlopen(urllib.request.Request(mockhub.url + path, headers=mockhub.headers))

        def test_arrange_and_inspect(mockhub):
            mockhub.load({"hubs": [{"tenantId": "00000000-0000-0000-0000-000000000001",
                                    "hubId": "44444444-4444-4444-4444-444444444444",
                                    "name": "Arranged", "description": ""}]})
            assert json.load(get(mockhub, "/api/v1/hubs/44444444-4444-4444-4444-444444444444"))["name"] == "Arranged"
            rule = mockhub.add_fault({"path": "/api/v1/hubs", "status": 429})
            assert rule["id"] == "rule-1"
            with pytest.raises(urllib.error.HTTPError):
                get(mockhub, "/api/v1/hubs")
            mockhub.clear_faults()
            get(mockhub, "/api/v1/hubs")
            mockhub.assert_called("GET", "/api/v1/hubs", times=2)
            mockhub.assert_called("GET", "/api/v1/hubs/*")

        def test_bad_rules_and_data_are_refused(mockhub):
            from mockhub import FixtureError, ValidationFailed
            with pytest.raises(ValidationFailed, match="status"):
                mockhub.add_fault({"status": 200})
            with pytest.raises(FixtureError, match="hubs\\\\[0\\\\]"):
                mockhub.load({"hubs": [{"tenantId": "nope"}]})
    """)
    result.assert_outcomes(passed=2)


def test_a_failing_assert_called_lists_what_arrived_closest_first(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import urllib.request

        def test_expects_a_delete(mockhub):
            for path in ("/api/v1/hubs", "/api/v1/hubs/00000000-0000-0000-0000-0000000000a2", "/__nowhere"):
                try:
                    urllib.request.urlopen(urllib.request.Request(mockhub.url + path, headers=mockhub.headers))
                except Exception:
                    pass
            mockhub.assert_called("DELETE", "/api/v1/hubs/00000000-0000-0000-0000-0000000000a2")
    """)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "expected DELETE /api/v1/hubs/00000000-0000-0000-0000-0000000000a2 at least once" in output
    listing = re.findall(r"^E\s+(GET|POST|PUT|DELETE) (\S+) -> (\d+)$", output, flags=re.M)
    assert listing == [("GET", "/api/v1/hubs/00000000-0000-0000-0000-0000000000a2", "200"),
                       ("GET", "/api/v1/hubs", "200"), ("GET", "/__nowhere", "404")]


def test_a_failing_assert_called_says_when_the_journal_cut_what_it_compared(pytester: pytest.Pytester) -> None:
    """A body over 64 KiB was 'not JSON' and a long header 'expected ttt..., got ttt...', with no word of why."""
    result = run(pytester, """
        import json, urllib.request

        def test_big_body(mockhub):
            big = {"name": "X", "description": "d" * 70000}
            request = urllib.request.Request(mockhub.url + "/api/v1/hubs", method="POST", data=json.dumps(big).encode(),
                                             headers={**mockhub.headers, "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request)
            except Exception:
                pass
            mockhub.assert_called("POST", "/api/v1/hubs", json={"name": "X"})
    """)
    result.assert_outcomes(failed=1)
    assert "the journal kept this request's body cut short (--journal-body-bytes" in result.stdout.str()


def test_a_server_side_exception_fails_the_test_with_its_traceback(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import urllib.request, urllib.error, pytest
        from mockhub import MockhubServerError
        from mockhub.web.keys import SESSIONS

        def test_server_breaks(mockhub):
            # simulate a bug in the mock: the hub store is gone
            session = mockhub._server.app[SESSIONS].default
            mockhub._server.call(lambda: setattr(session.store, "hubs", None))
            with pytest.raises(urllib.error.HTTPError) as failed:
                urllib.request.urlopen(urllib.request.Request(mockhub.url + "/api/v1/hubs", headers=mockhub.headers))
            assert failed.value.code == 500
            with pytest.raises(MockhubServerError, match="AttributeError"):  # what fails the test at its end
                mockhub.raise_server_errors()

        def test_next_test_is_clean(mockhub):
            urllib.request.urlopen(urllib.request.Request(mockhub.url + "/api/v1/hubs", headers=mockhub.headers))
    """)
    result.assert_outcomes(failed=1, passed=1)
    output = result.stdout.str()
    assert "mockhub raised while serving this test" in output
    assert "AttributeError" in output


def test_xdist_workers_each_get_their_own_server(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    tests = "\n".join(f"""
def test_{i}(mockhub):
    body = json.dumps({{"name": "Shared name", "description": ""}}).encode()
    request = urllib.request.Request(f"{{mockhub.url}}/api/v1/hubs", data=body, method="POST",
                                     headers={{**mockhub.headers, "Content-Type": "application/json"}})
    assert json.load(urllib.request.urlopen(request))["name"] == "Shared name"
    urls.add(mockhub.url)
""" for i in range(8))
    # The two worker processes load the plugins this needs by name: found by their entry points,
    # every installed plugin's whole distribution would have its asserts rewritten in each worker.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = run(pytester, "import json, urllib.request\nurls = set()\n" + tests,
                 "-p", "xdist.plugin", "-p", "mockhub.pytest_plugin", "-n", "2")
    result.assert_outcomes(passed=8)


def test_the_marker_refuses_unknown_options(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest

        @pytest.mark.mockhub(sed=1)
        def test_typo(mockhub):
            pass
    """)
    result.assert_outcomes(errors=1)
    assert "does not take sed" in result.stdout.str()


WRONG_MARKERS = {  # the marker's arguments: what it says
    'seed="7"': "@pytest.mark.mockhub(seed=...) takes an int, not '7'",
    "seed=[1]": "@pytest.mark.mockhub(seed=...) takes an int, not [1]",
    "clock=20300501": "@pytest.mark.mockhub(clock=...) takes an ISO instant or a datetime, not 20300501",
    'faults={"status": 503}': "@pytest.mark.mockhub(faults=...) takes a list of rules",
    "token_lifetime=0": "@pytest.mark.mockhub(token_lifetime=...) takes a number of seconds above 0 (an int), not 0",
    'token_lifetime="60"': "@pytest.mark.mockhub(token_lifetime=...) takes a number of seconds above 0 (an int), "
                           "not '60'",
    'webhook_time_scale="fast"': "@pytest.mark.mockhub(webhook_time_scale=...) takes a number >= 0, not 'fast'",
    "webhook_timeout=-1": "@pytest.mark.mockhub(webhook_timeout=...) takes a number >= 0, not -1",
}


def test_the_marker_says_what_a_wrong_value_should_be(pytester: pytest.Pytester) -> None:
    """Each was taken silently (seed '7' made other data than 7) or failed with a TypeError from deep inside."""
    result = run(pytester, "import pytest\n" + "".join(
        f"\n@pytest.mark.mockhub({marker})\ndef test_{number}(mockhub):\n    pass\n"
        for number, marker in enumerate(WRONG_MARKERS)))
    result.assert_outcomes(errors=len(WRONG_MARKERS))
    for message in WRONG_MARKERS.values():
        assert message in result.stdout.str()


def test_the_marker_takes_a_datetime_clock_and_a_seed_of_none_means_the_command_lines(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import datetime, json, urllib.request, pytest

        WHEN = datetime.datetime(2030, 5, 1, 10, tzinfo=datetime.timezone.utc)
        IDS = []

        def created(mockhub):
            request = urllib.request.Request(mockhub.url + "/api/v1/hubs", method="POST", headers={
                **mockhub.headers, "Content-Type": "application/json"}, data=b'{"name": "n", "description": ""}')
            return json.load(urllib.request.urlopen(request))

        @pytest.mark.mockhub(seed=None, clock=WHEN)
        def test_seed_from_the_command_line(mockhub):
            hub = created(mockhub)
            assert hub["created"] == "2030-05-01T10:00:00.0000000Z"
            IDS.append(hub["hubId"])

        @pytest.mark.mockhub(seed=5, clock="2030-05-01T10:00:00Z")
        def test_seed_5(mockhub):
            assert created(mockhub)["hubId"] == IDS[0]

        def test_rules_one_at_a_time(mockhub):
            with pytest.raises(TypeError, match="takes one rule, a dict, not list .call it once per rule."):
                mockhub.add_fault([{"status": 503}])
    """, "--mockhub-seed", "5")
    result.assert_outcomes(passed=3)


def test_marker_faults_are_checked_like_any_rule(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest

        @pytest.mark.mockhub(faults=[{"status": 302, "path": "/api/v1/hubs"}])
        def test_bad_rule(mockhub):
            pass
    """)
    result.assert_outcomes(errors=1)
    assert "@pytest.mark.mockhub(faults=...): Value '302' of 'status' is not valid" in result.stdout.str()


def test_overrides_through_the_fixture_and_the_marker(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import json, urllib.request, urllib.error, pytest
        from mockhub import ValidationFailed

        HUB = "/api/v1/hubs/3bc1e69f-c520-446f-ab2c-01751fd66a31"

        def call(mockhub, path, method="GET", body=None, headers=None):
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(mockhub.url + path, data=data, method=method,
                                             headers={**mockhub.headers, "Content-Type": "application/json",
                                                      **(headers or {})})
            try:
                with urllib.request.urlopen(request) as answer:
                    return answer.status, json.load(answer)
            except urllib.error.HTTPError as error:
                return error.code, json.load(error)

        def test_on_contract_merge_and_times(mockhub):
            hub = call(mockhub, HUB)[1]
            added = mockhub.override({"method": "GET", "path": HUB, "times": 1,
                                      "response": {"body": {**hub, "description": "x" * 300}}})
            assert added["id"] == "override-1"
            assert call(mockhub, HUB)[1]["description"] == "x" * 300
            assert call(mockhub, HUB)[1] == hub
            mockhub.override({"method": "GET", "path": "/api/v1/hubs/*", "response": {"merge": {"statusId": 2002}}})
            assert call(mockhub, HUB)[1] == {**hub, "statusId": 2002}
            assert [e.get("override") for e in mockhub.requests] == [None, "override-1", None, "override-2"]
            mockhub.clear_overrides()
            assert call(mockhub, HUB)[1] == hub

        def test_overrides_do_not_outlive_their_test(mockhub):
            assert call(mockhub, HUB)[1]["statusId"] == 2000

        def test_off_contract_is_refused_unless_asked_for(mockhub):
            rule = {"method": "GET", "path": HUB, "response": {"status": 418, "body": {"tea": "yes"}}}
            with pytest.raises(ValidationFailed, match="Value '418' of 'response.status' is not valid"):
                mockhub.override(rule)
            mockhub.override({**rule, "off_contract": True})
            assert call(mockhub, HUB) == (418, {"tea": "yes"})
            [entry] = mockhub.requests
            assert entry["off_contract"] is True

        def test_matching_on_query_headers_and_body(mockhub):
            taken = {"status": 400, "errors": [{"code": 600, "description": "Taken. (code: PRT000600)"}]}
            mockhub.override({"method": "POST", "path": "/api/v1/hubs", "body": {"name": "Clash"},
                              "headers": {"x-client": "web"}, "response": {"status": 400, "body": taken}})
            assert call(mockhub, "/api/v1/hubs", "POST", {"name": "Clash", "description": ""},
                        {"X-Client": "web"})[0] == 400
            assert call(mockhub, "/api/v1/hubs", "POST", {"name": "Clash", "description": ""})[0] == 200
            mockhub.assert_called("POST", "/api/v1/hubs", json={"name": "Clash"}, headers={"X-CLIENT": "web"},
                                  times=1)
            mockhub.assert_called("POST", "/api/v1/hubs", json={"name": "Clash"}, times=2)

        @pytest.mark.mockhub(overrides=[{"method": "GET", "path": "/api/v1/hubs/*",
                                         "response": {"merge": {"statusId": 2002}}}],
                             faults=[{"path": "/api/v1/hubs", "query": {"pageSize": "1"}, "status": 504}])
        def test_the_marker_sets_overrides_and_gateway_faults(mockhub):
            assert call(mockhub, HUB)[1]["statusId"] == 2002
            status, body = call(mockhub, "/api/v1/hubs?pageSize=1")
            assert (status, body["errors"][0]["code"]) == (504, 108)
            assert call(mockhub, "/api/v1/hubs?pageSize=2")[0] == 200
    """)
    result.assert_outcomes(passed=5)


def test_a_bad_marker_override_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest

        @pytest.mark.mockhub(overrides=[{"method": "GET", "path": "/api/v1/nothing", "response": {"body": {}}}])
        def test_bad(mockhub):
            pass
    """)
    result.assert_outcomes(errors=1)
    assert ("@pytest.mark.mockhub(overrides=...): Property '[0].path' with '[0].method': GET /api/v1/nothing is no "
            "operation of the contract.") in result.stdout.str()


def test_assert_called_with_json_fails_saying_what_differed(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import json, urllib.request

        def test_expects_a_paused_hub(mockhub):
            for body in ({"name": "Shop", "description": "", "statusId": 2000}, {"name": "Other", "description": ""}):
                request = urllib.request.Request(mockhub.url + "/api/v1/hubs", data=json.dumps(body).encode(),
                                                 method="POST", headers={**mockhub.headers,
                                                                         "Content-Type": "application/json"})
                urllib.request.urlopen(request)
            mockhub.assert_called("POST", "/api/v1/hubs", json={"name": "Shop", "statusId": 2002})
    """)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert ("expected POST /api/v1/hubs with json {'name': 'Shop', 'statusId': 2002} at least once, it arrived 0 "
            "times; other requests, closest first:") in output
    listing = re.findall(r"^E\s+(.*)$", output.split("other requests, closest first:")[1], flags=re.M)
    assert listing[:5] == ["POST /api/v1/hubs -> 200", "body.statusId: expected 2002, got 2000",
                           "POST /api/v1/hubs -> 200", "body.name: expected 'Shop', got 'Other'",
                           "body.statusId: missing (expected 2002)"]
    assert "pytest_plugin.py" not in output  # the plugin's own frames are hidden


TOKEN_HELPERS = """
    import datetime, json, urllib.error, urllib.parse, urllib.request
    import pytest

    def token(mockhub):
        form = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "client_id": "hubster.portal.api.00000000000000000000000000000001",
                                       "client_secret": "mockhub-dev-portal-secret"})
        with urllib.request.urlopen(f"{mockhub.url}/connect/token", data=form.encode()) as response:
            return json.load(response)

    def status(mockhub, access_token):
        request = urllib.request.Request(f"{mockhub.url}/api/v1/hubs",
                                         headers={"Authorization": f"Bearer {access_token}"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code
"""
"""A user's helpers: a Portal token from ``POST /connect/token``, and the status of ``GET /api/v1/hubs`` with it."""


def test_advance_clock_makes_a_token_expire_without_waiting_and_each_test_starts_at_the_start(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, TOKEN_HELPERS + """
    @pytest.mark.mockhub(clock="2021-01-01T00:00:00Z")
    def test_expiry(mockhub):
        access_token = token(mockhub)["access_token"]
        assert mockhub.advance_clock(datetime.timedelta(days=29))["now"] == "2021-01-30T00:00:00.0000000Z"
        assert status(mockhub, access_token) == 200
        assert mockhub.advance_clock(86400)["now"] == "2021-01-31T00:00:00.0000000Z"
        assert status(mockhub, access_token) == 401
        assert status(mockhub, token(mockhub)["access_token"]) == 200
        assert mockhub.advance_clock("PT1H")["now"] == "2021-01-31T01:00:00.0000000Z"

    @pytest.mark.mockhub(clock="2021-01-01T00:00:00Z")
    def test_the_next_test_starts_at_the_start(mockhub):
        assert mockhub.advance_clock(0)["now"] == "2021-01-01T00:00:00.0000000Z"

    def test_what_is_no_duration_is_refused(mockhub):
        from mockhub.kernel.errors import ValidationFailed
        with pytest.raises(ValueError, match="not an ISO 8601 duration"):
            mockhub.advance_clock("30 days")
        with pytest.raises(TypeError, match="takes a timedelta, seconds or an ISO 8601 duration"):
            mockhub.advance_clock(None)
        with pytest.raises(ValidationFailed, match="moves forward only"):
            mockhub.advance_clock(-1)
    """)
    result.assert_outcomes(passed=3)


def test_the_marker_sets_the_token_lifetime_as_token_lifetime_does(pytester: pytest.Pytester) -> None:
    result = run(pytester, TOKEN_HELPERS + """
    @pytest.mark.mockhub(token_lifetime=60, clock="2021-01-01T00:00:00Z")
    def test_a_token_of_a_minute(mockhub):
        issued = token(mockhub)
        assert issued["expires_in"] == 60
        mockhub.advance_clock(59)
        assert status(mockhub, issued["access_token"]) == 200
        mockhub.advance_clock(1)
        assert status(mockhub, issued["access_token"]) == 401

    def test_without_it_the_documented_30_days(mockhub):
        assert token(mockhub)["expires_in"] == 2592000
    """)
    result.assert_outcomes(passed=2)


def test_set_clock_sets_the_session_s_time_back_or_forward(pytester: pytest.Pytester) -> None:
    result = run(pytester, TOKEN_HELPERS + """
    @pytest.mark.mockhub(clock="2021-01-01T00:00:00Z")
    def test_expiry_and_back(mockhub):
        access_token = token(mockhub)["access_token"]
        assert mockhub.set_clock("2021-01-31T00:00:00Z") == {
            "session": "default", "now": "2021-01-31T00:00:00.0000000Z", "pinned": True}
        assert status(mockhub, access_token) == 401
        an_hour_before = datetime.datetime(2021, 1, 30, 23, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
        assert mockhub.set_clock(an_hour_before)["now"] == "2021-01-30T22:00:00.0000000Z"
        assert status(mockhub, access_token) == 200
        assert mockhub.set_clock(datetime.datetime(2021, 1, 31))["now"] == "2021-01-31T00:00:00.0000000Z"

    def test_a_real_clock_runs_on_from_the_instant(mockhub):
        clock = mockhub.set_clock("2040-06-01T12:00:00Z")
        assert clock["now"].startswith("2040-06-01T12:0") and clock["pinned"] is False

    def test_what_is_no_instant_is_refused(mockhub):
        with pytest.raises(ValueError, match="not an ISO 8601 instant"):
            mockhub.set_clock("yesterday")
        with pytest.raises(TypeError, match="takes a datetime or an ISO 8601 instant, not int"):
            mockhub.set_clock(1609459200)
    """)
    result.assert_outcomes(passed=3)


def test_a_customer_message_and_a_wait_for_deliveries_that_fails_listing_the_log(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        import pytest

        WEBCHAT = "00000000-0000-0000-0000-0000000000b3"

        def test_nothing_is_delivered_where_no_webhook_listens(mockhub):
            sent = mockhub.customer_message(WEBCHAT, "Hi there!", binding="visitor-1", external_id="mine")
            assert sent["activity"]["externalId"] == "mine" and sent["deliveries"] == []
            assert mockhub.deliveries() == []
            mockhub.wait_for_deliveries(1, timeout=0.05)

        def test_what_cannot_arrive_is_refused_saying_why(mockhub):
            from mockhub import ValidationFailed
            with pytest.raises(ValidationFailed, match="customer messages arrive on a Customer integration"):
                mockhub.customer_message("00000000-0000-0000-0000-0000000000b6", "x", binding="b")  # Slack
            with pytest.raises(ValidationFailed, match="any Agent or Bot integration"):  # hub ...31 has none
                mockhub.customer_message("00000000-0000-0000-0000-0000000000b4", {"type": "text", "text": "x"},
                                         binding="b")
            with pytest.raises(ValidationFailed):  # neither a binding nor a conversation
                mockhub.customer_message(WEBCHAT, "x")
    """)
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "expected 1 attempt in the delivery log within 0.05 s, found 0; the log:" in out
    assert "(nothing was delivered)" in out
