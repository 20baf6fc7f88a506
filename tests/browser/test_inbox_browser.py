"""The inbox in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright, against the real gateway (Rasa stack included) on a real port."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from handoff import Role, Transcript
from handoff.conversations import Conversations
from handoff.store import Store
from tests.support.inbox import PASSWORD, add_agent, open_handoff

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - playwright is a dev dependency
    async_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM} (apt-get install chromium)"
    ),
    pytest.mark.skipif(async_playwright is None, reason="playwright is not installed"),
]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[str]:
    """The production app on a free port (the browser needs a real one)."""
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        await browser.close()


Login = Callable[..., Awaitable[Page]]


@pytest.fixture
async def agent_page(chromium: Browser, gateway: str, store: Store) -> Login:
    async def go(name: str, role: str = "agent") -> Page:
        await add_agent(store, name, role)
        context = await chromium.new_context()
        page = await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))
        page.dialogs = dialogs  # type: ignore[attr-defined]
        await page.goto(f"{gateway}/inbox")
        await expect(page).to_have_url(re.compile(r"/inbox/login$"))
        await page.fill("#name", name)
        await page.fill("#password", PASSWORD)
        await page.click("#sign-in")
        await expect(page).to_have_url(re.compile(r"/inbox$"))
        await expect(page.locator("#live")).to_have_text("live", timeout=10_000)
        return page

    return go


SECRETS: dict[tuple[str, str], str] = {}  # (gateway, chat id) -> the conversation's secret


@pytest.fixture(autouse=True)
def _fresh_secrets() -> None:
    SECRETS.clear()  # Redis is emptied before each test


async def chat(gateway: str, chat_id: str, text: str) -> list[str]:
    """A customer writing on the web chat's API (opening the conversation first, as the page
    does); returns the bot's replies."""
    async with aiohttp.ClientSession() as http:
        if (gateway, chat_id) not in SECRETS:
            async with http.post(
                f"{gateway}/chat/api/conversations", json={"chat_id": chat_id}
            ) as opened:
                assert opened.status == 201, await opened.text()
                SECRETS[gateway, chat_id] = (await opened.json())["secret"]
        async with http.post(
            f"{gateway}/chat/api/messages",
            json={"chat_id": chat_id, "text": text},
            headers={"X-Loket-Chat-Secret": SECRETS[gateway, chat_id]},
        ) as resp:
            assert resp.status == 200, await resp.text()
            return [r["text"] for r in (await resp.json())["replies"]]


async def test_login_refuses_a_wrong_password_then_signs_in(
    chromium: Browser, gateway: str, store: Store
) -> None:
    await add_agent(store, "ana")
    page = await (await chromium.new_context()).new_page()
    await page.goto(f"{gateway}/inbox/login")
    await page.fill("#name", "ana")
    await page.fill("#password", "not my password")
    await page.click("#sign-in")
    await expect(page.locator("#message")).to_have_text("Wrong name or password.")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await expect(page.locator("#me")).to_have_text("ana (agent)")
    await page.click("text=Log out")
    await expect(page).to_have_url(re.compile(r"/inbox/login$"))
    await page.goto(f"{gateway}/inbox")
    await expect(page).to_have_url(re.compile(r"/inbox/login$"))


async def test_a_new_handoff_appears_live_with_an_unread_count(
    agent_page: Login, gateway: str
) -> None:
    page = await agent_page("ana")
    await expect(page.locator("#queue-empty")).to_be_visible()
    await chat(gateway, "live-1", "mau beli token")
    replies = await chat(gateway, "live-1", "mau ngomong sama CS aja")
    assert any("antrean nomor 1" in r for r in replies)
    card = page.locator('#queue .card[data-id="webchat:live-1"]')
    await expect(card).to_be_visible(timeout=10_000)
    await expect(card.locator(".reason")).to_have_text("asked for a person")
    await expect(card.locator(".badge")).to_have_text("2")
    await expect(page).to_have_title("(2) Loket inbox")
    await card.locator("button").click()
    await expect(page.locator("#transcript .role-system").last).to_contain_text(
        "Handed over: the customer asked for a person"
    )
    await expect(page.locator("#transcript .role-bot .intent").first).to_contain_text("buy_token")
    await expect(page).to_have_title("Loket inbox")
    # The brief's facts as the API labels them (handoff/summary.py), none kept in the page.
    facts = page.locator("#sum-facts")
    await expect(facts.locator("dt").first).to_have_text("Wanted")
    await expect(facts.locator("dd").first).to_contain_text("buy_token")


