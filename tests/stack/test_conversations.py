"""Every request the assistant completes, end to end: web chat, router, Rasa, actions, sandbox."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.core.settings import Settings
from tests.support.chat import BUDI, HENDRA_ID, SITI, TOKEN, Customer


@pytest.fixture
def customer(client: TestClient, request: pytest.FixtureRequest) -> Customer:
    return Customer(client, re.sub(r"\W", "", request.node.name)[:60])


async def pay(settings: Settings, ref: str) -> None:
    """What `loket sandbox pay REF` does: the customer pays at the bank."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{settings.provider_url}/transactions/{ref}/pay") as resp,
    ):
        assert resp.status == 200, await resp.text()


async def test_buy_a_token_start_to_finish(customer: Customer, settings: Settings) -> None:
    assert "nomor meter" in (await customer.say("mau beli token 50rb")).lower()
    reply = await customer.say(BUDI)
    assert "BUDI S******" in reply and "Rp50.000" in reply and "R1/1300 VA" in reply
    assert ("admin" in reply and "total" in reply.lower()) or "=" in reply
    assert re.search(r"sekitar \d+,\d kWh", reply), reply  # the Indonesian decimal comma
    reply = await customer.press("Ya, lanjutkan")
    ref = re.search(r"TRX[0-9A-Z]{8}", reply)
    assert ref, reply
    assert "virtual account" in reply
    # the deadline on the service's clock, the Indonesian way: "23 Nov 2026 20.15 WIB"
    assert re.search(r"sebelum \d{1,2} \w{3} \d{4} \d\d\.\d\d WIB", reply), reply
    assert TOKEN.search(reply) is None  # not paid yet
    waiting = await customer.press("Saya sudah bayar")
    assert "belum dibayar" in waiting or TOKEN.search(waiting)
    await pay(settings, ref.group(0))
    reply = await customer.say(f"sudah bayar, token {ref.group(0)} mana")
    assert TOKEN.search(reply), reply


async def test_amount_offered_as_buttons_and_understood_in_words(customer: Customer) -> None:
    await customer.say("beli token listrik")
    await customer.say(BUDI)
    assert {"20rb", "50rb", "100rb", "200rb", "500rb", "1jt"} <= set(customer.buttons)
    reply = await customer.say("lima puluh ribu")
    assert "Rp50.000" in reply


async def test_english_customer_gets_english(customer: Customer) -> None:
    reply = await customer.say("I want to buy an electricity token")
    assert "meter number" in reply
    reply = await customer.say(BUDI)
    assert "How much" in reply
    reply = await customer.press("100k")
    assert "Please confirm" in reply and "Rp100,000" in reply
    assert re.search(r"about \d+\.\d kWh", reply), reply


async def test_correct_the_meter_number_mid_form(customer: Customer) -> None:
    await customer.say("mau beli token 50rb")
    assert "BUDI S******" in await customer.say(BUDI)
    reply = await customer.say(f"eh salah, nomornya {SITI}")
    assert "SITI R*****" in reply and "BUDI" not in reply


async def test_change_the_amount_at_confirmation(customer: Customer) -> None:
    await customer.say("mau beli token 50rb")
    await customer.say(BUDI)
    reply = await customer.say("eh yang 100rb aja")
    assert "Rp100.000" in reply and "BUDI S******" in reply


async def test_digression_then_back_to_the_form(customer: Customer) -> None:
    question = await customer.say("mau beli token")
    reply = await customer.say("ini bot ya?")
    assert "bot" in reply.lower()
    assert question not in reply  # the question is just above; it is not said twice
    assert "BUDI S******" in await customer.say(BUDI)  # the form goes on where it was


async def test_cancel_mid_form(customer: Customer) -> None:
    await customer.say("mau beli token")
    await customer.say(BUDI)
    assert "tidak dilanjutkan" in await customer.say("batal")
    assert "Halo" in await customer.say("halo")  # no form left asking for an amount


async def test_a_number_of_the_wrong_length_is_explained(customer: Customer) -> None:
    await customer.say("mau beli token")
    assert "11 digit" in await customer.say("12345")
    assert "BUDI S******" in await customer.say(BUDI)


async def test_an_unknown_meter_number_is_explained(customer: Customer) -> None:
    await customer.say("mau beli token")
    assert "tidak terdaftar" in await customer.say("99999999999")
    assert "BUDI S******" in await customer.say(BUDI)


async def test_postpaid_number_cannot_buy_a_token(customer: Customer) -> None:
    await customer.say("mau beli token")
    reply = await customer.say(HENDRA_ID)
    assert "pascabayar" in reply and "Cek tagihan" in customer.buttons


async def test_a_token_bought_elsewhere_shows_only_its_last_digits(customer: Customer) -> None:
    reply = await customer.say("cek transaksi TRXDEMO0001")  # a demo order with no chat
    assert "5821-0934-7716-2048-3395" not in reply and TOKEN.search(reply) is None
    assert "…3395" in reply and "Bicara dengan petugas" in customer.buttons


