"""Hostile and odd input (issue 11): each gets the API's own 4xx body, never a 500, and the server stays well.

Every test here ends with the server answering ordinary requests (the ``healthy`` fixture).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import HUB_A, TOKEN, Api, MakeApi, raw_exchange

HUBS = "/api/v1/hubs"
POINTS = "/rest/v1/service/integration_points"
POINT = f"{POINTS}/b4680fbe-016c-d86f-1d6b-50e54938780c"
INTEGRATION = "/api/v1/integrations/hubs"
JSON = {"Content-Type": "application/json"}

BODY_OPERATIONS = [  # (method, path, dialect)
    ("POST", HUBS, "portal"),
    ("PUT", f"{HUBS}/{HUB_A}", "portal"),
    ("POST", f"{INTEGRATION}/{HUB_A}", "portal"),
    ("POST", POINTS, "era"),
    ("PATCH", POINT, "era"),
    ("LOOKUP", POINTS, "era"),
]


@pytest.fixture
async def healthy(api: Api) -> AsyncIterator[Api]:
    yield api
    assert (await api.get("/__mockhub/health", token=None)).status == 200
    assert (await api.get(HUBS)).json()["total"] >= 3
    assert (await api.get(POINTS)).status == 200
    assert api.client is not None
    assert api.client.app is not None


def assert_error(reply: Any, status: int, dialect: str) -> None:
    assert reply.status == status, reply.body
    body = reply.json()
    if dialect == "portal":
        assert body["status"] == status
        assert body["errors"]
    else:
        assert body["error_code"] == 1000 + status
        assert body["error_message"]
    assert b"Traceback" not in reply.body


def ids(operations: list[tuple[str, str, str]]) -> list[str]:
    return [f"{m} {p.split('/')[-1] or p}" for m, p, _ in operations]


@pytest.mark.parametrize(("method", "path", "dialect"), BODY_OPERATIONS, ids=ids(BODY_OPERATIONS))
@pytest.mark.parametrize(("data", "content_type", "status"), [
    (b"", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b"12", "application/json", 400),
    (b"null", "application/json", 400),
    (b"{", "application/json", 400),
    (b'{"a": 1, "a": 2}', "application/json", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    (b"{\"code\": \"\xff\xfe\"}", "application/json", 400),
    (b'{"code": "a\x00b"}', "application/json", 400),
    (b"<xml/>", "application/xml", 415),
    (b"a=b", "multipart/form-data; boundary=x", 415),
], ids=["empty", "array", "number", "null", "truncated", "duplicate key", "deep", "bad utf-8", "raw NUL", "xml",
        "multipart"])
async def test_unusable_bodies_get_the_apis_4xx(healthy: Api, method: str, path: str, dialect: str, data: bytes,
                                               content_type: str, status: int) -> None:
    reply = await healthy.request(method, path, data=data, headers={"Content-Type": content_type})
    if method == "LOOKUP" and data in (b"12", b"null", b"[1, 2]"):
        status = 400  # not a JSON string
    assert_error(reply, status, dialect)


async def test_duplicate_keys_are_named(healthy: Api) -> None:
    reply = await healthy.request("POST", HUBS, data=b'{"name": "a", "description": "", "name": "b"}', headers=JSON)
    assert reply.error_codes() == [302]
    assert "'name' is given twice" in reply.json()["errors"][0]["description"]


@pytest.mark.parametrize(("method", "path", "body", "dialect"), [
    ("POST", HUBS, {"name": "x", "description": "", "closeDormantConversation": 2**70}, "portal"),
    ("POST", HUBS, {"name": "x", "description": "", "statusId": 2**64 + 2000}, "portal"),
    ("POST", POINTS, {"code": "BIG", "type": "im", "opts": {"recv_timeout": 2**64}}, "era"),
    ("POST", POINTS, {"code": "FLOAT", "type": "im", "opts": {"recv_timeout": 1e400}}, "era"),
])
async def test_numbers_beyond_64_bits_are_refused(healthy: Api, method: str, path: str, body: Any,
                                                  dialect: str) -> None:
    data = json.dumps(body).replace("Infinity", "1e400").encode()
    assert_error(await healthy.request(method, path, data=data, headers=JSON), 400, dialect)


@pytest.mark.parametrize(("path", "params", "dialect"), [
    (HUBS, {"pageSize": "9" * 40}, "portal"),
    (HUBS, {"pageNumber": "1" * 5000}, "portal"),
    (POINTS, {"offset": "9" * 31}, "era"),
    (POINTS, {"limit": "-5"}, "era"),
    (HUBS, [("pageSize", "1"), ("pageSize", "2")], "portal"),
    (POINTS, [("limit", "1"), ("limit", "2")], "era"),
    (POINTS, {"filter": "[" * 1200 + "]" * 1200}, "era"),  # deep, yet within the 8190-byte line
    (POINTS, {"order": '["id", "id"' + ", 1" * 1000 + "]"}, "era"),
])
async def test_odd_query_strings_are_400(healthy: Api, path: str, params: Any, dialect: str) -> None:
    assert_error(await healthy.get(path, params=params), 400, dialect)


@pytest.mark.parametrize("query", ["pageSize=%FF", "pageSize=%00", "pageNumber=%E2%82"])
async def test_undecodable_query_values_are_400(healthy: Api, query: str) -> None:
    assert_error(await healthy.get(f"{HUBS}?{query}"), 400, "portal")


PATH_OPERATIONS = [
    ("GET", HUBS + "/{}", "portal"), ("PUT", HUBS + "/{}", "portal"), ("DELETE", HUBS + "/{}", "portal"),
    ("POST", INTEGRATION + "/{}", "portal"), ("GET", "/api/v1/integrations/{}", "portal"),
    ("DELETE", "/api/v1/integrations/{}", "portal"), ("GET", INTEGRATION + "/{}/Slack", "portal"),
    ("GET", POINTS + "/{}", "era"), ("PATCH", POINTS + "/{}", "era"), ("DELETE", POINTS + "/{}", "era"),
]


@pytest.mark.parametrize(("method", "template", "dialect"), PATH_OPERATIONS,
                         ids=[f"{m} {t}" for m, t, _ in PATH_OPERATIONS])
@pytest.mark.parametrize("segment", ["not-a-guid", "3bc1e69f-c520-446f-ab2c-01751fd66a3", "%00", "%FF",
                                     "3bc1e69f-c520-446f-ab2c-01751fd66a31x", "%27%20OR%201%3D1"])
async def test_malformed_ids_in_paths_are_400(healthy: Api, method: str, template: str, dialect: str,
                                              segment: str) -> None:
    kwargs = {"json_body": {"statusId": 2000}} if method in ("PUT", "POST", "PATCH") else {}
    reply = await healthy.request(method, template.format(segment), **kwargs)
    assert_error(reply, 400, dialect)


async def test_unknown_fields_are_named(healthy: Api) -> None:
    portal = await healthy.post(HUBS, {"name": "x", "description": "", "hubId": HUB_A, "admin": True})
    assert sorted(e["description"] for e in portal.json()["errors"]) == [
        "Property 'admin' is not supported. (code: PRT000303)",
        "Property 'hubId' is not supported. (code: PRT000303)"]
    era = await healthy.post(POINTS, {"code": "U", "type": "im", "ext": {"ct": "now"}})
    assert_error(era, 400, "era")
    assert "'ext'" in era.json()["error_message"]


@pytest.mark.parametrize("name", ["Café ☕ 東京 🚀", "a\u0000b", "‮right-to-left", "x" * 256, "  spaced  ", "\t"])
async def test_unicode_and_odd_names_round_trip_exactly(healthy: Api, name: str) -> None:
    hub = await healthy.post(HUBS, {"name": name, "description": name})
    assert hub.status == 200
    assert (await healthy.get(f"{HUBS}/{hub.json()['hubId']}")).json()["name"] == name
    integration = await healthy.post(f"{INTEGRATION}/{HUB_A}", {
        "channelId": "Messenger", "name": name, "configuration": {"pageAccessToken": name}})
    assert integration.json()["name"] == name
    point = await healthy.post(POINTS, {"code": name, "type": "im"})
    assert point.json()["code"] == name
    lookup = await healthy.request("LOOKUP", POINTS, json_body=name)
    assert lookup.json() == [point.json()["id"]]


def _json_of(raw: bytes) -> tuple[int, Any, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    content_type = re.search(rb"(?im)^content-type: *([^\r\n;]+)", head)
    return status, json.loads(body), content_type.group(1).decode() if content_type else ""


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/v1/hubs?" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
    b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
    b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
    b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /api/v1/hubs HTTP/9.9\r\nHost: x\r\n\r\n",
], ids=["long url", "long header", "NUL in header", "too many headers", "negative length", "bad version"])
async def test_requests_aiohttp_cannot_parse_get_a_json_400(healthy: Api, request_bytes: bytes) -> None:
    assert healthy.client is not None
    raw = await asyncio.to_thread(raw_exchange, int(healthy.client.server.port), request_bytes)  # type: ignore[arg-type]
    status, body, content_type = _json_of(raw)
    assert status == 400
    assert content_type == "application/json"
    assert body["status"] == 400
    assert body["errors"][0]["code"] == 206
    assert "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("request_bytes", [
    b"GET /rest/v1/service/integration_points?order=" + b"%5B" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"LOOKUP /rest/v1/service/integration_points HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
], ids=["long url", "long header"])
async def test_unparsable_era_requests_get_the_era_format(healthy: Api, request_bytes: bytes) -> None:
    assert healthy.client is not None
    raw = await asyncio.to_thread(raw_exchange, int(healthy.client.server.port), request_bytes)  # type: ignore[arg-type]
    status, body, content_type = _json_of(raw)
    assert (status, content_type) == (400, "application/json")
    assert body["error_code"] == 1400


async def test_a_long_url_within_the_limit_is_answered(healthy: Api) -> None:
    reply = await healthy.get(HUBS, params={"ignored": "y" * 7000})
    assert reply.status == 200


async def test_requests_cannot_reach_files(healthy: Api) -> None:
    put = await healthy.request("PUT", "/__mockhub/state", token=None, json_body={"fixtures": "/etc/passwd"})
    assert put.status == 400
    assert "'fixtures'" in put.json()["error"]
    put = await healthy.request("PUT", "/__mockhub/state", token=None, json_body="/etc/passwd")
    assert put.status == 400
    traversal = await healthy.get("/__mockhub/../../etc/passwd", token=None)
    assert traversal.status == 404


async def test_the_admin_token_protects_the_control_api(make_api: MakeApi) -> None:
    api = await make_api(admin_token="s3cret")
    assert (await api.get("/__mockhub/health", token=None)).status == 200  # open for HEALTHCHECK
    for method, path in [("POST", "/__mockhub/reset"), ("GET", "/__mockhub/state"), ("GET", "/__mockhub/faults"),
                         ("GET", "/__mockhub/requests"), ("GET", "/__mockhub/docs"),
                         ("GET", "/__mockhub/openapi.json"), ("GET", "/__mockhub/sessions")]:
        refused = await api.request(method, path, token=None, headers={"X-Mockhub-Admin-Token": "wrong"})
        assert refused.status == 401
        assert "X-Mockhub-Admin-Token" in refused.json()["error"]
        assert (await api.request(method, path, token=None)).status == 401
        assert (await api.request(method, path, token=None, headers={"X-Mockhub-Admin-Token": "s3cret"})).status \
            in (200, 201)
    # the APIs themselves are unaffected
    assert (await api.get(HUBS)).status == 200


async def test_secrets_are_masked_in_the_journal(healthy: Api) -> None:
    await healthy.get(HUBS, headers={"Cookie": "theme=dark; session=abcdef123456",
                                     "X-Mockhub-Admin-Token": "topsecret"})
    await healthy.get(HUBS, token=None, headers={"Authorization": f"{TOKEN} trailing"})  # a token without a scheme
    first, second = (await healthy.get("/__mockhub/requests", token=None)).json()
    assert first["headers"]["Authorization"] == "Bearer mock****"
    assert first["headers"]["Cookie"] == "theme=****; session=****"  # every value: which cookie holds a secret?
    assert second["headers"]["Authorization"] == "mock****"
    for entry in (first, second):
        assert TOKEN not in json.dumps(entry)
        assert "abcdef123456" not in json.dumps(entry)
        assert "topsecret" not in json.dumps(entry)


@pytest.mark.parametrize(("method", "path", "dialect"), BODY_OPERATIONS, ids=ids(BODY_OPERATIONS))
async def test_a_lone_surrogate_is_refused_and_stores_nothing(healthy: Api, method: str, path: str,
                                                             dialect: str) -> None:
    before = (await healthy.get("/__mockhub/state", token=None)).body
    data = b'"x\\ud800y"' if method == "LOOKUP" else b'{"name": "x\\ud800", "code": "\\udfff", "type": "im"}'
    reply = await healthy.request(method, path, data=data, headers=JSON)
    assert_error(reply, 400, dialect)
    assert "surrogate" in reply.body.decode()
    assert (await healthy.get("/__mockhub/state", token=None)).body == before


async def test_a_surrogate_pair_is_one_character(healthy: Api) -> None:
    reply = await healthy.request("POST", HUBS, data=b'{"name": "rocket \\ud83d\\ude80", "description": ""}',
                                  headers=JSON)
    assert reply.status == 200
    assert reply.json()["name"] == "rocket 🚀"


async def test_integers_beyond_64_bits_in_free_form_fields_are_served(healthy: Api) -> None:
    created = await healthy.post(POINTS, {"code": "BIGROLES", "type": "im", "opts": {"roles": [2**70, "admin"]}})
    assert created.status == 200
    fetched = await healthy.get(f"{POINTS}/{created.json()['id']}")
    assert fetched.json()["opts"]["roles"] == [2**70, "admin"]


async def test_a_session_header_that_is_not_utf8_is_400(healthy: Api) -> None:
    assert healthy.client is not None
    request = (b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
               + b"\r\nX-Mockhub-Session: caf\xe9\xff\r\nConnection: close\r\n\r\n")
    raw = await asyncio.to_thread(raw_exchange, int(healthy.client.server.port), request)  # type: ignore[arg-type]
    status, body, _ = _json_of(raw)
    assert status == 400
    assert "X-Mockhub-Session" in body["errors"][0]["description"]


@pytest.mark.parametrize("header", [
    b"X-Mockhub-Delay: \xc2\xb2",  # superscript two: a digit to str.isdigit, not to int()
    b"X-Mockhub-Fault: \xd9\xa5\xd9\xa0\xd9\xa3",  # 503 in Arabic-Indic digits
    b"X-Mockhub-Fault: " + b"1" * 5000,
    b"X-Mockhub-Delay: " + b"9" * 5000,
])
async def test_fault_headers_take_ascii_digits_only(healthy: Api, header: bytes) -> None:
    assert healthy.client is not None
    request = (b"GET /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
               + header + b"\r\nConnection: close\r\n\r\n")
    raw = await asyncio.to_thread(raw_exchange, int(healthy.client.server.port), request)  # type: ignore[arg-type]
    status, body, _ = _json_of(raw)
    assert status == 400
    assert "X-Mockhub-" in body["errors"][0]["description"]


async def test_a_number_too_large_for_a_float_is_refused_and_stores_nothing(healthy: Api) -> None:
    data = b'{"code": "inf", "type": "public", "opts": {"roles": [1e400, 123456789012345678901234567890]}}'
    reply = await healthy.request("POST", POINTS, data=data, headers=JSON)
    assert_error(reply, 400, "era")
    assert "out of range" in reply.json()["error_message"]
    assert (await healthy.request("LOOKUP", POINTS, json_body="inf")).status == 404


async def test_the_journal_keeps_at_most_64_kib_of_a_body(healthy: Api) -> None:
    await healthy.post(HUBS, {"name": "big", "description": "x" * 200_000})
    [entry] = (await healthy.get("/__mockhub/requests", token=None)).json()
    assert len(entry["body"]) == 64 * 1024


async def test_whole_numbers_written_with_a_fraction_are_stored_and_answered_as_integers(healthy: Api) -> None:
    """The contract types them integer (JSON Schema takes 30.0 as one): a typed client cannot read 30.0 into an
    int, and channelId 106.0 was a 500."""
    hub = await healthy.request("POST", HUBS, data=b'{"name": "floats", "description": "", "statusId": 2002.0, '
                                                   b'"closeDormantConversation": 30.0}', headers=JSON)
    assert hub.status == 200
    assert b'"closeDormantConversation":30,' in hub.body and b'"statusId":2002,' in hub.body
    chat = await healthy.request("POST", f"{INTEGRATION}/{HUB_A}", headers=JSON, data=(
        b'{"channelId": 106.0, "name": "float chat", "statusId": 3002.0, "configuration": {"allowedOrigins": ["x"]}}'))
    assert (chat.status, chat.json()["channelId"], chat.json()["statusId"]) == (200, "WebChat", 3002)
    point = await healthy.request("POST", POINTS, token=None, headers=JSON,
                                  data=b'{"code": "FLOAT", "type": "im", "opts": {"recv_timeout": 7.0}}')
    assert point.status == 200 and b'"recv_timeout":7}' in point.body


def _gzipped_hub(name: str, extra: bytes = b"", body: bytes | None = None, token: str = TOKEN) -> bytes:
    data = body if body is not None else gzip.compress(json.dumps({"name": name, "description": "gz"}).encode())
    return (b"POST /api/v1/hubs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(data) + data)


async def test_a_compressed_body_is_read_the_same_on_a_kept_connection_and_a_closed_one(healthy: Api) -> None:
    """On a kept-alive connection the compressed bytes were read as the body (400 'not valid UTF-8')."""
    port = int(healthy.client.server.port) if healthy.client is not None else 0  # type: ignore[arg-type]

    def both() -> list[int]:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /__mockhub/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(0.2)  # idle: the next request may take the express lane
            sock.sendall(_gzipped_hub("gz kept"))
            kept = sock.recv(65536)
        closed = raw_exchange(port, _gzipped_hub("gz closed", b"Connection: close\r\n"))
        return [_json_of(kept)[0], _json_of(closed)[0]]

    assert await asyncio.to_thread(both) == [200, 200]
    names = [h["name"] for h in (await healthy.get(HUBS, params={"pageSize": 100})).json()["results"]]
    assert {"gz kept", "gz closed"} <= set(names)


async def test_a_body_that_cannot_be_decompressed_is_a_400_after_the_401(healthy: Api) -> None:
    port = int(healthy.client.server.port) if healthy.client is not None else 0  # type: ignore[arg-type]
    bad = await asyncio.to_thread(raw_exchange, port, _gzipped_hub("", b"Connection: close\r\n", b"not gzip"))
    status, body, _ = _json_of(bad)
    assert (status, body["errors"][0]["code"]) == (400, 206)
    assert "cannot be read" in body["errors"][0]["description"]
    stranger = await asyncio.to_thread(raw_exchange, port, _gzipped_hub("", b"Connection: close\r\n", b"not gzip",
                                                                         token="nope"))
    assert _json_of(stranger)[0] == 401


async def test_secrets_stay_masked_when_the_journal_cuts_header_names(make_api: MakeApi) -> None:
    """A name cut to --journal-header-bytes ('X-Mockhub-Admin-') was no longer known as a secret's."""
    api = await make_api(journal_header_bytes=16)
    await api.get(HUBS, headers={"X-Mockhub-Admin-Token": "supersecretadmintoken",
                                 "Proxy-Authorization": "Basic dXNlcjpwYXNzd29yZA=="})
    [entry] = (await api.get("/__mockhub/requests", token=None)).json()
    assert entry["headers"]["X-Mockhub-Admin-"] == "supe****"
    assert entry["headers"]["Proxy-Authorizat"] == "Basic dXNl****"
    assert entry["headers"]["Authorization"] == "Bearer mock****"


async def test_a_body_with_very_many_problems_lists_a_bounded_number_of_them(healthy: Api) -> None:
    """Every problem was found and listed: a 1 MiB body of 340,000 wrong-typed items held the server for half
    a minute and was answered with megabytes. The first hundred are listed, then one saying there are more."""
    body = {"channelId": 106, "name": "Many problems", "configuration": {"allowedOrigins": [1] * 50_000,
                                                                         "start": [{"type": "text", "text": "hi"}]}}
    reply = await healthy.post(f"/api/v1/integrations/hubs/{HUB_A}", body)
    assert reply.status == 400
    errors = reply.json()["errors"]
    assert len(errors) == 101
    assert errors[-1]["description"] == "There are more problems than the first 100 listed. (code: PRT000300)"
    assert all("allowedOrigins" in e["description"] for e in errors[:-1])
    assert (await healthy.get(f"/api/v1/hubs/{HUB_A}")).status == 200  # and the server answers at once after
