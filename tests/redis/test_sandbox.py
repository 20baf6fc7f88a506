"""The sandbox provider's HTTP API, through the same app factory `python -m bot.sandbox` uses."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.core.settings import PROJECT_ROOT
from bot.ops.processes import free_port
from bot.sandbox import create_app
from bot.sandbox import keys as sandbox_keys
from bot.sandbox.__main__ import main as sandbox_main
from bot.sandbox.data import CUSTOMERS, SEEDED_TICKET_ID
from handoff.store import Store

BUDI_METER, BUDI_ID = "14234567890", "532100123456"  # prepaid, R1 1300 VA, Coblong
DEWI_METER = "14567890123"  # prepaid, R2 3500 VA
HENDRA_METER, HENDRA_ID = "86011122233", "532100556677"  # postpaid, bill unpaid
SRI_ID = "545100778899"  # postpaid, bill paid
UNKNOWN_METER = "99999999999"

REF = re.compile(r"TRX[0-9A-Z]{8}")
TOKEN = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}-\d{4}")


@asynccontextmanager
async def sandbox(
    store: Store,
    *,
    pay_delay: float = 0,
    seed: bool = True,
    order_ttl: float = 3600,
    callbacks: Recorder | None = None,
) -> AsyncIterator[TestClient]:
    hook = {}
    if callbacks is not None:
        hook = {"callback_url": callbacks.url, "callback_secret": SECRET, "callback_backoff": 0.05}
    app = create_app(store, pay_delay=pay_delay, seed=seed, order_ttl=order_ttl, **hook)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def api(store: Store) -> AsyncIterator[TestClient]:
    async with sandbox(store) as client:
        yield client


def token_body(
    meter_number: str = BUDI_METER, amount: object = 50_000, reference: object = None
) -> dict[str, Any]:
    body = {"meter_number": meter_number, "amount": amount}
    return body if reference is None else {**body, "reference": reference}


def complaint_body(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": BUDI_ID,
        "description": "listrik mati sejak pagi",
        "category": "outage",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0)
    return moment


async def ok(resp: ClientResponse, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def refused(resp: ClientResponse, status: int, code: str) -> str:
    """The JSON error's message, after checking its status and code."""
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


async def order(
    api: TestClient,
    meter_number: str = BUDI_METER,
    amount: int = 50_000,
    reference: str | None = None,
) -> Any:
    body = token_body(meter_number, amount, reference)
    return await ok(await api.post("/tokens/orders", json=body), 201)


# --- customers -----------------------------------------------------------------------------


async def test_health(api: TestClient) -> None:
    assert await ok(await api.get("/health")) == {"status": "ok"}


async def test_a_customer_is_found_by_meter_number_or_customer_id(api: TestClient) -> None:
    by_meter = await ok(await api.get(f"/customers/{BUDI_METER}"))
    by_id = await ok(await api.get(f"/customers/{BUDI_ID}"))
    assert (
        by_meter
        == by_id
        == {
            "meter_number": BUDI_METER,
            "customer_id": BUDI_ID,
            "name": "BUDI SANTOSO",
            "tariff": "R1",
            "power_va": 1300,
            "kind": "prepaid",
            "area": "Coblong, Bandung",
        }
    )
    assert (await ok(await api.get(f"/customers/{HENDRA_ID}")))["kind"] == "postpaid"


async def test_every_seeded_customer_has_well_formed_numbers(api: TestClient) -> None:
    for c in CUSTOMERS:
        found = await ok(await api.get(f"/customers/{c.meter_number}"))
        assert re.fullmatch(r"\d{11}", found["meter_number"])
        assert re.fullmatch(r"\d{12}", found["customer_id"])


async def test_unknown_customer_is_404(api: TestClient) -> None:
    await refused(await api.get(f"/customers/{UNKNOWN_METER}"), 404, "customer_not_found")
    await refused(await api.get("/customers/999999999999"), 404, "customer_not_found")


