"""The inbox on a phone, 390 px wide: one column at a time, nothing wider than the screen, and the
whole job doable — open, claim, reply, read the customer's panel, go back."""

from __future__ import annotations

from playwright.async_api import Page, expect

from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, Login
from tests.support.inbox import open_handoff

pytestmark = NEEDS_BROWSER
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 3}  # fmt: skip


async def fits(page: Page) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide"


async def test_the_whole_job_on_a_phone(agent_page: Login, store: Store) -> None:
    page = await agent_page("ana", **PHONE)
    key = await open_handoff(store, "phone-1", texts=("token belum masuk " * 20, "petugas"))
    card = page.locator(f'#queue .card[data-id="{key.id}"]')
    await expect(card).to_be_visible(timeout=10_000)
    await fits(page)
    await expect(page.locator("#conversation")).to_be_hidden()
    await card.locator("button").tap()
    await expect(page.locator("#transcript")).to_be_visible()
    await expect(page.locator(".lists")).to_be_hidden()
    await fits(page)
    await page.locator("#claim").tap()
    await expect(page.locator("#conv-state")).to_have_text("ditangani Anda")
    await page.locator("#reply-text").fill("Halo, saya bantu cek ya")
    await page.locator("#send").tap()
    await expect(page.locator("#transcript .role-agent .text").last).to_have_text(
        "Halo, saya bantu cek ya"
    )
    await fits(page)
    await page.locator("#info").tap()  # the customer and the bot's brief, instead of the chat
    await expect(page.locator("#contact")).to_be_visible()
    await expect(page.locator("#transcript")).to_be_hidden()
    await fits(page)
    await page.locator("#info").tap()
    await expect(page.locator("#transcript")).to_be_visible()
    await page.locator("#back").tap()
    await expect(page.locator(f'#mine .card[data-id="{key.id}"]')).to_be_visible()
    await expect(page.locator("#conversation")).to_be_hidden()
    await page.locator("#settings summary").tap()
    await expect(page.locator(".menu-body")).to_be_in_viewport()
    await fits(page)
