"""The dashboard in a real browser: headless Chromium (Debian's), driven by Playwright.

A person opens ``/__mockhub/ui``, an HTTP client sends requests to the mock, and the page shows them as they
come; opening one shows the answer; a fault rule added from the page fires and its card counts it. Screenshots
of each step are kept in ``artifacts/dashboard/`` (git ignores ``artifacts/``).

Needs the ``browser`` extra (``pip install -e '.[browser]'``: Playwright's Python package, whose own browser
download is never used) and Chromium (``apt-get install chromium``; ``MOCKHUB_CHROMIUM`` names another binary):
skipped without them, failed under CI (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from mockhub.contract.contracts import Contract
from mockhub.settings import Settings
from mockhub.testing import MockhubTestServer
from mockhub.web.app import create_app
from tests.conftest import HUB_A, TOKEN

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "dashboard"
SETTLED_MS = 10_000
"""How long a step may take to show (a guard, not a measure: no test asserts a time). How long each answered
request took to show in the page is measured and kept in ``artifacts/dashboard/<visit>-shown-after.txt``."""
ADMIN_TOKEN = "browser-admin-token"
TWILIO_A = "00000000-0000-0000-0000-0000000000b1"
"""The built-in TwilioSMS integration of the first hub, whose System integration's URL is not loopback (each
delivery to it is a refused attempt)."""

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # the browser extra is not installed
    async_playwright = None  # type: ignore[assignment]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def chromium() -> str:
    """The Chromium binary to drive, or skip (fail under CI) saying what to install."""
    binary = os.environ.get("MOCKHUB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    missing = []
    if async_playwright is None:
        missing.append("Playwright's Python package (pip install -e '.[browser]')")
    if binary is None:
        missing.append("Chromium (apt-get install chromium, or MOCKHUB_CHROMIUM=/path/to/chrome)")
    if missing:
        message = f"the browser test needs {' and '.join(missing)}"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so it must run; .ci/run installs both)")
        pytest.skip(message)
    assert binary is not None
    return binary


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    binary = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=binary, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


class Visit:
    """A page of the dashboard, with the errors its scripts met and every request it made elsewhere."""

    def __init__(self, page: Page, base: str, name: str) -> None:
        self.page = page
        self.base = base
        self.name = name
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        self.shots = 0
        self.shown_after: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def open(self) -> None:
        async def only_this_server(route: Any) -> None:
            if route.request.url.startswith(self.base):
                await route.continue_()
            else:  # no CDN, no font, nothing from the internet
                self.elsewhere.append(route.request.url)
                await route.abort()

        await self.page.route("**/*", only_this_server)
        await self.page.goto(f"{self.base}/__mockhub/ui")

    async def shot(self, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        await self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots}-{step}.png"), full_page=True)

    async def shown(self, selector: str, answered: float) -> None:
        """Wait for ``selector``; keep how long after ``answered`` (a ``time.monotonic()``) it showed."""
        await self.page.wait_for_selector(selector, timeout=SETTLED_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shown_after.append(f"{selector}: {(time.monotonic() - answered) * 1000:.0f} ms")
        (ARTIFACTS / f"{self.name}-shown-after.txt").write_text("\n".join(self.shown_after) + "\n", encoding="utf-8")

    def row(self, *texts: str) -> str:
        """The selector of a row of the request list showing every one of ``texts``."""
        return "#requests tbody tr" + "".join(f":has(td:text-is('{text}'))" for text in texts)


async def start_mock(aiohttp_client: Any, contract: Contract, admin_contract: Contract, **settings: Any) -> str:
    app = create_app(Settings(**settings), contract=contract, admin_contract=admin_contract)
    client: TestClient = await aiohttp_client(MockhubTestServer(app))
    return str(client.server.make_url("")).rstrip("/")


async def send(base: str, method: str, path: str, session: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if session is not None:
        headers["X-Mockhub-Session"] = session
    async with aiohttp.ClientSession() as client, client.request(method, base + path, headers=headers) as answer:
        await answer.read()
        return answer.status


async def test_requests_show_as_they_come_open_to_their_answer_and_a_fault_from_the_page_fires(
        browser: Browser, aiohttp_client: Any, contract: Contract, admin_contract: Contract) -> None:
    base = await start_mock(aiohttp_client, contract, admin_contract)
    visit = Visit(await browser.new_page(viewport={"width": 1500, "height": 1100}), base, "serve")
    await visit.open()
    page = visit.page
    await page.wait_for_selector("#live.on", timeout=SETTLED_MS)
    hub = f"/api/v1/hubs/{HUB_A}"

    assert await send(base, "GET", hub, session="tab-1") == 200
    await visit.shown(visit.row("tab-1", "GET", hub, "200"), time.monotonic())
    assert await send(base, "GET", "/api/v1/hubs/no-such-hub") == 400
    await visit.shown(visit.row("default", "/api/v1/hubs/no-such-hub", "400"), time.monotonic())
    await visit.shot("requests")

    await page.click(visit.row("tab-1", hub))
    answer = page.locator("#detail .answer-body")
    await answer.wait_for(timeout=SETTLED_MS)
    assert f'"hubId": "{HUB_A}"' in await answer.inner_text()
    await page.wait_for_selector("#verdict.verdict >> text=Keeps to the contract", timeout=SETTLED_MS)
    await page.click("#copy-curl")
    curl = await page.locator("#copied").inner_text()
    assert curl.startswith("# the journal masks secrets")
    assert f"curl -X GET '{base}{hub}'" in curl and '-H "Authorization: Bearer $TOKEN"' in curl
    await visit.shot("opened")

    await page.select_option("#fault-method", "GET")
    await page.fill("#fault-path", hub)
    await page.fill("#fault-status", "429")
    await page.click("#fault-form button[type=submit]")
    card = page.locator("#faults .card[data-rule]")
    await card.wait_for(timeout=SETTLED_MS)
    assert "→ 429" in await card.inner_text()

    assert await send(base, "GET", hub) == 429
    await visit.shown(visit.row("default", hub, "429"), time.monotonic())
    await page.wait_for_selector("#faults .card[data-rule] .fired:text-is('1')", timeout=SETTLED_MS)
    await visit.shot("fault")

    # the hub gets an agent (a Direct integration without webhookUrl), then a customer texts its TwilioSMS number
    # (control API): the deliveries, to the agent by websocket and to the System integration refused, are shown
    agent = {"channelId": "Direct", "name": "Agent", "configuration": {"integrationType": "Agent"}}
    customer = {"integrationId": TWILIO_A, "binding": "+15550100", "message": {"type": "text", "text": "Hello?"}}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        async with client.post(f"{base}/api/v1/integrations/hubs/{HUB_A}", json=agent) as made:
            assert made.status == 200, await made.text()
        async with client.post(f"{base}/__mockhub/activities", json=customer) as made:
            assert made.status == 200, await made.text()
    await page.wait_for_selector("#deliveries details.delivery summary:has-text('websocket')", timeout=SETTLED_MS)
    await page.wait_for_selector("#deliveries details.delivery summary:has-text('refused')", timeout=SETTLED_MS)
    await visit.shot("deliveries")

    await page.fill("#filter-status", "4xx")
    assert await page.locator("#requests tbody tr").count() == 2
    await page.fill("#filter-status", "")
    await page.select_option("#filter-session", "tab-1")
    assert await page.locator("#requests tbody tr").count() == 1

    assert visit.errors == []
    assert visit.elsewhere == []


async def test_with_an_admin_token_the_page_asks_for_it_and_then_streams(
        browser: Browser, aiohttp_client: Any, contract: Contract, admin_contract: Contract) -> None:
    base = await start_mock(aiohttp_client, contract, admin_contract, admin_token=ADMIN_TOKEN)
    visit = Visit(await browser.new_page(), base, "token")
    await visit.open()
    page = visit.page
    await page.wait_for_selector("#live:text-is('needs the admin token')", timeout=SETTLED_MS)
    await page.wait_for_selector("#token-form.wanted", timeout=SETTLED_MS)
    await visit.shot("asked")
    await page.fill("#token", ADMIN_TOKEN)
    await page.click("#token-form button[type=submit]")
    await page.wait_for_selector("#live.on", timeout=SETTLED_MS)
    assert await page.evaluate("sessionStorage.getItem('mockhub.adminToken')") == ADMIN_TOKEN
    assert await send(base, "GET", f"/api/v1/hubs/{HUB_A}") == 200
    await visit.shown(visit.row("default", f"/api/v1/hubs/{HUB_A}", "200"), time.monotonic())
    await page.wait_for_selector("#sessions .session-row", timeout=SETTLED_MS)  # the control API answers it too
    await visit.shot("streaming")
    assert visit.errors == []
    assert visit.elsewhere == []
