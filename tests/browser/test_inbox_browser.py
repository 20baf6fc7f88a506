"""The inbox's core work in a real browser: sign in, a handoff appearing live, claims racing,
replying and handing back, customer markup shown as text (fixtures in conftest.py)."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, expect

from bot.core.messages import ConversationKey
from handoff import Role, Transcript
from handoff.conversations import Conversations
from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, Login, chat
from tests.support.inbox import PASSWORD, add_agent, open_handoff

pytestmark = NEEDS_BROWSER
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


async def test_login_refuses_a_wrong_password_then_signs_in(
    chromium: Browser, gateway: str, store: Store
) -> None:
    await add_agent(store, "ana")
    page = await (await chromium.new_context()).new_page()
    await page.goto(f"{gateway}/inbox/login")
    await page.fill("#name", "ana")
    await page.fill("#password", "not my password")
    await page.click("#sign-in")
    await expect(page.locator("#message")).to_have_text("Nama atau kata sandi salah.")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    await expect(page.locator("#me")).to_have_text("ana (petugas)")
    await page.click("text=Keluar")
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
    await expect(card.locator(".reason")).to_have_text("minta petugas")  # label from the API
    await expect(card.locator(".badge")).to_have_text("2")
    await expect(page).to_have_title("(2) Loket")
    await card.locator("button").click()
    await expect(page.locator("#transcript .role-system").last).to_contain_text(
        "Diserahkan ke petugas: minta petugas"
    )
    await expect(page.locator("#transcript .role-bot .intent").first).to_contain_text("buy_token")
    await expect(page).to_have_title("Loket")
    # The brief's facts by their stable keys (handoff/summary.py), in the agent's language.
    facts = page.locator("#sum-facts")
    await expect(facts.locator("dt").first).to_have_text("Keperluan")
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
        await expect(page.locator("#conv-state")).to_contain_text("ditangani")
    winner = (await Conversations(store).state(key)).assignee
    assert winner in ("ana", "budi")
    won, lost = (ana, budi) if winner == "ana" else (budi, ana)
    # the API's error code, in the agent's language
    await expect(lost.locator("#toast")).to_have_text(f"Sudah diambil oleh {winner}.")
    await expect(won.locator("#conv-state")).to_have_text("ditangani Anda")
    await expect(lost.locator("#conv-state")).to_have_text(f"ditangani {winner}")
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
    await agent.fill("#reply-text", "Halo, saya Ana. Ada yang bisa dibantu?")
    await agent.click("#send")
    await expect(agent.locator("#transcript .role-agent .delivery-state").last).to_have_text(
        "terkirim"
    )
    await expect(customer.locator(".msg.agent").last).to_contain_text(
        "Halo, saya Ana. Ada yang bisa dibantu?", timeout=10_000
    )

    await agent.fill("#note-text", "customer sounds in a hurry")
    await agent.click("#add-note")
    await expect(agent.locator("#transcript .role-note").last).to_contain_text("in a hurry")

    await agent.click("#hand-back")
    await expect(agent.locator("#conv-state")).to_have_text("dengan bot")
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
