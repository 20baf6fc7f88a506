"""Working fast: keyboard shortcuts, canned replies chosen by typing "/" with the contact's
values filled in, "typing…" shown on Telegram, round-robin assignment, the SLA clock."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from bot.core.messages import ConversationKey
from handoff import keys
from handoff.conversations import Conversations
from handoff.store import Store, now_ms
from tests.browser.conftest import NEEDS_BROWSER, Login, Serve, chat, telegram_settings
from tests.support.inbox import open_handoff
from tests.support.telegram_api import FakeTelegram
from tests.support.waiting import eventually

pytestmark = NEEDS_BROWSER


async def test_the_keyboard_takes_the_next_customer_and_answers_with_a_canned_reply(
    agent_page: Login, store: Store
) -> None:
    page = await agent_page("ana")
    first = await open_handoff(store, "kb-1")
    await open_handoff(store, "kb-2")
    await Conversations(store).remember(first, "{}", "id", {"meter_number": "53210055667"})
    await expect(page.locator("#queue .card")).to_have_count(2)
    await page.keyboard.press("n")  # the next waiting conversation: the oldest
    await expect(page.locator("#conv-title")).to_contain_text("kb-1")
    await expect(page.locator("#contact-refs .ref-meter")).to_have_text("53210055667")
    await page.keyboard.press("c")
    await expect(page.locator("#conv-state")).to_have_text("ditangani Anda")
    await page.keyboard.press("r")
    await expect(page.locator("#reply-text")).to_be_focused()
    await page.keyboard.type("Sebentar ya. /meter-con")
    popup = page.locator("#slash")
    await expect(popup).to_be_visible()
    await expect(popup.locator(".slash-option").first).to_contain_text(
        "Apakah nomor meter Anda 53210055667?"
    )
    await page.keyboard.press("Enter")
    await expect(page.locator("#reply-text")).to_have_value(
        "Sebentar ya. Apakah nomor meter Anda 53210055667?"
    )
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#transcript .role-agent .text").last).to_have_text(
        "Sebentar ya. Apakah nomor meter Anda 53210055667?"
    )
    await page.keyboard.press("Escape")
    await page.keyboard.press("p")
    await expect(page.locator("#note-text")).to_be_focused()
    await page.keyboard.type("pelanggan lama, sabar")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#transcript .role-note .text").last).to_have_text(
        "pelanggan lama, sabar"
    )
    await page.keyboard.press("Escape")
    await page.keyboard.press("k")  # the card above in the lists: kb-2, still waiting
    await expect(page.locator("#conv-title")).to_contain_text("kb-2")
    await page.keyboard.press("j")
    await expect(page.locator("#conv-title")).to_contain_text("kb-1")
    await page.keyboard.press("?")
    await expect(page.locator("#shortcuts")).to_be_visible()
    await expect(page.locator("#shortcut-list")).to_contain_text("Ambil percakapan yang terbuka")


async def test_a_variable_the_contact_lacks_must_be_filled_before_sending(
    agent_page: Login, store: Store
) -> None:
    page = await agent_page("ana")
    key = await open_handoff(store, "var-1")
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await page.click("#claim")
    await page.click("#canned-open")  # the same list, for a mouse or a phone
    await page.keyboard.type("tiket")
    await page.keyboard.press("Enter")
    await expect(page.locator("#reply-text")).to_have_value(
        "Laporan Anda dengan nomor tiket {ticket} sedang kami tindak lanjuti, {name}."
    )
    await page.click("#send")
    await expect(page.locator("#toast")).to_contain_text("Lengkapi {ticket}, {name}")
    assert await page.locator("#transcript .role-agent").count() == 0


async def test_typing_in_the_reply_box_shows_typing_on_telegram(
    agent_page: Login, serve: Serve, bot_api: FakeTelegram, store: Store
) -> None:
    base = await serve(**telegram_settings(bot_api))
    key = await open_handoff(store, "777005", channel="telegram")
    page = await agent_page("ana", base=base)
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await page.click("#claim")
    await expect(page.locator("#reply-form")).to_be_visible()
    await page.locator("#reply-text").press_sequentially("Halo, saya cek dulu", delay=30)
    await eventually(lambda: bool(bot_api.calls_to("sendChatAction")))
    await asyncio.sleep(1)  # more typing within the next seconds sends nothing more
    assert bot_api.calls_to("sendChatAction") == [{"chat_id": "777005", "action": "typing"}]


async def test_round_robin_gives_a_new_handoff_to_an_agent_online(
    agent_page: Login, serve: Serve, store: Store
) -> None:
    base = await serve(auto_assign="round-robin")
    page = await agent_page("ana", base=base, permissions=["notifications"])
    await page.click("#settings summary")
    await expect(page.locator("#auto-assign")).to_be_checked()
    await page.click("#settings summary")
    await chat(base, "rr-1", "mau beli token")
    replies = await chat(base, "rr-1", "mau ngomong sama CS aja")
    assert any("segera membalas di chat ini" in r for r in replies), replies
    key = ConversationKey("webchat", "rr-1")
    await expect(page.locator(f'#mine .card[data-id="{key.id}"]')).to_be_visible(timeout=10_000)

    async def told() -> bool:
        titles = await page.evaluate("window.__notes.map(n => n.title)")
        return "Percakapan untuk Anda" in titles

    await eventually(told)
    await page.locator(f'#mine .card[data-id="{key.id}"] button').click()
    await expect(page.locator("#transcript .role-system .text").last).to_have_text(
        "Diberikan ke ana (bergiliran)"
    )


async def test_the_sla_clock_turns_red_once_a_customer_waited_too_long(
    agent_page: Login, serve: Serve, store: Store
) -> None:
    base = await serve(sla_minutes=2)
    late = await open_handoff(store, "sla-late")
    await store.redis.hset(keys.conversation(late.id), "handoff_at", now_ms() - 5 * 60_000)
    fresh = await open_handoff(store, "sla-fresh")
    page = await agent_page("ana", base=base)
    clock = page.locator(f'#queue .card[data-id="{late.id}"] .sla')
    await expect(clock).to_have_text("SLA lewat 3 mnt")
    await expect(clock).to_have_class("sla late")
    ticking = page.locator(f'#queue .card[data-id="{fresh.id}"] .sla')
    await expect(ticking).to_contain_text("SLA sisa 01:")
