"""Telegram and WhatsApp end to end: real webhooks in, the real model, real sends out.

Each test runs the production app on a real port with the channel pointed at a local server
that speaks the channel's API; the bot is the trained model behind a running Rasa.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import OUTBOX, TRANSCRIPT, create_app
from bot.core.channel import DeliveryState
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from bot.ops.processes import free_port
from handoff import Entry, Role
from tests.support import telegram_api as tg
from tests.support import whatsapp_api as wa
from tests.support.waiting import eventually

APP_SECRET = "whatsapp-app-secret"


@pytest.fixture
async def telegram(settings: Settings) -> AsyncIterator[tuple[tg.FakeTelegram, TestServer]]:
    api = tg.FakeTelegram()
    await api.start()
    port = free_port()
    configured = dataclasses.replace(
        settings,
        telegram_token=api.token,
        telegram_api_url=api.url,
        telegram_webhook_url=f"http://127.0.0.1:{port}",
    )
    server = TestServer(create_app(configured), port=port)
    await server.start_server()
    yield api, server
    await server.close()
    await api.close()


@pytest.fixture
async def whatsapp(settings: Settings) -> AsyncIterator[tuple[wa.CloudApi, TestServer]]:
    api = await wa.CloudApi().start()
    configured = dataclasses.replace(
        settings,
        whatsapp_token=api.token,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token="verify-me",
        whatsapp_phone_number_id=api.phone_number_id,
        whatsapp_api_url=api.url,
    )
    server = TestServer(create_app(configured))
    await server.start_server()
    yield api, server
    await server.close()
    await api.close()


def texts_to(api: tg.FakeTelegram, chat: int = tg.CHAT) -> list[str]:
    return [m["text"] for m in api.sent if m["chat"]["id"] == chat]


async def test_a_telegram_message_is_answered_once_even_when_delivered_twice(
    telegram: tuple[tg.FakeTelegram, TestServer],
) -> None:
    api, server = telegram
    assert api.webhook is not None and api.webhook["secret_token"]  # registered at start
    update = tg.message_update("halo")
    assert await api.deliver(update) == 200
    await eventually(lambda: _some(texts_to(api)))
    assert await api.deliver(update) == 200  # Telegram's retry of the same update
    await asyncio.sleep(1.0)
    replies = texts_to(api)
    assert len(replies) == 1 and replies[0].strip()
    key = ConversationKey("telegram", str(tg.CHAT))
    lines = await server.app[TRANSCRIPT].read(key)
    assert [e.role for e in lines].count(Role.CUSTOMER) == 1


async def _some(items: list[Any]) -> bool:
    return bool(items)


async def test_telegram_handoff_silences_the_bot_and_agent_replies_go_out(
    telegram: tuple[tg.FakeTelegram, TestServer],
) -> None:
    api, server = telegram
    assert await api.deliver(tg.message_update("saya mau bicara dengan petugas")) == 200
    await eventually(lambda: _some([t for t in texts_to(api) if "antre" in t]))
    before = len(api.sent)
    assert await api.deliver(tg.message_update("halo? ada orang?")) == 200
    await asyncio.sleep(1.5)
    assert len(api.sent) == before  # a person owns it: the bot says nothing

    key = ConversationKey("telegram", str(tg.CHAT))
    outbox = server.app[OUTBOX]
    [reply_id] = await outbox.post(key, [Entry(Role.AGENT, "Halo, saya Ana dari Loket.")])
    await eventually(lambda: _some([t for t in texts_to(api) if "saya Ana" in t]))

    api.blocked.add(tg.CHAT)
    [blocked_id] = await outbox.post(key, [Entry(Role.AGENT, "Masih di sana?")])

    async def failed() -> bool:
        d = await outbox.delivery(key, blocked_id)
        return d is not None and d.state is DeliveryState.FAILED

    await eventually(failed)
    sent = await outbox.delivery(key, reply_id)
    blocked = await outbox.delivery(key, blocked_id)
    assert sent is not None and sent.state is DeliveryState.SENT
    assert blocked is not None and "blocked" in blocked.reason


async def test_a_whatsapp_message_is_answered_and_its_receipts_recorded(
    whatsapp: tuple[wa.CloudApi, TestServer],
) -> None:
    api, server = whatsapp
    body = wa.meta_json(wa.webhook(wa.messages_value(wa.text_message("halo, selamat pagi"))))
    async with aiohttp.ClientSession() as session:
        url = str(server.make_url("/channels/whatsapp/webhook"))
        for _ in range(2):  # Meta delivers at least once
            async with session.post(url, data=body, headers=wa.signed(body, APP_SECRET)) as resp:
                assert resp.status == 200
        await eventually(lambda: _some(api.sent))
        await asyncio.sleep(1.0)
        assert len(api.sent) == 1
        key = ConversationKey("whatsapp", "6281234567890")
        [reply] = [e for e in await server.app[TRANSCRIPT].read(key) if e.role is Role.BOT]
        delivery = await server.app[OUTBOX].delivery(key, reply.id)
        assert delivery is not None and delivery.state is DeliveryState.SENT
        wamid = delivery.message_ids[0]
        receipt = wa.meta_json(wa.webhook(wa.statuses_value(wa.status(wamid, "read"))))
        async with session.post(url, data=receipt, headers=wa.signed(receipt, APP_SECRET)) as r:
            assert r.status == 200
        read = await server.app[OUTBOX].delivery(key, reply.id)
        assert read is not None and read.state is DeliveryState.READ
