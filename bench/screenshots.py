"""Screenshots of the agents' inbox for docs/inbox.md, taken from a real gateway and browser.

    .venv/bin/python -m bench.screenshots [--out docs/screenshots] [--chromium /usr/bin/chromium]

Not a benchmark: the docs' picture taker, kept here with the other scripts one runs by hand
(its --help and a real run are in the test suite). It starts its own Redis and a gateway on
free ports (no Rasa: every conversation is seeded straight into Redis through Loket's own
services, as the router would have written it), a stand-in for the WhatsApp Cloud API, and
Debian's Chromium through Playwright, signs in as an agent and saves PNGs of the main screens,
desktop (1366 x 800) and phone (390 x 844), in Indonesian and one in English.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from aiohttp import web

from bot.app import create_app
from bot.core.channel import DeliveryState
from bot.core.messages import ConversationKey, IntentScore
from bot.core.settings import PROJECT_ROOT, Settings
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.processes import free_port
from handoff import Entry, Role, Transcript
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.inbox.accounts import Accounts, AgentRole
from handoff.outbox import Delivery, Outbox
from handoff.store import Store
from handoff.summary import Summary

PASSWORD = "screenshots-only"
PHONE_NUMBER_ID = "106540352242922"
MINUTE = 60_000
SHOTS = (
    "inbox-conversation", "inbox-canned", "inbox-search", "inbox-template",
    "inbox-phone-list", "inbox-phone-conversation", "inbox-english", "inbox-login",
    "inbox-review",
)  # fmt: skip


class Clock:
    """The time Loket's services write while seeding: moved by hand, so the pictures show a
    queue that has been waiting for a while."""

    def __init__(self) -> None:
        self.now = int(time.time() * 1000)

    def __call__(self) -> int:
        return self.now

    @contextlib.contextmanager
    def at(self, minutes_ago: float) -> Iterator[None]:
        real, self.now = self.now, int(time.time() * 1000 - minutes_ago * MINUTE)
        modules = ("transcript", "handoffs", "outbox", "conversations")
        with contextlib.ExitStack() as stack:
            for name in modules:
                stack.enter_context(mock.patch(f"handoff.{name}.now_ms", self))
            yield
        self.now = real


async def seed(store: Store) -> dict[str, ConversationKey]:
    """Conversations as customers, the bot and agents would have left them."""
    transcript, handoffs, outbox = Transcript(store), Handoffs(store), Outbox(store)
    conversations, clock = Conversations(store), Clock()
    accounts = Accounts(store)
    for name, role in (("ana", AgentRole.AGENT), ("budi", AgentRole.ADMIN),
                       ("citra", AgentRole.AGENT), ("rina", AgentRole.TRAINER)):  # fmt: skip
        await accounts.add(name, role, PASSWORD)

    async def said(key: ConversationKey, minutes_ago: float, role: Role, text: str,
                   name: str = "", **kw: Any) -> str:  # fmt: skip
        with clock.at(minutes_ago):
            if role is Role.AGENT:  # with its delivery state (marked read below)
                return (await outbox.post(key, [Entry(role, text, **kw)]))[0]
            return (await transcript.append(key, [Entry(role, text, **kw)], name=name))[0]

    async def handover(key: ConversationKey, minutes_ago: float, reason: str, summary: Summary,
                       slots: dict[str, str]) -> None:  # fmt: skip
        with clock.at(minutes_ago):
            await conversations.remember(key, "{}", "id", slots)
            await handoffs.request(key, reason=reason, detail="", language="id",
                                   summary=summary, note=f"Handed over: {reason}")  # fmt: skip

    async def closed(key: ConversationKey, minutes_ago: float, agent: str, resolution: str) -> None:
        with clock.at(minutes_ago):
            await handoffs.claim(key, agent)
            await handoffs.close(key, agent, resolution)

    budi = ConversationKey("whatsapp", "6281234567890")
    budi_tg = ConversationKey("telegram", "777001")
    meter = {"meter_number": "53210055667", "customer_name": "BUDI SANTOSO"}
    token = Summary(
        wanted=(IntentScore("check_transaction", 0.93),),
        collected={"meter_number": "53210055667", "transaction_ref": "TRXAB12CD34"},
        last_action="action_check_transaction",
        failed_turns=0,
        customer_messages=3,
    )
    # Two earlier reports this week, one of them on Telegram.
    await said(budi_tg, 4 * 24 * 60, Role.CUSTOMER, "token saya ga masuk2 dari tadi", "Budi S")
    await handover(budi_tg, 4 * 24 * 60 - 1, "asked_for_human", token, meter)
    await closed(budi_tg, 4 * 24 * 60 - 20, "citra", "solved: token dikirim ulang")
    await said(budi, 2 * 24 * 60, Role.CUSTOMER, "Token belum masuk lagi", "Budi Santoso")
    await handover(budi, 2 * 24 * 60 - 1, "frustrated", token, meter)
    await closed(budi, 2 * 24 * 60 - 30, "ana", "solved: gangguan server penyedia")
    # Today: the third time.
    await said(budi, 9, Role.CUSTOMER, "Selamat siang, saya sudah bayar token 50rb tapi token "
               "belum masuk juga 😞", "Budi Santoso")  # fmt: skip
    await said(budi, 8.9, Role.BOT, "Transaksi TRXAB12CD34 (token Rp50.000 untuk meter "
               "53210055667) sudah dibayar dan sedang diproses.", intent="check_transaction",
               confidence=0.93)  # fmt: skip
    await said(budi, 6, Role.CUSTOMER, "Ini sudah ketiga kalinya minggu ini. Saya mau bicara "
               "dengan petugas.")  # fmt: skip
    await handover(budi, 5.5, "asked_for_human", token, {**meter, "transaction_ref": "TRXAB12CD34"})
    await said(
        budi,
        5.4,
        Role.BOT,
        "Saya sambungkan ke petugas kami; Anda di antrean nomor 1. "
        "Petugas akan membalas di chat ini.",
        intent="request_human",
        confidence=0.97,
    )

    siti = ConversationKey("telegram", "884213")
    await said(
        siti, 16, Role.CUSTOMER, "min meteran saya bunyi tit tit terus gmn ya", "Siti Rahayu"
    )
    await said(siti, 15.9, Role.BOT, "Maaf, saya belum paham. Bisa dijelaskan dengan kata lain?",
               intent="nlu_fallback", confidence=0.31)  # fmt: skip
    await said(siti, 15, Role.CUSTOMER, "meteran bunyi terus, angka di layar 00012")
    await handover(siti, 14.5, "not_understood",
                   Summary(wanted=(), collected={}, last_action="action_rephrase",
                           failed_turns=2, customer_messages=2), {})  # fmt: skip
    web_key = ConversationKey("webchat", "web-5f2c1a")
    await said(web_key, 1.2, Role.CUSTOMER, "mau pasang baru daya 2200 VA berapa biayanya?")
    await handover(web_key, 1, "backend_failure",
                   Summary(wanted=(IntentScore("new_connection", 0.88),), failed_turns=0,
                           customer_messages=1), {})  # fmt: skip

    # Ana's conversation whose 24-hour window closed while the customer went quiet.
    dewi = ConversationKey("whatsapp", "6285711223344")
    await said(dewi, 27 * 60, Role.CUSTOMER, "Laporan gangguan saya TKT000123 sudah ada kabar?",
               "Dewi Lestari")  # fmt: skip
    await handover(dewi, 27 * 60 - 1, "asked_for_human",
                   Summary(wanted=(IntentScore("check_complaint", 0.9),),
                           collected={"ticket_id": "TKT000123"}, failed_turns=0,
                           customer_messages=1), {"ticket_id": "TKT000123"})  # fmt: skip
    with clock.at(27 * 60 - 2):
        await handoffs.claim(dewi, "ana")
    sent = await said(dewi, 27 * 60 - 3, Role.AGENT, "Halo Bu Dewi, saya cek dulu ke tim "
                      "lapangan ya.", meta={"agent": "ana"})  # fmt: skip
    await outbox.mark(dewi, Delivery(sent, DeliveryState.READ, ts=clock()))
    await said(dewi, 25 * 60, Role.NOTE, "Tim lapangan dijadwalkan besok pagi.",
               meta={"agent": "ana"})  # fmt: skip
    # What the bot missed in conversations it kept: the trainers' review.
    misses = (
        ("telegram", "881001", "tagihan pdam bulan ini brp", "out_of_scope", 0.86,
         [["out_of_scope", 0.86], ["check_bill", 0.09]]),
        ("whatsapp", "6281311112222", "Tagihan PDAM bulan ini berapa ya", "out_of_scope", 0.81,
         [["out_of_scope", 0.81], ["check_bill", 0.12]]),
        ("webchat", "web-77aa01", "token sy ga bs dipake, kode salah trs", "nlu_fallback", 0.38,
         [["check_transaction", 0.38], ["report_outage", 0.21]]),
    )  # fmt: skip
    for channel, chat, text, intent, confidence, guesses in misses:
        key = ConversationKey(channel, chat)
        await said(key, 40, Role.CUSTOMER, text)
        await said(key, 39.9, Role.BOT, "Maaf, saya belum paham.", intent=intent,
                   confidence=confidence, meta={"guesses": guesses})  # fmt: skip
    return {"budi": budi, "siti": siti, "web": web_key, "dewi": dewi}


@contextlib.asynccontextmanager
async def cloud_api() -> AsyncIterator[str]:
    """Answers sends and read marks as the Cloud API does (nothing is checked)."""

    async def messages(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("status") == "read":
            return web.json_response({"success": True})
        return web.json_response(
            {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.shot{time.time_ns()}"}]}
        )

    app = web.Application()
    app.router.add_post("/v21.0/{number}/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/v21.0"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def gateway(redis_url: str, api_url: str, data: Path) -> AsyncIterator[str]:
    settings = dataclasses.replace(
        Settings.from_env({}),
        redis_url=redis_url, rasa_urls=("http://127.0.0.1:9",), data_dir=data, port=free_port(),
        whatsapp_token="shots", whatsapp_app_secret="shots", whatsapp_verify_token="shots",
        whatsapp_phone_number_id=PHONE_NUMBER_ID, whatsapp_api_url=api_url,
        whatsapp_templates=Settings.from_env({
            "LOKET_WHATSAPP_TEMPLATES": "loket_lanjutan:id:name+ticket loket_buka_lagi:id"
        }).whatsapp_templates, sla_minutes=10,
    )  # fmt: skip
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", settings.port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        await runner.cleanup()


async def shoot(base: str, keys: dict[str, ConversationKey], out: Path, chromium: str) -> None:
    from playwright.async_api import async_playwright, expect

    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=args)
        # The browser's own zone is not WIB: the page shows times on the service's clock anyway.
        desktop = await browser.new_context(
            viewport={"width": 1366, "height": 800}, timezone_id="Europe/London", locale="id-ID"
        )
        page = await desktop.new_page()
        await page.goto(f"{base}/inbox/login")
        await page.screenshot(path=out / "inbox-login.png")
        await page.fill("#name", "ana")
        await page.fill("#password", PASSWORD)
        await page.click("#sign-in")
        await expect(page.locator("body[data-ready=yes]")).to_be_visible()
        await expect(page.locator("#live.on")).to_be_visible(timeout=10_000)

        async def open_card(key: ConversationKey) -> None:
            await page.locator(f'.card[data-id="{key.id}"] button').first.click()
            await expect(page.locator("#contact-name")).not_to_be_empty()
            await page.wait_for_timeout(300)

        async def snap(name: str, on: Any = None) -> None:
            where = on or page
            await where.evaluate("document.getElementById('toast').hidden = true")
            await where.screenshot(path=out / f"{name}.png")

        await open_card(keys["budi"])
        await snap("inbox-conversation")
        await page.click("#claim")
        await expect(page.locator("#reply-form")).to_be_visible()
        await page.fill("#reply-text", "Halo Pak Budi, mohon maaf atas kendalanya. ")
        await page.type("#reply-text", "/meter")
        await expect(page.locator("#slash")).to_be_visible()
        await snap("inbox-canned")
        await page.keyboard.press("Escape")
        await page.fill("#search-q", "token")
        await page.press("#search-q", "Enter")
        await expect(page.locator("#results .card").first).to_be_visible()
        await page.click("#filters summary")
        await snap("inbox-search")
        await page.click("#search-close")
        await open_card(keys["dewi"])
        await expect(page.locator("#template-row")).to_be_visible()
        await snap("inbox-template")
        await page.click("#settings summary")
        await page.check('input[name="language"][value="en"]')
        await expect(page.locator("#queue-section h2")).to_contain_text("Waiting")
        await page.click("#settings summary")
        await open_card(keys["siti"])
        await snap("inbox-english")
        await page.click("#settings summary")
        await page.check('input[name="language"][value="id"]')
        await expect(page.locator("#queue-section h2")).to_contain_text("Menunggu")

        phone = await browser.new_context(viewport={"width": 390, "height": 844},
                                          device_scale_factor=2, is_mobile=True, has_touch=True,
                                          storage_state=await desktop.storage_state())  # fmt: skip
        small = await phone.new_page()
        await small.goto(f"{base}/inbox")
        await expect(small.locator("#live.on")).to_be_visible(timeout=10_000)
        await snap("inbox-phone-list", small)
        await small.locator(f'#queue .card[data-id="{keys["siti"].id}"] button').click()
        await expect(small.locator("#transcript .entry").first).to_be_visible()
        await snap("inbox-phone-conversation", small)

        trainer = await browser.new_context(
            viewport={"width": 1366, "height": 800}, timezone_id="Europe/London", locale="id-ID"
        )
        review = await trainer.new_page()
        await review.goto(f"{base}/inbox/login")
        await review.fill("#name", "rina")
        await review.fill("#password", PASSWORD)
        await review.click("#sign-in")
        await expect(review.locator("#review-link")).to_be_visible(timeout=10_000)
        await review.click("#review-link")
        await expect(review.locator(".review-group").first).to_be_visible(timeout=10_000)
        await snap("inbox-review", review)
        await browser.close()


async def run(out: Path, chromium: str) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="loket-shots-") as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis").start()
        try:
            store = Store.from_url(redis.url)
            keys = await seed(store)
            await store.close()
            async with cloud_api() as api, gateway(redis.url, api, Path(tmp)) as base:
                await shoot(base, keys, out, chromium)
        finally:
            redis.stop()
    return [out / f"{name}.png" for name in SHOTS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.screenshots",
        description="Save screenshots of the agents' inbox (desktop and phone) for the docs.",
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots",
                        help="folder for the PNGs (default: docs/screenshots)")  # fmt: skip
    parser.add_argument(
        "--chromium",
        default="/usr/bin/chromium",
        help="the Chromium to drive (default: Debian's /usr/bin/chromium)",
    )
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no browser at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    saved = asyncio.run(run(args.out, args.chromium))
    for path in saved:
        print(f"{path.stat().st_size // 1024:>5} KB  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
