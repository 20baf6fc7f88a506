"""Alerts: a desktop notification (and a sound, when chosen) when a conversation joins the queue
or a customer writes in one of mine, the unread count in the tab; with several tabs open, one
alerts and every tab counts."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, RECORDER, chat, open_chat, sign_in
from tests.support.inbox import add_agent, open_handoff
from tests.support.waiting import eventually

pytestmark = NEEDS_BROWSER


async def count(*pages: Page, n: int) -> bool:
    return len(await notes(*pages)) == n


async def notes(*pages: Page) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for page in pages:
        found += await page.evaluate("window.__notes")
    return found


async def test_one_tab_of_several_notifies_and_every_tab_counts(
    chromium: Browser, gateway: str, store: Store
) -> None:
    await add_agent(store, "ana")
    context = await chromium.new_context(permissions=["notifications"])
    await context.add_init_script(RECORDER)
    first = await sign_in(context, gateway, "ana")
    second = await sign_in(context, gateway, "ana")
    await expect(first.locator("#notify-state")).to_have_text("Notifikasi desktop diizinkan.")
    key = await open_handoff(store, "alert-1")
    for page in (first, second):
        await expect(page.locator(f'#queue .card[data-id="{key.id}"]')).to_be_visible()
        await expect(page).to_have_title("(2) Loket")
    await eventually(lambda: count(first, second, n=1))
    [note] = await notes(first, second)
    assert note["title"] == "Pelanggan menunggu"
    assert note["body"] == "webchat · alert-1 masuk antrean."  # no customer text in alerts
    leaders = [await p.evaluate("document.body.dataset.alerts || ''") for p in (first, second)]
    assert sorted(leaders) == ["", "leader"]

    # The tab that alerted closes: the other one takes over.
    alerting = first if leaders[0] == "leader" else second
    other = second if alerting is first else first
    await alerting.close()
    await expect(other.locator("body")).to_have_attribute("data-alerts", "leader")
    await open_handoff(store, "alert-2")
    await eventually(lambda: count(other, n=1))
    assert (await notes(other))[-1]["body"] == "webchat · alert-2 masuk antrean."


async def test_a_customer_writing_in_my_conversation_alerts_me_with_a_sound_if_i_chose_one(
    chromium: Browser, gateway: str, store: Store
) -> None:
    await add_agent(store, "ana")
    context = await chromium.new_context(permissions=["notifications"])
    await context.add_init_script(RECORDER)
    page = await sign_in(context, gateway, "ana")
    await page.click("#settings summary")
    await page.check("#notify-sound")
    await page.click("#settings summary")
    await open_chat(gateway, "mine-1")  # the customer is on the web chat, with its secret
    key = await open_handoff(store, "mine-1")
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await page.click("#claim")
    await expect(page.locator(f'#mine .card[data-id="{key.id}"]')).to_be_visible()
    # the agent moves on to another conversation: the next message is not in front of them
    other = await open_handoff(store, "other-1")
    await page.locator(f'#queue .card[data-id="{other.id}"] button').click(timeout=10_000)
    await expect(page.locator("#conv-title")).to_contain_text("other-1")
    await page.evaluate("window.__notes = []; window.__tones = 0")
    replies = await chat(gateway, "mine-1", "halo, masih ada orang?")
    assert replies == []  # the bot stays silent: a person owns the conversation
    await eventually(lambda: count(page, n=1))
    [note] = await notes(page)
    assert note["title"] == "webchat · mine-1 menulis"
    assert note["body"] == "Pesan baru di percakapan Anda."
    assert await page.evaluate("window.__tones") == 2  # the two-tone chime
    await expect(page).to_have_title("(1) Loket")


async def test_without_permission_nothing_pops_up_and_the_page_says_how_to_allow_it(
    chromium: Browser, gateway: str, store: Store
) -> None:
    await add_agent(store, "ana")
    context = await chromium.new_context()
    await context.add_init_script(RECORDER)
    page = await sign_in(context, gateway, "ana")
    await page.click("#settings summary")
    await expect(page.locator("#notify-state")).to_have_text(
        "Browser ini belum diizinkan menampilkan notifikasi."
    )
    await expect(page.locator("#notify-enable")).to_be_visible()
    await open_handoff(store, "quiet-1")
    await expect(page).to_have_title("(2) Loket")
    assert await notes(page) == []
