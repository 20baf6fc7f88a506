"""The inbox speaks Indonesian unless the agent chooses English, writes every time on the
service's clock (whatever the browser's zone), and says the API's errors in the agent's words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from handoff import Transcript
from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, Login
from tests.support.inbox import open_handoff

pytestmark = NEEDS_BROWSER


async def test_indonesian_by_default_and_english_when_chosen_everywhere(
    agent_page: Login, store: Store, gateway: str
) -> None:
    page = await agent_page("ana", locale="en-US")  # the browser's own language does not decide
    await expect(page.locator("html")).to_have_attribute("lang", "id")
    await expect(page.locator("#queue-section h2")).to_contain_text("Menunggu")
    await expect(page.locator("#search-q")).to_have_attribute("placeholder", "Cari: kata, meter, "
                                                              "tiket, TRX… (/)")  # fmt: skip
    key = await open_handoff(store, "lang-1")
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await expect(page.locator("#claim")).to_have_text("Ambil")
    await expect(page.locator("#conv-state")).to_contain_text("menunggu")

    await page.click("#settings summary")
    await page.check('input[name="language"][value="en"]')
    await expect(page.locator("#queue-section h2")).to_contain_text("Waiting")
    await expect(page.locator("#claim")).to_have_text("Claim")
    await expect(page.locator("#conv-state")).to_contain_text("waiting for")
    await expect(page.locator("#transcript .role-system").last).to_contain_text(
        "Handed over: asked for a person"
    )
    # kept by the server: the next page load and the login page are in English too
    await page.reload()
    await expect(page.locator("#queue-section h2")).to_contain_text("Waiting")
    await page.click("#logout-form button")
    await expect(page.locator("#sign-in")).to_have_text("Sign in")
    await expect(page.locator("html")).to_have_attribute("lang", "en")


async def test_times_are_on_the_service_clock_not_the_browsers(
    agent_page: Login, store: Store
) -> None:
    page = await agent_page("ana", timezone_id="America/New_York")
    key = await open_handoff(store, "zone-1")
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    first = (await Transcript(store).read(key))[0]
    wib = datetime.fromtimestamp(first.ts / 1000, ZoneInfo("Asia/Jakarta"))
    shown = page.locator("#transcript .entry .at").first
    await expect(shown).to_have_text(f"{wib:%H.%M}")  # "20.15": WIB, the Indonesian way
    assert await page.evaluate("new Date().getTimezoneOffset()") in (240, 300)  # New York


async def test_a_refused_action_is_explained_in_the_agents_language(
    agent_page: Login, store: Store
) -> None:
    page = await agent_page("ana")
    key = await open_handoff(store, "refused-1")
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await page.click("#claim")
    await expect(page.locator("#reply-form")).to_be_visible()
    await page.fill("#reply-text", "   \u200b ")  # nothing to read
    await page.evaluate("document.getElementById('reply-text').value = ' \\u200b '")
    await page.evaluate("document.getElementById('send').disabled = false")
    await page.locator("#reply-form").evaluate("f => f.requestSubmit()")
    await expect(page.locator("#toast")).to_have_text("Pesan kosong.")