async def test_two_agents_racing_to_claim_one_wins_the_other_is_told(
    agent_page: Login, store: Store
) -> None:
    ana, budi = await agent_page("ana"), await agent_page("budi")
    key = await open_handoff(store, "race")
    for page in (ana, budi):
        card = page.locator(f'#queue .card[data-id="{key.id}"] button')
        await card.click(timeout=10_000)
        await expect(page.locator("#claim")).to_be_visible()
    await asyncio.gather(ana.click("#claim"), budi.click("#claim"))
    for page in (ana, budi):
        await expect(page.locator("#conv-state")).to_contain_text("assigned to")
    winner = (await Conversations(store).state(key)).assignee
    assert winner in ("ana", "budi")
    won, lost = (ana, budi) if winner == "ana" else (budi, ana)
    await expect(lost.locator("#toast")).to_have_text(f"already claimed by {winner}")
    await expect(won.locator("#conv-state")).to_have_text("assigned to you")
    await expect(lost.locator("#conv-state")).to_have_text(f"assigned to {winner}")
    await expect(won.locator(f'#mine .card[data-id="{key.id}"]')).to_be_visible()
    await expect(lost.locator("#reply-form")).to_be_hidden()


async def test_reply_reaches_the_web_chat_and_hand_back_resumes_the_bot(
    agent_page: Login, chromium: Browser, gateway: str, store: Store
) -> None:
    agent = await agent_page("ana")
    customer = await (await chromium.new_context()).new_page()
    await customer.goto(f"{gateway}/chat")
    await customer.fill("#text", "mau ngomong sama CS aja")
    await customer.click("#send")
    await expect(customer.locator(".msg.bot").last).to_contain_text("antrean", timeout=20_000)
    chat_id = await customer.evaluate("localStorage.getItem('loket.chat_id')")
    key = ConversationKey("webchat", chat_id)

    await agent.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await agent.click("#claim")
    await expect(agent.locator("#reply-form")).to_be_visible()
    await agent.select_option("#canned", label="Greeting (id)")
    await expect(agent.locator("#reply-text")).to_have_value(re.compile("^Halo, saya petugas"))
    await agent.fill("#reply-text", "Halo, saya Ana. Ada yang bisa dibantu?")
    await agent.click("#send")
    await expect(agent.locator("#transcript .role-agent .delivery-state").last).to_have_text("sent")
    await expect(customer.locator(".msg.agent").last).to_contain_text(
        "Halo, saya Ana. Ada yang bisa dibantu?", timeout=10_000
    )

    await agent.fill("#note-text", "customer sounds in a hurry")
    await agent.click("#add-note")
    await expect(agent.locator("#transcript .role-note").last).to_contain_text("in a hurry")

    await agent.click("#hand-back")
    await expect(agent.locator("#conv-state")).to_have_text("bot")
    bot_lines = await customer.locator(".msg.bot").count()
    await customer.fill("#text", "cek tagihan 532100556677")
    await customer.click("#send")
    await expect(customer.locator(".msg.bot").nth(bot_lines)).to_be_visible(timeout=20_000)
    await expect(customer.locator(".msg.bot").last).not_to_contain_text("antrean")
    entries = await Transcript(store).read(key)
    back = next(i for i, e in enumerate(entries) if e.text == "Handed back to the bot by ana")
    assert [e.role for e in entries[back + 1 : back + 3]] == [Role.CUSTOMER, Role.BOT]
    assert "in a hurry" not in await customer.locator("#log").inner_text()


async def test_customer_markup_is_shown_as_text_never_run(agent_page: Login, store: Store) -> None:
    page = await agent_page("ana")
    key = await open_handoff(store, "xss", texts=(XSS, f"petugas {XSS}"))
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    first = page.locator("#transcript .role-customer .text").first
    await expect(first).to_have_text(XSS)
    assert await page.locator("#transcript img").count() == 0
    assert await page.locator("script").count() == 1  # inbox.js only
    await page.click("#claim")
    await page.fill("#reply-text", XSS)
    await page.click("#send")
    await expect(page.locator("#transcript .role-agent .text").last).to_have_text(XSS)
    assert page.dialogs == []  # type: ignore[attr-defined]
