"""The customer across conversations, and finding conversations: the contact panel (name,
numbers, "the third report this week", other conversations) and search with filters."""

from __future__ import annotations

from playwright.async_api import expect

from bot.core.messages import ConversationKey
from handoff import Entry, Role, Transcript
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.store import Store
from handoff.summary import Summary
from tests.browser.conftest import NEEDS_BROWSER, Login
from tests.support.inbox import open_handoff

pytestmark = NEEDS_BROWSER
METER = {"meter_number": "53210055667", "customer_name": "BUDI SANTOSO"}


async def earlier_report(store: Store, key: ConversationKey, text: str, agent: str) -> None:
    await Transcript(store).append(key, [Entry(Role.CUSTOMER, text)], name="Budi")
    await Conversations(store).remember(key, "{}", "id", METER)
    handoffs = Handoffs(store)
    await handoffs.request(key, reason="asked_for_human", detail="", language="id",
                           summary=Summary(), note="Handed over")  # fmt: skip
    await handoffs.claim(key, agent)
    await handoffs.close(key, agent, "solved: token dikirim ulang")


async def test_the_third_report_this_week_shows_with_the_earlier_ones(
    agent_page: Login, store: Store
) -> None:
    page = await agent_page("ana")
    telegram = ConversationKey("telegram", "777001")
    await earlier_report(store, telegram, "token ga masuk", "citra")
    key = await open_handoff(store, "6281234567890", channel="whatsapp",
                             texts=("token belum masuk lagi", "minta petugas"))  # fmt: skip
    await earlier_report(store, key, "token belum masuk", "ana")  # closed once already...
    await Handoffs(store).request(
        key, reason="frustrated", detail="", language="id", summary=Summary(), note="Handed over"
    )  # ...and again now
    await Conversations(store).remember(key, "{}", "id", METER)
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await expect(page.locator("#contact-name")).to_have_text("Budi")
    await expect(page.locator("#contact-id")).to_contain_text("akun: BUDI SANTOSO")
    await expect(page.locator("#contact-recent")).to_have_text("Serah terima ke-3 dalam 7 hari")
    await expect(page.locator("#contact-refs .ref-meter")).to_have_text("53210055667")
    history = page.locator("#contact-handoffs li")
    await expect(history).to_have_count(3)
    await expect(history.nth(2)).to_contain_text("telegram:777001")
    await expect(history.nth(2)).to_contain_text("oleh citra · terselesaikan: token dikirim ulang")
    other = page.locator(f'#contact-others button[data-id="{telegram.id}"]')
    await expect(other).to_contain_text("Budi · Telegram · selesai")
    await other.click()
    await expect(page.locator("#conv-title")).to_have_text("Budi · Telegram")
    await expect(page.locator("#conv-state")).to_have_text("selesai: terselesaikan: token "
                                                            "dikirim ulang")  # fmt: skip


async def test_search_by_words_numbers_and_filters(agent_page: Login, store: Store) -> None:
    page = await agent_page("ana")
    meter = await open_handoff(store, "s-meter", texts=("token belum masuk", "petugas dong"))
    await Conversations(store).remember(meter, "{}", "id", {"meter_number": "14234567890"})
    outage = await open_handoff(store, "s-outage", channel="telegram", reason="not_understood",
                                texts=("listrik padam di Cibiru", "tolong"))  # fmt: skip
    await page.fill("#search-q", "padam cibiru")
    await page.press("#search-q", "Enter")
    results = page.locator("#results .card")
    await expect(results).to_have_count(1)
    await expect(results.first).to_have_attribute("data-id", outage.id)
    await expect(results.first.locator(".snippet")).to_have_text("listrik padam di Cibiru")
    await expect(page.locator("#search-summary")).to_have_text("1 percakapan")
    await expect(page.locator("#queue-section")).to_be_hidden()

    await page.fill("#search-q", "")
    await page.click("#filters summary")
    await page.fill("#f-meter", "142 3456 7890")
    await page.click("#search-apply")
    await expect(results).to_have_count(1)
    await expect(results.first).to_have_attribute("data-id", meter.id)
    await page.fill("#f-meter", "")
    await page.select_option("#f-reason", "not_understood")
    await page.select_option("#f-channel", "telegram")
    await page.click("#search-apply")
    await expect(results).to_have_count(1)
    await expect(results.first).to_have_attribute("data-id", outage.id)
    await page.select_option("#f-status", "closed")
    await page.click("#search-apply")
    await expect(page.locator("#search-summary")).to_have_text("Tidak ditemukan.")
    await page.select_option("#f-status", "waiting")
    await page.click("#search-apply")
    await results.first.locator("button").click()
    await expect(page.locator("#conv-title")).to_contain_text("s-outage")
    # a wrong date is refused by the API with a code the page translates
    await page.evaluate("document.getElementById('f-from').type = 'text'")
    await page.fill("#f-from", "31-12-2026")
    await page.click("#search-apply")
    await expect(page.locator("#search-summary")).to_have_text(
        "from harus tanggal seperti 2026-03-31."
    )
    await page.click("#search-close")
    await expect(page.locator("#queue-section")).to_be_visible()