async def test_the_token_is_shown_in_full_only_to_the_chat_that_bought_it(
    client: TestClient, settings: Settings
) -> None:
    buyer = Customer(client, "token-buyer")
    await buyer.say("mau beli token 50rb")
    await buyer.say(BUDI)
    ref = re.search(r"TRX[0-9A-Z]{8}", await buyer.press("Ya, lanjutkan"))
    assert ref
    await pay(settings, ref.group(0))
    assert TOKEN.search(await buyer.say(f"token {ref.group(0)} mana")), buyer.text
    stranger = Customer(client, "token-stranger")
    reply = await stranger.say(f"token {ref.group(0)} mana")
    assert TOKEN.search(reply) is None and "…" in reply, reply
    reply = await stranger.say(f"udh bayar tp token blm masuk, meter {BUDI}")
    assert TOKEN.search(reply) is None, reply


async def test_one_chat_cannot_look_up_many_different_numbers(customer: Customer) -> None:
    for number in ("14234567891", "14234567892", "14234567893", "14234567894", SITI):
        await customer.say(f"cek tagihan {number}")
    reply = await customer.say(f"cek tagihan {HENDRA_ID}")
    assert "5 nomor berbeda" in reply and "Rp287.450" not in reply


async def test_token_not_received_by_meter_number(customer: Customer) -> None:
    assert "TRX" in await customer.say("udh bayar tp token blm masuk")
    reply = await customer.say(BUDI)
    assert "TRXDEMO0002" in reply


async def test_expired_transaction_is_explained(customer: Customer) -> None:
    reply = await customer.say("status transaksi TRXDEMO0003")
    assert "kedaluwarsa" in reply


async def test_bill_check(customer: Customer) -> None:
    reply = await customer.say(f"cek tagihan {HENDRA_ID}")
    assert "Rp287.450" in reply and "jatuh tempo" in reply


async def test_report_an_outage_gets_a_ticket(customer: Customer) -> None:
    reply = await customer.say("listrik mati dr td pagi")
    assert "lokasi" in reply.lower()
    reply = await customer.say("sukajadi")
    assert "Pemeliharaan" in reply  # the known outage in that area
    assert re.search(r"TKT\d{6}", reply)


@pytest.mark.parametrize(
    "text",
    ["Tolong, listrik mati dari tadi pagi", "Kenapa listrik mati terus ya", "I have no power"],
)
async def test_a_capitalised_first_word_is_not_taken_for_the_place(
    customer: Customer, text: str
) -> None:
    # Phones capitalise the first word; "Tolong" is not where the outage is: the bot asks.
    reply = await customer.say(text)
    assert "lokasi" in reply.lower() or "where" in reply.lower(), reply
    assert not re.search(r"TKT\d{6}", reply)


async def test_a_place_named_in_the_report_is_not_asked_for_again(customer: Customer) -> None:
    reply = await customer.say("Listrik mati di Sukajadi dari tadi pagi")
    assert "Pemeliharaan" in reply, reply  # the known outage in that area
    assert re.search(r"TKT\d{6}", reply)


async def test_check_a_complaint(customer: Customer) -> None:
    reply = await customer.say("gimana laporan saya TKT240117")
    assert "TKT240117" in reply


async def test_a_report_shows_its_text_only_to_the_chat_that_opened_it(
    client: TestClient,
) -> None:
    reporter = Customer(client, "reporter")
    await reporter.say("listrik mati dr td pagi, kabel di depan rumah putus")
    ticket = re.search(r"TKT\d{6}", await reporter.say("sukajadi"))
    assert ticket, reporter.text
    reply = await reporter.say(f"gimana laporan saya {ticket.group(0)}")
    assert "kabel" in reply, reply
    stranger = Customer(client, "stranger")
    reply = await stranger.say(f"gimana laporan saya {ticket.group(0)}")
    assert ticket.group(0) in reply and "kabel" not in reply and "gangguan listrik" in reply


async def test_a_bare_reference_or_ticket_starts_the_matching_check(customer: Customer) -> None:
    # Customers often paste only the number; whichever intent the model gives it (inform or a
    # check), the bot answers about that purchase or report instead of "not understood".
    assert "TRXDEMO0001" in await customer.say("TRXDEMO0001")  # its token ends in …3395
    assert "TKT240117" in await customer.say("tiket saya TKT240117")


async def test_new_connection_offers_a_person(customer: Customer) -> None:
    reply = await customer.say("gmn cara pasang baru")
    assert "KTP" in reply and "Bicara dengan petugas" in customer.buttons


async def test_help_offers_the_requests_as_buttons(customer: Customer) -> None:
    await customer.say("bisa bantu apa aja")
    assert "Beli token" in customer.buttons and "Lapor gangguan" in customer.buttons


async def test_are_you_a_robot_is_answered_honestly(customer: Customer) -> None:
    assert "bot" in (await customer.say("kamu robot ya?")).lower()
