"""The inbox in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright, the
production app on a real port (the Rasa stack included), channels pointed at local servers
speaking the Telegram and WhatsApp wire formats."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.core.settings import Settings
from handoff.store import Store
from tests.support.inbox import PASSWORD, add_agent
from tests.support.telegram_api import FakeTelegram
from tests.support.whatsapp_api import CloudApi

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

try:
    from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
except ImportError:  # pragma: no cover - playwright is a dev dependency
    async_playwright = None  # type: ignore[assignment]

# Each test module here sets `pytestmark = NEEDS_BROWSER`.
NEEDS_BROWSER = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM} (apt-get install chromium)"
    ),
    pytest.mark.skipif(async_playwright is None, reason="playwright is not installed"),
]

# Records every desktop notification and every tone the page makes, for the tests to read.
RECORDER = """
window.__notes = [];
window.__tones = 0;
const RealNotification = window.Notification;
function RecordingNotification(title, options) {
  window.__notes.push({ title, body: (options || {}).body, tag: (options || {}).tag });
  try { return new RealNotification(title, options); } catch (e) { return { close() {} }; }
}
Object.defineProperty(RecordingNotification, "permission", {
  get: () => RealNotification.permission,
});
RecordingNotification.requestPermission = (...a) => RealNotification.requestPermission(...a);
window.Notification = RecordingNotification;
const RealAudio = window.AudioContext;
window.AudioContext = class extends RealAudio {
  createOscillator() {
    const osc = super.createOscillator();
    const start = osc.start.bind(osc);
    osc.start = (...a) => { window.__tones += 1; return start(...a); };
    return osc;
  }
};
"""

WHATSAPP_SECRET = "whatsapp-app-secret"


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        await browser.close()


Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve(settings: Settings) -> AsyncIterator[Serve]:
    """Start the production app on a free port, with these settings changed; its base URL."""
    runners: list[web.AppRunner] = []

    async def go(**changes: Any) -> str:
        runner = web.AppRunner(create_app(dataclasses.replace(settings, **changes)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield go
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def default_gateway(serve: Serve) -> Callable[[], Awaitable[str]]:
    """The app with the test settings as they are, started when first asked for: a test that
    starts its own (with a channel) must not have a second gateway competing for its work."""
    started: list[str] = []

    async def get() -> str:
        if not started:
            started.append(await serve())
        return started[0]

    return get


@pytest.fixture
async def gateway(default_gateway: Callable[[], Awaitable[str]]) -> str:
    return await default_gateway()


@pytest.fixture
async def cloud_api() -> AsyncIterator[CloudApi]:
    api = await CloudApi().start()
    yield api
    await api.close()


def whatsapp_settings(api: CloudApi, templates: str = "") -> dict[str, Any]:
    found = Settings.from_env({"LOKET_WHATSAPP_TEMPLATES": templates}).whatsapp_templates
    return {
        "whatsapp_token": api.token, "whatsapp_phone_number_id": api.phone_number_id,
        "whatsapp_app_secret": WHATSAPP_SECRET, "whatsapp_verify_token": "verify",
        "whatsapp_api_url": api.url, "whatsapp_templates": found,
    }  # fmt: skip


def telegram_settings(api: FakeTelegram) -> dict[str, Any]:
    return {"telegram_token": api.token, "telegram_api_url": api.url}


async def sign_in(context: BrowserContext, base: str, name: str) -> Page:
    """A new tab on the inbox, signing in unless the context already has a session."""
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    await page.goto(f"{base}/inbox")
    if page.url.endswith("/inbox/login"):
        await page.fill("#name", name)
        await page.fill("#password", PASSWORD)
        await page.click("#sign-in")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await expect(page.locator("body[data-ready=yes]")).to_be_attached(timeout=10_000)
    await expect(page.locator("#live.on")).to_be_visible(timeout=10_000)
    return page


Login = Callable[..., Awaitable[Page]]


@pytest.fixture
async def agent_page(
    chromium: Browser, default_gateway: Callable[[], Awaitable[str]], store: Store
) -> Login:
    """An agent signed in, in a browser context of their own (`context`: Playwright's options),
    on `base` or the default gateway."""

    async def go(name: str, role: str = "agent", *, base: str = "", **context: Any) -> Page:
        await add_agent(store, name, role)
        opened = await chromium.new_context(**context)
        await opened.add_init_script(RECORDER)
        return await sign_in(opened, base or await default_gateway(), name)

    return go


SECRETS: dict[tuple[str, str], str] = {}  # (gateway, chat id) -> the conversation's secret


@pytest.fixture(autouse=True)
def _fresh_secrets() -> None:
    SECRETS.clear()  # Redis is emptied before each test


async def open_chat(gateway: str, chat_id: str) -> None:
    """Open a web-chat conversation as the page does, keeping its secret for `chat`."""
    url = f"{gateway}/chat/api/conversations"
    async with aiohttp.ClientSession() as http, http.post(url, json={"chat_id": chat_id}) as resp:
        assert resp.status == 201, await resp.text()
        SECRETS[gateway, chat_id] = (await resp.json())["secret"]


async def chat(gateway: str, chat_id: str, text: str) -> list[str]:
    """A customer writing on the web chat's API (opening the conversation first, as the page
    does, unless `open_chat` did); returns the bot's replies."""
    if (gateway, chat_id) not in SECRETS:
        await open_chat(gateway, chat_id)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway}/chat/api/messages",
            json={"chat_id": chat_id, "text": text},
            headers={"X-Loket-Chat-Secret": SECRETS[gateway, chat_id]},
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return [r["text"] for r in (await resp.json())["replies"]]
