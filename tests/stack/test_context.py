"""Conversations, not single messages: context kept between turns, no fixed dead-end sentence,
common questions answered, regional words understood (web chat, Rasa, actions, sandbox)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections import Counter

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.conversations import DATASET, dead_end_texts, read_scripts
from bot.app import create_app
from bot.core.messages import ConversationKey
from bot.core.settings import PROJECT_ROOT, Settings
from handoff.handoffs import Handoffs
from handoff.store import Store
from tests.support.chat import HENDRA_ID, SITI, Customer

TICKET = re.compile(r"TKT\d{6}")
FIXED = dead_end_texts(PROJECT_ROOT / "bot" / "domain.yml")


@pytest.fixture
def customer(client: TestClient, request: pytest.FixtureRequest) -> Customer:
    return Customer(client, re.sub(r"\W", "", request.node.name)[:60])


async def handoff_reason(settings: Settings, customer: Customer) -> str | None:
    store = Store.from_url(settings.redis_url or "")
    try:
        handoff = await Handoffs(store).get(ConversationKey("webchat", customer.chat_id))
    finally:
        await store.close()
    return handoff.reason if handoff else None


async def test_a_bare_customer_id_offers_what_to_do_and_is_kept(customer: Customer) -> None:
    reply = await customer.say(HENDRA_ID)
    assert HENDRA_ID in reply and reply not in FIXED
    assert {"Cek tagihan", "Beli token", "Lapor gangguan"} <= set(customer.buttons)
    # The customer types the request instead of pressing: the id is not asked for again.
    reply = await customer.say("berapa tagihan bulan ini")
    assert "Rp287.450" in reply, reply


async def test_a_bare_meter_number_then_a_button_goes_straight_to_the_amount(
    customer: Customer,
) -> None:
    await customer.say(SITI)
    reply = await customer.press("Beli token")
    assert "SITI R*****" in reply and "berapa" in reply.lower(), reply
    assert "Nomor meter (11 digit" not in reply


async def test_a_bare_amount_offers_a_token_of_that_amount(customer: Customer) -> None:
    reply = await customer.say("100rb")
    assert "Rp100.000" in reply and "Beli token Rp100.000" in customer.buttons
    await customer.press("Beli token Rp100.000")
    reply = await customer.say(SITI)
    assert "Mohon konfirmasi: token Rp100.000" in reply, reply


async def test_a_bare_place_says_the_outage_there_and_reports_it_without_asking_where(
    customer: Customer,
) -> None:
    reply = await customer.say("cimahi")
    assert "Cimahi" in reply and "pulih" in reply and reply not in FIXED, reply
    assert {"Lapor gangguan", "Cek laporan"} <= set(customer.buttons)
    reply = await customer.press("Lapor gangguan")
    assert "Ceritakan singkat masalahnya" in reply and "Lokasinya di mana" not in reply, reply


async def test_a_report_after_a_bare_meter_number_names_the_outage_known_there(
    customer: Customer,
) -> None:
    await customer.say("56012345678")  # registered at Cimahi, where an outage is known
    reply = await customer.say("listrik mati")
    assert "Cimahi" in reply and "Ceritakan singkat masalahnya" in reply, reply


async def test_asking_whether_there_is_an_outage_files_no_report(customer: Customer) -> None:
    reply = await customer.say("ada gangguan ga di sukajadi?")
    assert "Sukajadi" in reply and "pulih" in reply and not TICKET.search(reply), reply
    assert "Lapor gangguan" in customer.buttons


async def test_a_missing_transaction_number_keeps_the_check_and_asks_for_the_meter(
    customer: Customer,
) -> None:
    await customer.say("sudah transfer tapi token belum masuk")
    reply = await customer.say("aduh nomor transaksinya saya ga inget")
    assert "nomor meter" in reply and "dibatalkan" not in reply, reply
    reply = await customer.say(SITI)
    assert SITI in reply, reply  # the check went on with the meter number


async def test_an_outage_reported_twice_is_filed_once(customer: Customer) -> None:
    # A reply names its ticket more than once: count the tickets, not the mentions.
    first = set(TICKET.findall(await customer.say("listrik mati di coblong dari subuh")))
    assert len(first) == 1, customer.text
    reply = await customer.say("listrik di coblong masih mati total")
    assert set(TICKET.findall(reply)) == first and "kedua" in reply, reply


async def test_a_follow_up_to_a_known_outage_is_answered_from_it(customer: Customer) -> None:
    first = set(TICKET.findall(await customer.say("listrik mati di sukajadi sejak pagi")))
    assert len(first) == 1, customer.text
    reply = await customer.say("terus listriknya nyala lagi jam berapa?")
    assert "pulih" in reply, reply  # the outage's estimate
    assert set(TICKET.findall(reply)) <= set(first)


async def test_a_detail_after_a_report_is_taken_with_it(
    customer: Customer, settings: Settings
) -> None:
    first = set(TICKET.findall(await customer.say("listrik mati di sukajadi")))
    assert len(first) == 1, customer.text
    reply = await customer.say("dari jam 8 pagi")
    assert "keterangannya" in reply and set(TICKET.findall(reply)) == first, reply
    assert await handoff_reason(settings, customer) is None


async def test_a_regional_amount_is_not_asked_for_again(customer: Customer) -> None:
    await customer.say("mau beli token listrik 50 ewu")
    reply = await customer.say(SITI)
    assert "Mohon konfirmasi: token Rp50.000" in reply, reply


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("nomor meternya tuh ada di sebelah mana ya", "struk"),
        ("how do I see how many kWh are left", "display"),
        ("token yg dibeli ga mau masuk ke meteran, ditolak", "20 angka"),
        ("bisa bayar pakai dana atau shopeepay ga", "e-wallet"),
    ],
)
async def test_common_questions_are_answered(
    customer: Customer, question: str, answer: str
) -> None:
    assert answer in await customer.say(question)


async def test_a_question_inside_a_form_is_answered_and_the_form_goes_on(
    customer: Customer,
) -> None:
    await customer.say("beli token listrik")
    reply = await customer.say("nomor meter itu liatnya dimana kak?")
    assert "struk" in reply, reply
    reply = await customer.say(SITI)
    assert "SITI R*****" in reply, reply


async def test_cannot_help_names_what_it_understood_and_counts_toward_the_handoff(
    customer: Customer, settings: Settings
) -> None:
    reply = await customer.say("iya")  # a yes, with nothing asked
    assert reply not in FIXED and "jawaban ya" in reply and customer.buttons, reply
    assert await handoff_reason(settings, customer) is None
    await customer.say("oke")
    assert await handoff_reason(settings, customer) == "not_understood"


async def test_no_bot_text_is_sent_more_than_twice_to_one_conversation(
    settings: Settings,
) -> None:
    """Every conversation of the benchmark, as customers type them, up to a handoff: no
    sentence of the bot reaches one conversation a third time (none of them asks for
    anything twice)."""
    scripts = read_scripts(DATASET)
    gate = asyncio.Semaphore(4)
    store = Store.from_url(settings.redis_url or "")
    handoffs = Handoffs(store)

    async def play(n: int, turns: tuple[str, ...]) -> Counter[str]:
        customer = Customer(client, f"repeat{n}")
        sent: Counter[str] = Counter()
        async with gate:
            for text in turns:
                await customer.say(text)
                sent.update(r["text"] for r in customer.replies)
                if await handoffs.get(ConversationKey("webchat", customer.chat_id)):
                    break
        return sent

    # All of them come from this one address: lift the web chat's per-address limits.
    roomy = dataclasses.replace(settings, webchat_new_per_hour=len(scripts) + 10,
                                webchat_address_per_minute=100_000)  # fmt: skip
    app = create_app(roomy)
    async with TestClient(TestServer(app)) as client:
        try:
            results = await asyncio.gather(*(play(n, s.turns) for n, s in enumerate(scripts)))
        finally:
            await store.close()
    thrice = {
        s.id: [t for t, k in sent.items() if k > 2]
        for s, sent in zip(scripts, results, strict=True)
    }
    assert not {cid: texts for cid, texts in thrice.items() if texts}
