"""The actions' provider client, against the real sandbox app and against misbehaving peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ActionOpenComplaint, ActionReportDetail, ValidateComplaintForm
from actions.offers import ActionOfferForValue
from actions.provider import (
    Bill,
    Customer,
    InvalidRequest,
    NotFound,
    Provider,
    ProviderError,
    ProviderMisconfigured,
    ProviderUnavailable,
    Ticket,
    Transaction,
)
from bot.ops.processes import free_port
from bot.sandbox import create_app
from handoff.store import Store

BUDI_METER, BUDI_ID = "14234567890", "532100123456"  # prepaid
HENDRA_ID = "532100556677"  # postpaid, unpaid bill
UNKNOWN_METER = "99999999999"
SUKAJADI = "Sukajadi, Bandung"  # an area with a known outage in the sandbox


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` on a local port; yields its base URL."""
    async with TestServer(app) as server:
        yield str(server.make_url("")).rstrip("/")


@pytest.fixture
async def provider(store: Store) -> AsyncIterator[Provider]:
    async with serving(create_app(store, pay_delay=0, seed=True)) as url:
        yield Provider(url, timeout=2)


def peer(
    answer: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.Application:
    """A stand-in provider that answers every request with `answer`."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def always(response: web.Response) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return response

    return handler


def customer_json(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "meter_number": BUDI_METER,
        "customer_id": BUDI_ID,
        "name": "BUDI SANTOSO",
        "tariff": "R1",
        "power_va": 1300,
        "kind": "prepaid",
        "area": "Coblong, Bandung",
    }
    body.update(overrides)
    return body


# --- against the sandbox -------------------------------------------------------------------


async def test_lookup_customer(provider: Provider) -> None:
    customer = await provider.lookup_customer(BUDI_ID)
    assert customer == Customer(
        BUDI_METER, BUDI_ID, "BUDI SANTOSO", "R1", 1300, "prepaid", "Coblong, Bandung"
    )
    assert customer.prepaid
    assert not (await provider.lookup_customer(HENDRA_ID)).prepaid


async def test_unknown_customer_is_not_found(provider: Provider) -> None:
    with pytest.raises(NotFound) as err:
        await provider.lookup_customer(UNKNOWN_METER)
    assert err.value.code == "customer_not_found"


@pytest.mark.parametrize("number", ["12345", "1423/4567890", "14234567890?x=1", "../health"])
async def test_malformed_numbers_are_invalid_requests(provider: Provider, number: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        await provider.lookup_customer(number)
    assert err.value.code == "invalid_number"


async def test_quote(provider: Provider) -> None:
    quote = await provider.quote(BUDI_METER, 50_000)
    assert (quote.meter_number, quote.amount, quote.admin_fee, quote.total) == (
        BUDI_METER,
        50_000,
        2500,
        52_500,
    )
    assert quote.kwh > 0


async def test_quote_errors_carry_the_providers_code(provider: Provider) -> None:
    with pytest.raises(InvalidRequest) as err:
        await provider.quote(BUDI_METER, 12_345)
    assert err.value.code == "invalid_amount"
    with pytest.raises(InvalidRequest) as err:
        await provider.quote(HENDRA_ID, 50_000)
    assert err.value.code == "not_prepaid"


async def test_order_then_follow_the_transaction(provider: Provider, store: Store) -> None:
    order = await provider.create_order(BUDI_METER, 100_000)
    assert isinstance(order, Transaction)
    assert order.status == "waiting_payment" and order.token is None
    assert order.total == 102_500 and len(order.virtual_account) == 16
    assert order.expires_at is not None and order.paid_at is None
    assert await provider.transaction(order.ref.lower()) == order
    latest = await provider.latest_transactions(BUDI_METER, limit=1)
    assert [t.ref for t in latest] == [order.ref]
    assert len(await provider.latest_transactions(BUDI_ID)) == 3


async def test_an_order_carries_the_conversation_as_its_reference(provider: Provider) -> None:
    """The provider echoes it in its payment callback, which finds the chat by it."""
    order = await provider.create_order(BUDI_METER, 50_000, reference="telegram:777001")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{provider.base_url}/transactions/{order.ref}") as resp,
    ):
        assert (await resp.json())["reference"] == "telegram:777001"


async def test_an_order_without_a_reference_sends_none() -> None:
    bodies: list[object] = []

    async def record(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.json_response({"error": "stop here", "code": "not_prepaid"}, status=409)

    async with serving(peer(record)) as url:
        for reference in (None, ""):
            with pytest.raises(ProviderError):
                await Provider(url, timeout=2).create_order(BUDI_METER, 50_000, reference)
    assert bodies == [{"meter_number": BUDI_METER, "amount": 50_000}] * 2


async def test_a_paid_transaction_has_its_token(provider: Provider) -> None:
    txn = await provider.transaction("TRXDEMO0001")
    assert txn.status == "token_issued" and txn.token == "5821-0934-7716-2048-3395"
    assert txn.paid_at is not None


async def test_unknown_transaction_is_not_found(provider: Provider) -> None:
    with pytest.raises(NotFound) as err:
        await provider.transaction("TRXNOTHERE1")
    assert err.value.code == "transaction_not_found"


async def test_bill(provider: Provider) -> None:
    bill = await provider.bill(HENDRA_ID)
    assert bill == Bill(HENDRA_ID, "HENDRA GUNAWAN", "2026-11", 287_450, "2026-12-20", "unpaid")
    assert not bill.paid
    with pytest.raises(InvalidRequest) as err:
        await provider.bill(BUDI_ID)
    assert err.value.code == "not_postpaid"


async def test_open_and_read_a_complaint(provider: Provider) -> None:
    ticket = await provider.open_complaint(
        description="meter bunyi terus", category="meter", meter_number=BUDI_METER
    )
    assert isinstance(ticket, Ticket)
    assert (ticket.status, ticket.category, ticket.area) == ("open", "meter", "Coblong, Bandung")
    assert ticket.customer_id == BUDI_ID and ticket.ticket_id in ticket.note
    assert await provider.complaint(ticket.ticket_id) == ticket
    by_area = await provider.open_complaint(
        description="tiang listrik miring", category="other", area="Cimahi"
    )
    assert by_area.area == "Cimahi" and by_area.customer_id is None


async def test_a_second_report_of_one_outage_is_the_first_ticket(provider: Provider) -> None:
    first = await provider.open_complaint(
        description="listrik mati sejak pagi", category="outage", meter_number=BUDI_METER
    )
    again = await provider.open_complaint(
        description="masih mati", category="outage", customer_id=BUDI_ID
    )
    assert (first.existing, again.existing) == (False, True)
    assert again.ticket_id == first.ticket_id


async def test_a_customers_outage_reported_in_two_conversations_is_filed_once(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The action itself, in two conversations (another day, another channel) of the customer
    whose meter number it knows: the second one says the report is registered."""
    monkeypatch.setenv("LOKET_PROVIDER_URL", provider.base_url)
    said = []
    for conversation in ("telegram:777001", "whatsapp:6281234"):
        slots = {"language": "id", "area": "Coblong, Bandung", "meter_number": BUDI_METER,
                 "complaint_description": "listrik mati dari subuh"}  # fmt: skip
        tracker = Tracker(conversation, slots, {"text": "listrik mati"}, [], False, None, {},
                          "action_listen")  # fmt: skip
        dispatcher = CollectingDispatcher()
        events = await ActionOpenComplaint().run(dispatcher, tracker, {})
        said.append(([m["response"] for m in dispatcher.messages], events))
    (first, first_events), (second, second_events) = said
    assert "utter_complaint_opened" in first and "utter_report_exists" not in first
    assert second == ["utter_report_exists"]
    ticket = [e["value"] for e in first_events if e.get("name") == "ticket_id"]
    assert [e["value"] for e in second_events if e.get("name") == "ticket_id"] == ticket


def bare_place(text: str, area: str, language: str = "id") -> Tracker:
    message = {"text": text, "intent": {"name": "inform", "confidence": 0.9},
               "entities": [{"entity": "area", "value": area}]}  # fmt: skip
    return Tracker("webchat:p1", {"language": language}, message, [], False, None, {},
                   "action_listen")  # fmt: skip


async def test_a_bare_place_says_the_outage_known_there_and_offers_a_report_for_it(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOKET_PROVIDER_URL", provider.base_url)
    dispatcher = CollectingDispatcher()
    await ActionOfferForValue().run(dispatcher, bare_place("di cimahi", "di cimahi"), {})
    known, offer = dispatcher.messages
    assert known["response"] == "utter_known_outage" and known["area"] == "Cimahi"
    assert known["cause"] and known["restore"]
    assert offer["response"] == "utter_offer_for_area_known" and offer["area"] == "cimahi"
    payloads = [b["payload"] for b in offer["buttons"]]
    assert payloads[0] == '/report_outage{"area": "cimahi"}'
    assert payloads[1:] == ["/check_complaint", "/help"]


async def test_a_bare_place_without_a_known_outage_says_so_and_offers_a_report(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOKET_PROVIDER_URL", provider.base_url)
    dispatcher = CollectingDispatcher()
    await ActionOfferForValue().run(dispatcher, bare_place("Surabaya", "Surabaya", "en"), {})
    [offer] = dispatcher.messages
    assert offer["response"] == "utter_offer_for_area" and offer["area"] == "Surabaya"
    assert offer["buttons"][0]["title"] == "Report an outage"


async def test_a_bare_place_with_the_provider_down_is_told_honestly_and_handed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOKET_PROVIDER_URL", f"http://127.0.0.1:{free_port()}")
    dispatcher = CollectingDispatcher()
    await ActionOfferForValue().run(dispatcher, bare_place("cimahi", "cimahi"), {})
    assert dispatcher.messages[0]["response"] == "utter_provider_down"
    assert not any(m.get("buttons") for m in dispatcher.messages)


@pytest.mark.parametrize(
    ("text", "ends"), [("ada gangguan ga di sukajadi?", True), ("listrik mati di sukajadi", False)]
)
async def test_a_question_about_a_place_is_answered_and_ends_the_report_unfiled(
    provider: Provider, monkeypatch: pytest.MonkeyPatch, text: str, ends: bool
) -> None:
    monkeypatch.setenv("LOKET_PROVIDER_URL", provider.base_url)
    dispatcher = CollectingDispatcher()
    tracker = Tracker("webchat:q1", {"language": "id"}, {"text": text}, [], False, None,
                      {"name": "complaint_form"}, "action_listen")  # fmt: skip
    slots = await ValidateComplaintForm().validate_area("sukajadi", dispatcher, tracker, {})
    assert slots["area"] == "sukajadi"
    if ends:  # requested_slot None ends the form: action_open_complaint then files nothing
        assert slots["requested_slot"] is None
        said = [m["response"] for m in dispatcher.messages]
        assert said == ["utter_known_outage", "utter_offer_for_area_known"]
    else:  # the report goes on; the known outage is said before it asks what happened
        assert "requested_slot" not in slots
        assert [m["response"] for m in dispatcher.messages] == ["utter_known_outage"]


async def test_a_report_that_already_says_what_happened_leaves_the_outage_to_the_filing(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOKET_PROVIDER_URL", provider.base_url)
    dispatcher = CollectingDispatcher()
    slots = {"language": "id", "complaint_description": "listrik mati di sukajadi"}
    tracker = Tracker("webchat:q2", slots, {"text": "listrik mati di sukajadi"}, [], False, None,
                      {"name": "complaint_form"}, "action_listen")  # fmt: skip
    assert await ValidateComplaintForm().validate_area("sukajadi", dispatcher, tracker, {}) == {
        "area": "sukajadi"
    }
    assert not dispatcher.messages


async def test_a_detail_right_after_a_report_is_answered_from_that_report(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOKET_PROVIDER_URL", provider.base_url)
    slots = {"language": "id", "ticket_id": "TKT123456", "reported_area": "sukajadi"}
    tracker = Tracker("webchat:d1", slots, {"text": "dari jam 8 pagi"}, [], False, None, {},
                      "action_listen")  # fmt: skip
    dispatcher = CollectingDispatcher()
    assert await ActionReportDetail().run(dispatcher, tracker, {}) == []
    detail, restore = dispatcher.messages
    assert detail["response"] == "utter_report_detail" and detail["ticket_id"] == "TKT123456"
    assert restore["response"] == "utter_outage_restore" and restore["area"] == SUKAJADI
    # With no report in this conversation it is what it looked like: not understood.
    tracker = Tracker("webchat:d2", {"language": "id"}, {"text": "dari jam 8 pagi"}, [], False,
                      None, {}, "action_listen")  # fmt: skip
    dispatcher = CollectingDispatcher()
    events = await ActionReportDetail().run(dispatcher, tracker, {})
    assert [e.get("name") for e in events] == ["action_rephrase"] and not dispatcher.messages


async def test_complaint_errors(provider: Provider) -> None:
    with pytest.raises(InvalidRequest) as err:
        await provider.open_complaint(description="rusak", category="outage")
    assert err.value.code == "missing_field"
    with pytest.raises(NotFound) as not_found:
        await provider.complaint("TKT000000")
    assert not_found.value.code == "ticket_not_found"
    assert (await provider.complaint("tkt240117")).status == "in_progress"


async def test_outages(provider: Provider) -> None:
    outages = await provider.outages("sukajadi")
    assert [o.area for o in outages] == ["Sukajadi, Bandung"]
    assert outages[0].cause and outages[0].estimated_restore
    assert await provider.outages("Surabaya") == []


# --- when the provider is not there or not itself ------------------------------------------


async def test_nothing_listening_is_unavailable_at_once() -> None:
    provider = Provider(f"http://127.0.0.1:{free_port()}", timeout=5)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await provider.lookup_customer(BUDI_METER)
    assert time.monotonic() - started < 1


async def test_a_slow_provider_times_out() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response(customer_json())

    async with serving(peer(slow)) as url:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            await Provider(url, timeout=0.3).lookup_customer(BUDI_METER)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "response",
    [
        web.Response(text="<html><body>Welcome to nginx</body></html>", content_type="text/html"),
        web.Response(text="<html>Not Found</html>", status=404, content_type="text/html"),
        web.json_response({"detail": "Not Found"}, status=404),
        web.json_response({"error": "boom", "code": "internal"}, status=500),
        web.json_response({"error": "slow down", "code": "rate_limited"}, status=429),
        web.Response(status=204),
        web.json_response(["not", "an", "object"]),
        web.json_response({}),
        web.json_response(customer_json(power_va="1300")),
        web.json_response(customer_json(power_va=True)),
        web.json_response(customer_json(kind="sometimes")),
        web.json_response(customer_json(name=None)),
        web.json_response(customer_json(name="")),
        web.Response(body=b"\xff\xfe\x00garbage", content_type="application/json"),
    ],
    ids=[
        "html",
        "html-404",
        "foreign-404",
        "500",
        "429",
        "204",
        "list",
        "empty",
        "string-int",
        "bool-int",
        "bad-kind",
        "null-name",
        "empty-name",
        "binary",
    ],
)
async def test_garbage_is_unavailable(response: web.Response) -> None:
    async with serving(peer(always(response))) as url:
        with pytest.raises(ProviderUnavailable):
            await Provider(url).lookup_customer(BUDI_METER)


async def test_a_huge_answer_is_unavailable() -> None:
    huge = web.Response(body=b"[" + b"0," * 1_000_000 + b"0]", content_type="application/json")
    async with serving(peer(always(huge))) as url:
        with pytest.raises(ProviderUnavailable, match="too large"):
            await Provider(url).lookup_customer(BUDI_METER)


@pytest.mark.parametrize(
    "body",
    [
        {"transactions": "none"},
        {"transactions": [{"ref": "TRXAAAAAAAA"}]},
        {"items": []},
    ],
)
async def test_a_malformed_list_is_unavailable(body: dict[str, object]) -> None:
    async with serving(peer(always(web.json_response(body)))) as url:
        with pytest.raises(ProviderUnavailable):
            await Provider(url).latest_transactions(BUDI_METER)


async def test_a_malformed_time_is_unavailable(provider: Provider) -> None:
    txn = {
        "ref": "TRXAAAAAAAA", "meter_number": BUDI_METER, "amount": 20_000, "admin_fee": 2500,
        "total": 22_500, "status": "waiting_payment", "virtual_account": "8808123412341234",
        "token": None, "kwh": 13.8, "created_at": "yesterday", "paid_at": None,
    }  # fmt: skip
    async with serving(peer(always(web.json_response(txn)))) as url:
        with pytest.raises(ProviderUnavailable, match="created_at"):
            await Provider(url).transaction("TRXAAAAAAAA")


async def test_every_error_is_a_provider_error() -> None:
    for error in (ProviderUnavailable, NotFound, InvalidRequest, ProviderMisconfigured):
        assert issubclass(error, ProviderError)


# --- configuration -------------------------------------------------------------------------


def test_from_env_defaults() -> None:
    provider = Provider.from_env({})
    assert provider.base_url == "http://127.0.0.1:5056"


def test_from_env_reads_the_url() -> None:
    env = {"LOKET_PROVIDER_URL": "https://provider.example/api/", "LOKET_PROVIDER_TIMEOUT": "2.5"}
    assert Provider.from_env(env).base_url == "https://provider.example/api"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LOKET_PROVIDER_URL": "provider:5056"}, "LOKET_PROVIDER_URL"),
        ({"LOKET_PROVIDER_URL": "ftp://provider"}, "LOKET_PROVIDER_URL"),
        ({"LOKET_PROVIDER_TIMEOUT": "soon"}, "LOKET_PROVIDER_TIMEOUT"),
        ({"LOKET_PROVIDER_TIMEOUT": "0"}, "LOKET_PROVIDER_TIMEOUT"),
        ({"LOKET_PROVIDER_TIMEOUT": "nan"}, "LOKET_PROVIDER_TIMEOUT"),
    ],
)
def test_from_env_names_a_bad_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ProviderMisconfigured, match=variable):
        Provider.from_env(env)
