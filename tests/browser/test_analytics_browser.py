"""The analytics page in a real browser, on the production app with the Rasa stack: a customer
handed over on the web chat, an admin closing in the inbox, the customer tapping the
satisfaction question, then the page's figures, uPlot charts, tables and CSV links; agents are
kept out (fixtures in conftest.py)."""

from __future__ import annotations

import re

import aiohttp
from playwright.async_api import expect

from handoff import csat, keys
from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, SECRETS, Login, chat

pytestmark = NEEDS_BROWSER


async def _tap(gateway: str, chat_id: str, payload: str, title: str) -> list[str]:
    """The customer presses a button in the web chat (as its page posts it)."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway}/chat/api/messages",
            json={"chat_id": chat_id, "payload": payload, "title": title},
            headers={"X-Loket-Chat-Secret": SECRETS[gateway, chat_id]},
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return [r["text"] for r in (await resp.json())["replies"]]


async def test_close_rate_and_read_the_analytics_page(
    agent_page: Login, gateway: str, store: Store
) -> None:
    await chat(gateway, "happy", "halo")
    await chat(gateway, "rated", "saya mau bicara dengan petugas")
    page = await agent_page("ana", "admin")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The admin answers and closes; the customer is asked and taps 5.
    await page.locator('#queue .card[data-id="webchat:rated"] button').click(timeout=10_000)
    await page.click("#claim")
    await page.fill("#reply-text", "Baik, sudah saya bantu")
    await page.click("#send")
    await expect(page.locator("#transcript .role-agent")).to_have_count(1)
    await page.select_option("#close-resolution", "solved")
    await page.click("#close")
    question = page.locator("#transcript .role-bot").last
    await expect(question).to_contain_text("Seberapa puas Anda?")
    [handoff_id] = await store.redis.hkeys(keys.handoff_history("webchat:rated"))
    thanks = await _tap(gateway, "rated", csat.payload(handoff_id, 5), "5 😀")
    assert thanks == [csat.THANKS["id"]]  # recorded by the gateway, never a turn for Rasa

    # The analytics page, from the inbox's top bar.
    await page.click("#analytics-link")
    await expect(page).to_have_url(re.compile(r"/inbox/analytics(\?.*)?$"))
    await expect(page.locator("body[data-ready=yes]")).to_be_attached(timeout=10_000)
    await expect(page.locator("h1")).to_have_text("Analitik")
    await expect(page.locator("#k-conversations")).to_have_text("2")
    await expect(page.locator("#k-containment")).to_have_text("50 %")
    await expect(page.locator("#k-handoff-rate")).to_have_text("50 %")
    await expect(page.locator("#k-csat")).to_have_text("5 / 5")
    await expect(page.locator("#k-csat-more")).to_have_text("1 dari 1 yang ditanya menjawab")
    for chart in ("daily", "containment", "reasons", "csat"):
        await expect(page.locator(f"#chart-{chart} .uplot canvas")).to_have_count(1)
    await expect(page.locator("#chart-reasons .u-legend")).to_contain_text("minta petugas")
    reasons = page.locator("#t-reasons tbody tr")
    await expect(reasons).to_have_count(1)
    await expect(reasons.locator("td").first).to_have_text("minta petugas")  # label from the API
    await expect(page.locator("#t-resolutions tbody tr td").first).to_have_text("terselesaikan")
    await expect(page.locator("#t-channels tbody tr td").first).to_have_text("web chat")
    href = await page.locator('a.csv[data-table="daily"]').get_attribute("href")
    assert href is not None and href.startswith("/inbox/api/analytics.csv?from=")
    async with page.expect_download() as download:
        await page.click('a.csv[data-table="daily"]')
    saved = await (await download.value).path()
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("day,conversations,contained") and lines[-1].split(",")[1] == "2"
    await page.screenshot(path="/tmp/loket-analytics.png", full_page=True)

    # An empty period: the figures say so; English on the way.
    await page.fill("#from", "2026-01-01")
    await page.fill("#to", "2026-01-03")
    await page.click("#period button[type=submit]")
    await expect(page.locator("#k-conversations")).to_have_text("0")
    await expect(page.locator("#k-containment")).to_have_text("–")
    await expect(page.locator("#t-reasons tbody tr td")).to_have_text(
        "Tidak ada data pada periode ini."
    )
    await expect(page).to_have_url(re.compile(r"from=2026-01-01&to=2026-01-03"))
    assert not [e for e in errors if "Content Security Policy" in e or "uPlot" in e], errors


async def test_agents_do_not_see_the_analytics(agent_page: Login, gateway: str) -> None:
    page = await agent_page("budi")
    await expect(page.locator("#analytics-link")).to_be_hidden()
    await page.goto(f"{gateway}/inbox/analytics")
    await expect(page).to_have_url(re.compile(r"/inbox$"))
    trainer = await agent_page("tia", "trainer")
    await expect(trainer.locator("#analytics-link")).to_be_visible()