@pytest.mark.parametrize("number", ["123", "1423456789O", "1234567890123", "١٤٢٣٤٥٦٧٨٩٠"])
async def test_malformed_customer_number_is_400(api: TestClient, number: str) -> None:
    await refused(await api.get(f"/customers/{number}"), 400, "invalid_number")


# --- quotes and orders ---------------------------------------------------------------------


async def test_quote_adds_the_admin_fee_and_estimates_kwh(api: TestClient) -> None:
    quote = await ok(await api.post("/tokens/quote", json=token_body(amount=100_000)))
    assert quote["meter_number"] == BUDI_METER
    assert (quote["amount"], quote["admin_fee"], quote["total"]) == (100_000, 2500, 102_500)
    assert 60 < quote["kwh"] < 80  # R1 at about Rp1,445 per kWh


async def test_quote_by_customer_id_names_the_meter(api: TestClient) -> None:
    quote = await ok(await api.post("/tokens/quote", json=token_body(BUDI_ID)))
    assert quote["meter_number"] == BUDI_METER


async def test_a_dearer_tariff_gives_fewer_kwh(api: TestClient) -> None:
    r1 = await ok(await api.post("/tokens/quote", json=token_body(BUDI_METER)))
    r2 = await ok(await api.post("/tokens/quote", json=token_body(DEWI_METER)))
    assert r2["kwh"] < r1["kwh"]


@pytest.mark.parametrize("amount", [12_345, 0, -50_000, "50000", 50_000.5, True, [50_000]])
async def test_only_the_nominals_can_be_bought(api: TestClient, amount: object) -> None:
    resp = await api.post("/tokens/quote", json=token_body(amount=amount))
    assert "20000" in await refused(resp, 400, "invalid_amount")
    resp = await api.post("/tokens/orders", json=token_body(amount=amount))
    await refused(resp, 400, "invalid_amount")


async def test_postpaid_customers_buy_no_tokens(api: TestClient) -> None:
    await refused(
        await api.post("/tokens/quote", json=token_body(HENDRA_METER)), 409, "not_prepaid"
    )
    await refused(await api.post("/tokens/orders", json=token_body(HENDRA_ID)), 409, "not_prepaid")


async def test_tokens_for_an_unknown_or_malformed_meter(api: TestClient) -> None:
    resp = await api.post("/tokens/quote", json=token_body(UNKNOWN_METER))
    await refused(resp, 404, "customer_not_found")
    resp = await api.post("/tokens/orders", json=token_body("12345"))
    assert "meter_number" in await refused(resp, 400, "invalid_number")
    resp = await api.post("/tokens/orders", json=token_body(14234567890))  # type: ignore[arg-type]
    await refused(resp, 400, "invalid_number")


