"""Provider payment callbacks: signed event in, the token out on the customer's own channel.

The gateway is the production app (Telegram on a local Bot API server, Rasa unreachable: no
turn is taken here); the sandbox provider is the real sandbox app calling the real gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import sandbox
from bot.app import OUTBOX, create_app
from bot.core.channel import DeliveryState
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from bot.gateway.payments import PATH, SIGNATURE_HEADER
from bot.ops.processes import free_port
from handoff import Entry, Role, Transcript, keys
from handoff.conversations import Conversations
from handoff.store import Store
from tests.support import telegram_api as tg
from tests.support.chat import SECRET_HEADER, open_chat
from tests.support.waiting import eventually

SECRET = "provider-secret-for-tests"
TOKEN = "5821 0934 7716 2048 3395"
GROUPED = "5821-0934-7716-2048-3395"
BUDI_METER = "14234567890"  # prepaid, in the sandbox's demo data
TELEGRAM = ConversationKey("telegram", str(tg.CHAT))


def settled(reference: str = TELEGRAM.id, **overrides: object) -> dict[str, Any]:
    """A `payment.settled` event as the provider sends it."""
    body: dict[str, Any] = {
        "event": "payment.settled",
        "ref": "TRXAB12CD34",
        "status": "token_issued",
        "token": TOKEN,
        "amount": 50_000,
        "reference": reference,
        "paid_at": "2024-05-01T03:04:05+00:00",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def sign(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def call(
    client: TestClient, body: object, *, signature: str | None = "auto"
) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = sign(raw) if signature == "auto" else signature
    resp = await client.post(PATH, data=raw, headers=headers)
    return resp.status, await resp.json()


@pytest.fixture
async def telegram() -> AsyncIterator[tg.FakeTelegram]:
    api = tg.FakeTelegram()
    await api.start()
    yield api
    await api.close()


def gateway_settings(redis_url: str, api: tg.FakeTelegram, tmp: Path, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "rasa_urls": (f"http://127.0.0.1:{free_port()}",),  # nothing listens: no turn needed
        "data_dir": tmp,
        "provider_secret": SECRET,
        "telegram_token": api.token,
        "telegram_api_url": api.url,
    }
    values.update(kw)
    return Settings(**values)


@pytest.fixture
async def gateway(
    redis_url: str, telegram: tg.FakeTelegram, tmp_path: Path
) -> AsyncIterator[TestClient]:
    app = create_app(gateway_settings(redis_url, telegram, tmp_path))
    async with TestClient(TestServer(app)) as client:
        yield client


async def customer_wrote(store: Store, key: ConversationKey, language: str = "id") -> None:
    await Transcript(store).append(key, [Entry(Role.CUSTOMER, "mau beli token")])
    await Conversations(store).remember(key, "", language)


async def bot_lines(store: Store, key: ConversationKey) -> list[Entry]:
    return [e for e in await Transcript(store).read(key) if e.role is Role.BOT]


def texts_to(api: tg.FakeTelegram, chat: int = tg.CHAT) -> list[str]:
    return [m["text"] for m in api.sent if m["chat"]["id"] == chat]


# --- the gateway's route ---------------------------------------------------------------------


async def test_a_signed_callback_sends_the_token_on_telegram(
    gateway: TestClient, store: Store, telegram: tg.FakeTelegram
) -> None:
    await customer_wrote(store, TELEGRAM)
    assert await call(gateway, settled()) == (200, {"delivered": True})
    [line] = await bot_lines(store, TELEGRAM)
    assert line.text == (
        "Pembayaran TRXAB12CD34 untuk token Rp50.000 sudah kami terima. Token listrik Anda: "
        f"{GROUPED}. Masukkan 20 angka ini ke meteran Anda."
    )
    assert line.meta == {"payment": "TRXAB12CD34"}
    queued = [f for _, f in await store.redis.xrange(keys.outbox())]
    assert queued == [{"conversation": TELEGRAM.id, "entry": line.id}]

    async def sent() -> bool:
        return any(GROUPED in t for t in texts_to(telegram))

    await eventually(sent)
    outbox = gateway.server.app[OUTBOX]

    async def recorded() -> bool:
        delivery = await outbox.delivery(TELEGRAM, line.id)
        return delivery is not None and delivery.state is DeliveryState.SENT

    await eventually(recorded)


async def test_web_chat_shows_the_token_in_its_history_in_english(
    gateway: TestClient, store: Store
) -> None:
    key = ConversationKey("webchat", "buyer-1")
    secret = await open_chat(gateway, "buyer-1")
    await customer_wrote(store, key, language="en")
    assert await call(gateway, settled(key.id, amount=100_000)) == (200, {"delivered": True})
    resp = await gateway.get(
        "/chat/api/messages", params={"chat_id": "buyer-1"}, headers={SECRET_HEADER: secret}
    )
    messages = (await resp.json())["messages"]
    assert [m["role"] for m in messages] == ["customer", "bot"]
    assert messages[1]["text"] == (
        "We have received your payment TRXAB12CD34 for a Rp100,000 token. Your electricity "
        f"token: {GROUPED}. Enter these 20 digits on your meter."
    )
    delivery = await gateway.server.app[OUTBOX].delivery(key, messages[1]["id"])
    assert delivery is not None and delivery.state is DeliveryState.SENT


async def test_the_same_payment_twice_is_told_once(gateway: TestClient, store: Store) -> None:
    await customer_wrote(store, TELEGRAM)
    assert await call(gateway, settled()) == (200, {"delivered": True})
    assert await call(gateway, settled()) == (200, {"duplicate": True})
    assert len(await bot_lines(store, TELEGRAM)) == 1
    assert await call(gateway, settled(ref="TRXOTHER0001")) == (200, {"delivered": True})
    assert len(await bot_lines(store, TELEGRAM)) == 2


@pytest.mark.parametrize(
    ("signature", "status"),
    [
        (None, 401),
        ("", 401),
        (sign(b"{}"), 403),  # signs another body
        (sign(json.dumps(settled()).encode(), "another-secret"), 403),
        ("sha256=not-hex", 403),
        ("sha256=ünïcode", 403),
    ],
)
async def test_an_unsigned_or_wrongly_signed_callback_leaves_no_trace(
    gateway: TestClient, store: Store, signature: str | None, status: int
) -> None:
    await customer_wrote(store, TELEGRAM)
    code, body = await call(gateway, settled(), signature=signature)
    assert code == status and SIGNATURE_HEADER in body["error"]
    assert await bot_lines(store, TELEGRAM) == []
    assert not await store.redis.exists(keys.payment_seen("TRXAB12CD34"))


async def test_without_a_configured_secret_every_callback_is_refused(
    redis_url: str, telegram: tg.FakeTelegram, tmp_path: Path, store: Store
) -> None:
    await customer_wrote(store, TELEGRAM)
    app = create_app(gateway_settings(redis_url, telegram, tmp_path, provider_secret=""))
    async with TestClient(TestServer(app)) as client:
        raw = json.dumps(settled()).encode()
        code, _ = await call(client, raw, signature=sign(raw, ""))
    assert code == 403
    assert await bot_lines(store, TELEGRAM) == []


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b"[1, 2]", "JSON object"),
        (settled(ref=None), "ref"),
        (settled(status=None), "status"),
        (settled(event=7), "event"),
        (settled(ref="TRX 1; DROP"), "ref"),
        (settled(reference=None), "reference"),
        (settled(amount="50000"), "amount"),
        (settled(amount=True), "amount"),
        (settled(token="1234"), "token"),
        (settled(token="5821-0934-7716-2048-339X"), "token"),
    ],
)
async def test_a_malformed_event_is_400_and_writes_nothing(
    gateway: TestClient, store: Store, body: object, named: str
) -> None:
    await customer_wrote(store, TELEGRAM)
    code, answer = await call(gateway, body)
    assert code == 400 and named in answer["error"], answer
    assert await bot_lines(store, TELEGRAM) == []


@pytest.mark.parametrize("reference", ["no-colon-here", "telegram:", "bad channel!:1"])
async def test_a_reference_that_is_no_conversation_id_is_422(
    gateway: TestClient, store: Store, reference: str
) -> None:
    code, answer = await call(gateway, settled(reference))
    assert code == 422 and "conversation id" in answer["error"]
    assert not await store.redis.exists(keys.payment_seen("TRXAB12CD34"))


async def test_a_conversation_this_gateway_never_had_is_422(
    gateway: TestClient, store: Store
) -> None:
    stranger = ConversationKey("telegram", "424242")
    code, answer = await call(gateway, settled(stranger.id))
    assert code == 422 and stranger.id in answer["error"]
    assert await Transcript(store).length(stranger) == 0
    assert await store.redis.xlen(keys.outbox()) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "waiting_payment"},
        {"status": "expired"},
        {"event": "payment.refunded"},
        {"status": "paid", "token": None},
    ],
)
async def test_events_without_a_token_to_give_are_acknowledged_and_ignored(
    gateway: TestClient, store: Store, overrides: dict[str, object]
) -> None:
    await customer_wrote(store, TELEGRAM)
    assert await call(gateway, settled(**overrides)) == (200, {"ignored": True})
    assert await bot_lines(store, TELEGRAM) == []


# --- the sandbox provider calling the gateway ------------------------------------------------


async def test_a_sandbox_payment_reaches_the_customer_on_telegram(
    gateway: TestClient, store: Store, telegram: tg.FakeTelegram
) -> None:
    """What `loket run` wires: the sandbox's callback URL is the gateway's route."""
    await customer_wrote(store, TELEGRAM)
    app = sandbox.create_app(
        store, pay_delay=0, seed=True,
        callback_url=str(gateway.make_url(PATH)), callback_secret=SECRET,
    )  # fmt: skip
    async with TestClient(TestServer(app)) as provider:
        body = {"meter_number": BUDI_METER, "amount": 50_000, "reference": TELEGRAM.id}
        order = await (await provider.post("/tokens/orders", json=body)).json()
        paid = await (await provider.post(f"/transactions/{order['ref']}/pay")).json()

        async def told() -> bool:
            return any(paid["token"] in t and order["ref"] in t for t in texts_to(telegram))

        await eventually(told)
        await (await provider.post(f"/transactions/{order['ref']}/pay")).json()
        await asyncio.sleep(0.3)
    assert len(await bot_lines(store, TELEGRAM)) == 1
    assert sum(paid["token"] in t for t in texts_to(telegram)) == 1


# --- end to end: a token bought in the web chat, paid, delivered -------------------------------
