"""The trainers' review in a real browser: an agent says what a customer meant, a trainer marks
an entity and labels a message (one line in a copy of nlu_data/), is refused a duplicate with
where it stands, dismisses, and follows a message back to its conversation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from handoff import Entry, Role, Transcript
from handoff.handoffs import Handoffs
from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, Login, Serve
from tests.support.inbox import make_summary
from tests.support.nlu import copy_nlu_data, diff

pytestmark = NEEDS_BROWSER
FLICKER = "lampu di rumah Bogor kedip kedip terus"


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """The production app without starting Rasa: reviewing and labelling never ask the bot
    (the transcripts are written as the router writes them)."""
    nowhere = "http://127.0.0.1:9"
    return Settings(redis_url=redis_url, data_dir=tmp_path / "var", rasa_urls=(nowhere,),
                    actions_url=nowhere, provider_url=nowhere, rasa_token="t")  # fmt: skip


async def misunderstood(store: Store) -> ConversationKey:
    """Siti's conversation as the router writes it: twice not understood, then handed over."""
    key = ConversationKey("webchat", "siti")
    transcript = Transcript(store)
    guesses = [["report_outage", 0.34], ["inform", 0.21]]
    await transcript.append(key, [Entry(Role.CUSTOMER, FLICKER)])
    await transcript.append(key, [Entry(Role.BOT, "Maaf, maksudnya?", intent="nlu_fallback",
                                        confidence=0.34, meta={"guesses": guesses})])  # fmt: skip
    await transcript.append(key, [Entry(Role.CUSTOMER, "kedip2 mulu")])
    await Handoffs(store).request(
        key, reason="not_understood", detail="", language="id", summary=make_summary(),
        note="Handed over: the bot did not understand twice in a row",
    )  # fmt: skip
    await transcript.append(key, [Entry(Role.BOT, "Saya sambungkan ke petugas",
                                        intent="nlu_fallback", confidence=0.2,
                                        meta={"handoff": "not_understood"})])  # fmt: skip
    return key


async def test_label_from_the_inbox_to_one_line_in_nlu_data(
    agent_page: Login, serve: Serve, store: Store, tmp_path: Path
) -> None:
    folder = copy_nlu_data(tmp_path)
    base = await serve(nlu_data_dir=folder)
    key = await misunderstood(store)

    # An agent handling the handoff says what the customer meant.
    ana = await agent_page("ana", base=base)
    await expect(ana.locator("#review-link")).to_be_hidden()
    await ana.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    line = ana.locator("#transcript .role-customer", has_text="kedip2 mulu")
    await line.locator(".meant-open").click()
    await line.locator(".meant-intent").select_option("report_outage")
    await line.get_by_role("button", name="Simpan untuk pelatih").click()
    await expect(line.locator(".meant-done")).to_have_text("Dicatat untuk pelatih: report_outage")

    # The trainer reviews both messages.
    rina = await agent_page("rina", "trainer", base=base)
    await rina.locator("#review-link").click()
    await expect(rina).to_have_url(re.compile(r"/inbox/review$"))
    await expect(rina.locator("body[data-ready=yes]")).to_be_attached(timeout=10_000)
    await expect(rina.locator("#review-summary")).to_have_text("2 kelompok, 2 pesan")
    flicker = rina.locator(".review-group", has_text=FLICKER)
    await expect(flicker).to_contain_text("report_outage 34% · inform 21%")
    await expect(flicker).to_contain_text("bot ragu")  # the bot's guess was nlu_fallback
    await expect(flicker).to_contain_text("web chat")
    meant = rina.locator(".review-group", has_text="kedip2 mulu")
    await expect(meant).to_contain_text("report_outage (ana)")
    await expect(meant).to_contain_text("bot tidak paham")  # the handoff it led to
    await expect(meant.locator(".review-intent")).to_have_value("report_outage")

    # Mark "Bogor" as the area, then label.
    example = flicker.locator(".review-example")
    start = FLICKER.index("Bogor")
    await example.evaluate(
        "(input, [a, b]) => { input.focus(); input.setSelectionRange(a, b); }",
        [start, start + len("Bogor")],
    )
    await flicker.locator(".review-entity").select_option("area")
    await flicker.locator(".review-mark").click()
    await expect(example).to_have_value("lampu di rumah [Bogor](area) kedip kedip terus")
    await expect(flicker.locator(".review-intent")).to_have_value("report_outage")
    await flicker.locator(".review-save").click()
    await expect(flicker.locator(".review-result")).to_have_text(
        re.compile(r"Ditulis sebagai report_outage ke nlu_data/complaint\.yml:\d+\.")
    )
    assert diff(folder) == ["+      - lampu di rumah [Bogor](area) kedip kedip terus"]

    # A duplicate is refused with where the example stands; nothing more is written.
    await meant.locator(".review-example").fill("listrik padam")
    await meant.locator(".review-save").click()
    await expect(meant.locator(".review-result")).to_have_text(
        re.compile(r"Sudah menjadi contoh report_outage \(nlu_data/complaint\.yml:\d+\): "
                   r"listrik padam")
    )  # fmt: skip
    await meant.locator(".review-dismiss").click()
    await expect(meant.locator(".review-result")).to_have_text("Diabaikan.")
    assert len(diff(folder)) == 1

    # Only what is still to be reviewed is listed; each message leads to its conversation.
    await rina.reload()
    await expect(rina.locator("#review-summary")).to_have_text("0 kelompok, 0 pesan")
    await rina.locator("#r-status").select_option("labelled")
    await rina.get_by_role("button", name="Tampilkan").click()
    done = rina.locator(".review-group", has_text=FLICKER)
    await expect(done).to_contain_text("report_outage (nlu_data/complaint.yml:")
    await done.locator(".review-items a").first.click()
    await expect(rina).to_have_url(re.compile(r"/inbox#conversation=webchat:siti$"))
    await expect(rina.locator("#transcript")).to_contain_text(FLICKER, timeout=10_000)