@pytest.mark.parametrize("field", ["meter_number", "amount"])
async def test_a_missing_field_is_named(api: TestClient, field: str) -> None:
    body = token_body()
    del body[field]
    assert field in await refused(await api.post("/tokens/quote", json=body), 400, "missing_field")


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe{}", b"{"])
async def test_a_body_that_is_not_a_json_object_is_400(api: TestClient, raw: bytes) -> None:
    for path in ("/tokens/quote", "/tokens/orders", "/complaints"):
        await refused(await api.post(path, data=raw), 400, "invalid_json")


async def test_bodies_over_64_kb_are_413(api: TestClient) -> None:
    big = b'{"description": "' + b"x" * 70_000 + b'"}'
    await refused(await api.post("/complaints", data=big), 413, "body_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit still holds
        for _ in range(70):
            yield b" " * 1024

    await refused(await api.post("/tokens/orders", data=chunks()), 413, "body_too_large")


async def test_an_order_waits_for_payment_into_a_virtual_account(api: TestClient) -> None:
    txn = await order(api, amount=200_000)
    assert REF.fullmatch(txn["ref"])
    assert txn["status"] == "waiting_payment"
    assert (txn["meter_number"], txn["amount"], txn["admin_fee"]) == (BUDI_METER, 200_000, 2500)
    assert txn["total"] == 202_500 and txn["kwh"] > 0
    assert re.fullmatch(r"\d{16}", txn["virtual_account"])
    assert txn["token"] is None and txn["paid_at"] is None
    created, expires = parse_time(txn["created_at"]), parse_time(txn["expires_at"])
    assert abs(created - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert expires - created == timedelta(hours=1)
    assert await ok(await api.get(f"/transactions/{txn['ref']}")) == txn


async def test_orders_get_distinct_references(api: TestClient) -> None:
    refs = {(await order(api))["ref"] for _ in range(5)}
    assert len(refs) == 5


# --- transactions and payment ---------------------------------------------------------------


async def test_transaction_reference_is_case_insensitive(api: TestClient) -> None:
    txn = await order(api)
    found = await ok(await api.get(f"/transactions/{txn['ref'].lower()}"))
    assert found["ref"] == txn["ref"]


@pytest.mark.parametrize("ref", ["TRXZZZZZZZZ", "TRX123", "nonsense", "TRX%2F..%2F"])
async def test_unknown_transaction_is_404(api: TestClient, ref: str) -> None:
    await refused(await api.get(f"/transactions/{ref}"), 404, "transaction_not_found")
    await refused(await api.post(f"/transactions/{ref}/pay"), 404, "transaction_not_found")


async def test_paying_issues_a_token_once(api: TestClient) -> None:
    txn = await order(api)
    paid = await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
    assert paid["status"] == "token_issued"
    assert TOKEN.fullmatch(paid["token"])
    assert parse_time(paid["paid_at"]) >= parse_time(txn["created_at"])
    again = await ok(await api.post(f"/transactions/{txn['ref'].lower()}/pay"))
    assert again == paid
    assert await ok(await api.get(f"/transactions/{txn['ref']}")) == paid


async def test_payment_is_confirmed_automatically_after_the_delay(store: Store) -> None:
    async with sandbox(store, pay_delay=0.2) as api:
        txn = await order(api)
        assert (await ok(await api.get(f"/transactions/{txn['ref']}")))["status"] == (
            "waiting_payment"
        )
        await asyncio.sleep(0.3)
        paid = await ok(await api.get(f"/transactions/{txn['ref']}"))
    assert paid["status"] == "token_issued" and TOKEN.fullmatch(paid["token"])
    delay = parse_time(paid["paid_at"]) - parse_time(txn["created_at"])
    assert timedelta(0) <= delay <= timedelta(seconds=1)


async def test_automatic_payment_survives_a_restart(store: Store) -> None:
    async with sandbox(store, pay_delay=0.2) as api:
        txn = await order(api)
    await asyncio.sleep(0.3)  # nothing is running while the payment falls due
    async with sandbox(store, pay_delay=0.2) as api:
        listed = await ok(await api.get(f"/customers/{BUDI_METER}/transactions?limit=1"))
    assert listed["transactions"][0]["ref"] == txn["ref"]
    assert listed["transactions"][0]["status"] == "token_issued"


async def test_with_no_delay_only_an_explicit_payment_counts(store: Store) -> None:
    async with sandbox(store, pay_delay=0) as api:
        txn = await order(api)
        await asyncio.sleep(0.3)
        found = await ok(await api.get(f"/transactions/{txn['ref']}"))
    assert found["status"] == "waiting_payment"


async def test_an_unpaid_order_expires_and_can_no_longer_be_paid(store: Store) -> None:
    async with sandbox(store, pay_delay=0, order_ttl=0.2) as api:
        txn = await order(api)
        await asyncio.sleep(0.3)
        assert (await ok(await api.get(f"/transactions/{txn['ref']}")))["status"] == "expired"
        await refused(await api.post(f"/transactions/{txn['ref']}/pay"), 409, "transaction_expired")


async def test_latest_transactions_newest_first(api: TestClient) -> None:
    refs = [(await order(api, DEWI_METER))["ref"] for _ in range(3)]
    listed = await ok(await api.get(f"/customers/{DEWI_METER}/transactions?limit=2"))
    assert [t["ref"] for t in listed["transactions"]] == refs[::-1][:2]
    default = await ok(await api.get("/customers/545100223344/transactions"))
    assert [t["ref"] for t in default["transactions"]] == refs[::-1]  # limit 3 by default


async def test_a_customer_without_transactions_has_an_empty_list(api: TestClient) -> None:
    assert await ok(await api.get("/customers/56012345678/transactions")) == {"transactions": []}


@pytest.mark.parametrize("limit", ["0", "21", "-1", "two", "1.5"])
async def test_bad_limit_is_400(api: TestClient, limit: str) -> None:
    resp = await api.get(f"/customers/{BUDI_METER}/transactions", params={"limit": limit})
    await refused(resp, 400, "invalid_limit")


async def test_transactions_of_unknown_or_malformed_customer(api: TestClient) -> None:
    resp = await api.get(f"/customers/{UNKNOWN_METER}/transactions")
    await refused(resp, 404, "customer_not_found")
    await refused(await api.get("/customers/12/transactions"), 400, "invalid_number")


async def test_seeded_transactions_tell_three_stories(api: TestClient) -> None:
    issued = await ok(await api.get("/transactions/TRXDEMO0001"))
    assert issued["status"] == "token_issued" and issued["token"] == "5821-0934-7716-2048-3395"
    stuck = await ok(await api.get("/transactions/trxdemo0002"))
    assert stuck["status"] == "paid" and stuck["token"] is None and stuck["paid_at"]
    expired = await ok(await api.get("/transactions/TRXDEMO0003"))
    assert expired["status"] == "expired"
    latest = await ok(await api.get(f"/customers/{BUDI_METER}/transactions"))
    assert [t["ref"] for t in latest["transactions"]] == ["TRXDEMO0002", "TRXDEMO0001"]
    # Paying the stuck one delivers its token; the expired one stays expired.
    delivered = await ok(await api.post("/transactions/TRXDEMO0002/pay"))
    assert delivered["status"] == "token_issued" and TOKEN.fullmatch(delivered["token"])
    assert delivered["paid_at"] == stuck["paid_at"]
    await refused(await api.post("/transactions/TRXDEMO0003/pay"), 409, "transaction_expired")


# --- bills ---------------------------------------------------------------------------------


async def test_bill_of_a_postpaid_customer(api: TestClient) -> None:
    bill = await ok(await api.get(f"/bills/{HENDRA_ID}"))
    assert bill == {
        "customer_id": HENDRA_ID,
        "name": "HENDRA GUNAWAN",
        "period": "2026-11",
        "amount_due": 287_450,
        "due_date": "2026-12-20",
        "status": "unpaid",
    }
    assert (await ok(await api.get(f"/bills/{HENDRA_METER}")))["customer_id"] == HENDRA_ID
    assert (await ok(await api.get(f"/bills/{SRI_ID}")))["status"] == "paid"


async def test_bill_errors(api: TestClient) -> None:
    await refused(await api.get(f"/bills/{BUDI_ID}"), 409, "not_postpaid")
    await refused(await api.get("/bills/999999999999"), 404, "customer_not_found")
    await refused(await api.get("/bills/53210055667"), 404, "customer_not_found")
    await refused(await api.get("/bills/abc"), 400, "invalid_number")


# --- complaints ----------------------------------------------------------------------------


async def test_a_complaint_opens_a_ticket(api: TestClient) -> None:
    ticket = await ok(await api.post("/complaints", json=complaint_body()), 201)
    assert re.fullmatch(r"TKT\d{6}", ticket["ticket_id"])
    assert (ticket["status"], ticket["category"]) == ("open", "outage")
    assert ticket["description"] == "listrik mati sejak pagi"
    assert ticket["area"] == "Coblong, Bandung"  # from the customer
    assert (ticket["customer_id"], ticket["meter_number"]) == (BUDI_ID, BUDI_METER)
    assert ticket["ticket_id"] in ticket["note"] and "petugas" in ticket["note"]
    assert parse_time(ticket["created_at"]) == parse_time(ticket["updated_at"])
    assert ticket.pop("existing") is False
    found = await ok(await api.get(f"/complaints/{ticket['ticket_id'].lower()}"))
    assert found == ticket


async def test_a_customers_second_report_of_one_outage_gets_its_first_ticket(
    api: TestClient, store: Store
) -> None:
    first = await ok(await api.post("/complaints", json=complaint_body()), 201)
    # Later, from another conversation, by meter number, the area written another way.
    body = complaint_body(customer_id=None, meter_number=BUDI_METER, area="coblong,  BANDUNG",
                          description="listrik masih mati total")  # fmt: skip
    again = await ok(await api.post("/complaints", json=body), 200)
    assert again["ticket_id"] == first["ticket_id"] and again["existing"] is True
    assert again["description"] == "listrik mati sejak pagi"  # the ticket as filed
    # Not the same report: another place, another customer, another kind of complaint.
    elsewhere = complaint_body(area="Sukajadi, Bandung")
    other_customer = complaint_body(customer_id=HENDRA_ID)
    meter = complaint_body(category="meter", description="meteran bunyi terus")
    for body in (elsewhere, other_customer, meter):
        new = await ok(await api.post("/complaints", json=body), 201)
        assert new["ticket_id"] != first["ticket_id"] and new["existing"] is False
    # Once the first ticket is resolved, the next outage there is a new report.
    await store.redis.hset(sandbox_keys.ticket(first["ticket_id"]), "status", "resolved")
    after = await ok(await api.post("/complaints", json=complaint_body()), 201)
    assert after["ticket_id"] != first["ticket_id"]


async def test_a_complaint_may_name_only_an_area(api: TestClient) -> None:
    body = complaint_body(customer_id=None, area="  Cimahi ", category="other")
    ticket = await ok(await api.post("/complaints", json=body), 201)
    assert (ticket["area"], ticket["customer_id"], ticket["meter_number"]) == ("Cimahi", None, None)


async def test_a_complaint_by_meter_number(api: TestClient) -> None:
    body = complaint_body(customer_id=None, meter_number=HENDRA_METER, category="billing")
    ticket = await ok(await api.post("/complaints", json=body), 201)
    assert ticket["customer_id"] == HENDRA_ID and "tagihan" in ticket["note"]


@pytest.mark.parametrize(
    ("overrides", "code", "named"),
    [
        ({"customer_id": None}, "missing_field", "area"),
        ({"description": None}, "missing_field", "description"),
        ({"category": None}, "missing_field", "category"),
        ({"description": "ok"}, "invalid_description", "description"),
        ({"description": "   ab   "}, "invalid_description", "description"),
        ({"description": "x" * 1001}, "invalid_description", "description"),
        ({"description": 42}, "invalid_description", "description"),
        ({"category": "weather"}, "invalid_category", "category"),
        ({"category": ["outage"]}, "invalid_category", "category"),
        ({"customer_id": "12"}, "invalid_number", "customer_id"),
        ({"meter_number": 14234567890}, "invalid_number", "meter_number"),
        ({"customer_id": None, "area": ""}, "invalid_area", "area"),
        ({"customer_id": None, "area": "x" * 101}, "invalid_area", "area"),
        ({"meter_number": DEWI_METER}, "number_mismatch", "meter_number"),
    ],
)
async def test_bad_complaints_are_400(
    api: TestClient, overrides: dict[str, object], code: str, named: str
) -> None:
    resp = await api.post("/complaints", json=complaint_body(**overrides))
    assert named in await refused(resp, 400, code)


async def test_a_complaint_for_an_unknown_customer_is_404(api: TestClient) -> None:
    resp = await api.post("/complaints", json=complaint_body(customer_id="999999999999"))
    await refused(resp, 404, "customer_not_found")


async def test_the_seeded_ticket_is_in_progress(api: TestClient) -> None:
    ticket = await ok(await api.get(f"/complaints/{SEEDED_TICKET_ID}"))
    assert (ticket["status"], ticket["category"]) == ("in_progress", "meter")
    assert ticket["customer_id"] == BUDI_ID


@pytest.mark.parametrize("ticket_id", ["TKT000000", "TKT12", "hello"])
async def test_unknown_ticket_is_404(api: TestClient, ticket_id: str) -> None:
    await refused(await api.get(f"/complaints/{ticket_id}"), 404, "ticket_not_found")


# --- outages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "found"),
    [
        ("sukajadi", ["Sukajadi, Bandung"]),
        ("BANDUNG", ["Sukajadi, Bandung"]),
        ("Cimahi", ["Cimahi"]),
        ("Jakarta Selatan", []),
    ],
)
async def test_outages_by_area(api: TestClient, area: str, found: list[str]) -> None:
    answer = await ok(await api.get("/outages", params={"area": area}))
    assert answer["area"] == area
    assert [o["area"] for o in answer["outages"]] == found
    for outage in answer["outages"]:
        assert outage["cause"]
        started, restore = parse_time(outage["started_at"]), parse_time(outage["estimated_restore"])
        assert started < datetime.now(timezone.utc) < restore


@pytest.mark.parametrize(("query", "code"), [("", "missing_field"), ("?area=", "missing_field")])
async def test_outages_need_an_area(api: TestClient, query: str, code: str) -> None:
    assert "area" in await refused(await api.get(f"/outages{query}"), 400, code)


# --- the edges -----------------------------------------------------------------------------


async def test_unknown_routes_and_methods_answer_json(api: TestClient) -> None:
    await refused(await api.get("/nowhere"), 404, "not_found")
    await refused(await api.delete(f"/customers/{BUDI_METER}"), 405, "method_not_allowed")


async def test_redis_down_is_503_not_a_crash() -> None:
    dead = Store.from_url(f"redis://127.0.0.1:{free_port()}/0")
    try:
        async with sandbox(dead, seed=False) as api:
            await refused(await api.get("/health"), 503, "store_unavailable")
            await refused(await api.get(f"/customers/{BUDI_METER}"), 503, "store_unavailable")
    finally:
        await dead.close()


# --- seeding -------------------------------------------------------------------------------


async def keys_of_sandbox(store: Store) -> set[str]:
    return {k async for k in store.redis.scan_iter(match=f"{sandbox_keys.PREFIX}:*")}


async def test_seeding_again_duplicates_and_resets_nothing(store: Store) -> None:
    async with sandbox(store) as api:
        mine = await order(api)
        await ok(await api.post("/transactions/TRXDEMO0002/pay"))
        ticket = await ok(await api.post("/complaints", json=complaint_body()), 201)
        del ticket["existing"]  # a field of the answer to opening it, not of the ticket
    before = await keys_of_sandbox(store)
    paid_before = await store.redis.hgetall(sandbox_keys.transaction("TRXDEMO0002"))
    async with sandbox(store) as api:
        assert (await ok(await api.get(f"/transactions/{mine['ref']}")))["status"] == (
            "waiting_payment"
        )
        again = await ok(await api.get("/transactions/TRXDEMO0002"))
        assert again["status"] == "token_issued"
        assert await ok(await api.get(f"/complaints/{ticket['ticket_id']}")) == ticket
        outages = await ok(await api.get("/outages", params={"area": "a"}))
        assert len(outages["outages"]) == 2
    assert await keys_of_sandbox(store) == before
    assert await store.redis.hgetall(sandbox_keys.transaction("TRXDEMO0002")) == paid_before
    assert await store.redis.zcard(sandbox_keys.transactions(BUDI_METER)) == 3


async def test_the_demo_data_comes_back_after_a_flush(store: Store, api: TestClient) -> None:
    await store.redis.flushall()
    assert (await ok(await api.get(f"/customers/{BUDI_METER}")))["name"] == "BUDI SANTOSO"
    assert (await ok(await api.get("/transactions/TRXDEMO0001")))["status"] == "token_issued"


async def test_without_seed_there_is_no_demo_data(store: Store) -> None:
    async with sandbox(store, seed=False) as api:
        await refused(await api.get(f"/customers/{BUDI_METER}"), 404, "customer_not_found")
    assert await keys_of_sandbox(store) == set()


# --- `loket sandbox pay` -------------------------------------------------------------------


async def loket(*args: str, provider_url: str) -> tuple[int, str, str]:
    """The command in a child process; the event loop keeps serving the sandbox meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.ops.cli", *args,
        cwd=PROJECT_ROOT,
        env={**os.environ, "LOKET_PROVIDER_URL": provider_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_loket_sandbox_pay_prints_the_token(api: TestClient) -> None:
    txn = await order(api)
    code, out, err = await loket(
        "sandbox", "pay", txn["ref"].lower(), provider_url=str(api.make_url("/"))
    )
    assert code == 0, err
    paid = await ok(await api.get(f"/transactions/{txn['ref']}"))
    assert f"{txn['ref']}: token_issued" in out
    assert f"token: {paid['token']}" in out


async def test_loket_sandbox_pay_explains_failures(api: TestClient) -> None:
    code, _, err = await loket("sandbox", "pay", "TRXNOTHERE1", provider_url=str(api.make_url("/")))
    assert code == 2 and "transaction_not_found" in err
    down = f"http://127.0.0.1:{free_port()}"
    code, _, err = await loket("sandbox", "pay", "TRXNOTHERE1", provider_url=down)
    assert code == 2 and f"cannot reach the sandbox provider at {down}" in err


# --- payment callbacks ---------------------------------------------------------------------

SECRET = "sandbox-callback-secret"
CONVERSATION = "telegram:777001"


@dataclass
class Recorder:
    """A callback receiver: records each POST's raw body and signature; answers `statuses`
    first (in order), then 200."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    calls: list[tuple[bytes, str]] = field(default_factory=list)

    async def receive(self, request: web.Request) -> web.Response:
        self.calls.append((await request.read(), request.headers.get("X-Loket-Signature", "")))
        return web.json_response({}, status=self.statuses.pop(0) if self.statuses else 200)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw, _ in self.calls]

    async def wait(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{len(self.calls)} callbacks"
            await asyncio.sleep(0.02)
        return self.events()


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    found = Recorder()
    app = web.Application()
    app.router.add_post("/hook", found.receive)
    async with TestServer(app) as server:
        found.url = str(server.make_url("/hook"))
        yield found


def signed(raw: bytes, signature: str) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


async def test_an_order_keeps_its_reference(api: TestClient) -> None:
    txn = await order(api, reference=CONVERSATION)
    assert txn["reference"] == CONVERSATION
    assert (await ok(await api.get(f"/transactions/{txn['ref']}")))["reference"] == CONVERSATION
    assert (await order(api))["reference"] is None


@pytest.mark.parametrize("reference", ["", "x" * 101, "telegram:1\n", 777001, ["a"]])
async def test_a_bad_reference_is_400(api: TestClient, reference: object) -> None:
    resp = await api.post("/tokens/orders", json=token_body(reference=reference))
    await refused(resp, 400, "invalid_reference")


async def test_a_paid_order_is_announced_signed(store: Store, recorder: Recorder) -> None:
    async with sandbox(store, callbacks=recorder) as api:
        txn = await order(api, reference=CONVERSATION)
        paid = await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
        [event] = await recorder.wait()
    raw, signature = recorder.calls[0]
    assert signed(raw, signature)
    assert event == {
        "event": "payment.settled",
        "ref": txn["ref"],
        "status": "token_issued",
        "token": paid["token"],
        "amount": 50_000,
        "reference": CONVERSATION,
        "paid_at": paid["paid_at"],
    }
    assert TOKEN.fullmatch(event["token"])


async def test_paying_twice_announces_once(store: Store, recorder: Recorder) -> None:
    async with sandbox(store, callbacks=recorder) as api:
        txn = await order(api, reference=CONVERSATION)
        await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
        await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
        await ok(await api.get(f"/transactions/{txn['ref']}"))
        await recorder.wait()
        await asyncio.sleep(0.3)
    assert len(recorder.calls) == 1


async def test_an_order_without_a_reference_is_not_announced(
    store: Store, recorder: Recorder
) -> None:
    async with sandbox(store, pay_delay=0.1, callbacks=recorder) as api:
        txn = await order(api)
        await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
        await asyncio.sleep(0.3)
    assert recorder.calls == []


async def test_the_pay_delay_announces_by_itself(store: Store, recorder: Recorder) -> None:
    async with sandbox(store, pay_delay=0.2, callbacks=recorder) as api:
        txn = await order(api, reference=CONVERSATION)
        [event] = await recorder.wait(timeout=3)  # nobody reads the order meanwhile
        found = await ok(await api.get(f"/transactions/{txn['ref']}"))
        await asyncio.sleep(0.2)
    assert event["ref"] == txn["ref"] and event["token"] == found["token"]
    assert found["status"] == "token_issued" and len(recorder.calls) == 1
    delay = parse_time(found["paid_at"]) - parse_time(txn["created_at"])
    assert timedelta(0) <= delay <= timedelta(seconds=1)


async def test_a_payment_due_while_stopped_is_announced_on_the_next_read(
    store: Store, recorder: Recorder
) -> None:
    async with sandbox(store, pay_delay=0.2, callbacks=recorder) as api:
        txn = await order(api, reference=CONVERSATION)
    await asyncio.sleep(0.4)  # the timer was cancelled at shutdown
    assert recorder.calls == []
    async with sandbox(store, pay_delay=0.2, callbacks=recorder) as api:
        found = await ok(await api.get(f"/transactions/{txn['ref']}"))
        [event] = await recorder.wait()
    assert event["token"] == found["token"] and found["status"] == "token_issued"


async def test_a_failing_receiver_is_retried_and_the_payer_never_sees_it(
    store: Store, recorder: Recorder
) -> None:
    recorder.statuses = [503, 500]
    async with sandbox(store, callbacks=recorder) as api:
        txn = await order(api, reference=CONVERSATION)
        paid = await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
        events = await recorder.wait(3)
    assert paid["status"] == "token_issued"
    assert [e["ref"] for e in events] == [txn["ref"]] * 3
    assert all(signed(raw, signature) for raw, signature in recorder.calls)


async def test_a_refusing_receiver_is_not_asked_again(store: Store, recorder: Recorder) -> None:
    recorder.statuses = [403]
    async with sandbox(store, callbacks=recorder) as api:
        txn = await order(api, reference=CONVERSATION)
        await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
        await recorder.wait()
        await asyncio.sleep(0.3)
    assert len(recorder.calls) == 1


async def test_an_unreachable_receiver_does_not_fail_the_payment(store: Store) -> None:
    gone = Recorder(url=f"http://127.0.0.1:{free_port()}/hook")
    async with sandbox(store, callbacks=gone) as api:
        txn = await order(api, reference=CONVERSATION)
        paid = await ok(await api.post(f"/transactions/{txn['ref']}/pay"))
    assert paid["status"] == "token_issued"


def test_a_callback_url_needs_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], redis_url: str
) -> None:
    monkeypatch.delenv("LOKET_PROVIDER_SECRET", raising=False)
    with pytest.raises(SystemExit) as exc:
        sandbox_main(["--redis-url", redis_url, "--callback-url", "http://127.0.0.1:1/hook"])
    assert exc.value.code == 2 and "LOKET_PROVIDER_SECRET" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sandbox_main(
            ["--redis-url", redis_url, "--callback-url", "ftp://x", "--callback-secret", "s"]
        )
