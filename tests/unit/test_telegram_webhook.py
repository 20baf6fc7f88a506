"""Telegram's webhook mode: registration at start, secret check, persist-then-200, answers."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import MAX_BODY, errors_middleware
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.ops.processes import free_port
from channels.telegram import WEBHOOK_PATH, install, webhook_secret
from channels.telegram import channel as telegram_channel
from handoff.errors import StoreUnavailable
from tests.support.telegram_api import (
    CHAT,
    TOKEN,
    FakeTelegram,
    Recorder,
    callback_update,
    message_update,
    no_receipt,
)

Start = Callable[..., Awaitable[TestClient]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def start(bot_api: FakeTelegram) -> AsyncIterator[Start]:
    """Starts a gateway-like app (the real error middleware) with Telegram installed."""
    clients: list[TestClient] = []

    async def run(accept: Recorder, *, secret: str = "", base: str | None = None) -> TestClient:
        port = free_port()
        app = web.Application(client_max_size=MAX_BODY, middlewares=[errors_middleware])
        settings = Settings(
            telegram_token=TOKEN,
            telegram_api_url=bot_api.url,
            telegram_secret=secret,
            telegram_webhook_url=base or f"http://127.0.0.1:{port}",
        )
        assert install(app, settings, accept, no_receipt) is not None
        client = TestClient(TestServer(app, port=port))
        clients.append(client)
        await client.start_server()
        return client

    yield run
    for client in clients:
        await client.close()


async def post(client: TestClient, body: object, secret: str | None = None) -> int:
    headers = {SECRET_HEADER: secret or webhook_secret(TOKEN, "")}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp = await client.post(WEBHOOK_PATH, data=data, headers=headers)
    return resp.status


async def test_start_registers_the_webhook_with_a_derived_secret(
    bot_api: FakeTelegram, start: Start
) -> None:
    client = await start(Recorder())
    assert [c.method for c in bot_api.calls][:2] == ["getMe", "setWebhook"]
    assert bot_api.webhook is not None
    assert bot_api.webhook["url"] == f"http://127.0.0.1:{client.port}{WEBHOOK_PATH}"
    assert bot_api.webhook["secret_token"] == webhook_secret(TOKEN, "")
    assert bot_api.webhook["allowed_updates"] == ["message", "callback_query"]


async def test_configured_secret_is_registered_and_required(
    bot_api: FakeTelegram, start: Start
) -> None:
    accept = Recorder()
    client = await start(accept, secret="shared-by-all-replicas_1")
    assert (
        bot_api.webhook is not None
        and bot_api.webhook["secret_token"] == "shared-by-all-replicas_1"
    )
    assert await post(client, message_update() | {"update_id": 1}) == 403  # the derived one
    assert (
        await post(client, message_update() | {"update_id": 1}, "shared-by-all-replicas_1") == 200
    )
    assert [i.message_id for i in accept.seen] == ["1"]


async def test_update_from_telegram_reaches_accept_before_the_200(
    bot_api: FakeTelegram, start: Start
) -> None:
    accept = Recorder(bot_api)
    await start(accept)
    assert (
        await bot_api.deliver(message_update("udh bayar tp token blm masuk") | {"update_id": 501})
        == 200
    )
    (inbound,) = accept.seen
    assert inbound.conversation.id == f"telegram:{CHAT}"
    assert (inbound.text, inbound.message_id) == ("udh bayar tp token blm masuk", "501")


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
async def test_wrong_or_missing_secret_is_refused_and_nothing_stored(
    bot_api: FakeTelegram, start: Start, secret: str
) -> None:
    accept = Recorder()
    await start(accept)
    assert await bot_api.deliver(message_update(), secret=secret) == 403
    assert accept.seen == []


async def test_duplicate_delivery_passes_the_same_update_id(start: Start) -> None:
    accept = Recorder()
    client = await start(accept)
    update = message_update("halo") | {"update_id": 7}
    assert await post(client, update) == 200
    assert await post(client, update) == 200  # Telegram retried: accept deduplicates
    assert [i.message_id for i in accept.seen] == ["7", "7"]


async def test_pressed_button_is_accepted_then_its_query_answered(
    bot_api: FakeTelegram, start: Start
) -> None:
    accept = Recorder(bot_api)
    await start(accept)
    update = callback_update("/affirm", buttons=(("Ya", "/affirm"), ("Tidak", "/deny")),
                             query_id="cbq-1")  # fmt: skip
    assert await bot_api.deliver(update) == 200
    (inbound,) = accept.seen
    assert (inbound.text, inbound.payload) == ("Ya", "/affirm")
    assert bot_api.calls_to("answerCallbackQuery") == [{"callback_query_id": "cbq-1"}]
    answered_at = next(i for i, c in enumerate(bot_api.calls) if c.method == "answerCallbackQuery")
    assert accept.api_calls_at_accept == [answered_at]  # accept came first


async def test_failed_callback_answer_does_not_fail_the_update(
    bot_api: FakeTelegram, start: Start
) -> None:
    accept = Recorder()
    await start(accept)
    bot_api.fail("answerCallbackQuery", status=400, description="Bad Request: query is too old")
    assert await bot_api.deliver(callback_update("/affirm")) == 200
    assert len(accept.seen) == 1


async def test_storage_down_answers_503_so_telegram_retries(
    bot_api: FakeTelegram, start: Start
) -> None:
    accept = Recorder()
    await start(accept)
    accept.error = StoreUnavailable("redis down")
    assert await bot_api.deliver(callback_update("/affirm", query_id="cbq-2")) == 503
    assert bot_api.calls_to("answerCallbackQuery") == []
    accept.error = None
    assert await bot_api.deliver(callback_update("/affirm", query_id="cbq-2")) == 200


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 11, "edited_message": message_update("halo")["message"]},
        {"update_id": 12, "my_chat_member": {"chat": {"id": CHAT, "type": "private"}}},
        {"update_id": 13, "channel_post": {"message_id": 1, "date": 0, "text": "x",
                                           "chat": {"id": -1001, "type": "channel"}}},
        message_update("halo", chat_id=-200, chat_type="group") | {"update_id": 14},
        message_update(None, new_chat_title="x") | {"update_id": 15},
    ],
)  # fmt: skip
async def test_updates_loket_does_not_handle_get_200_and_nothing_stored(
    start: Start, update: dict[str, object]
) -> None:
    accept = Recorder()
    client = await start(accept)
    assert await post(client, update) == 200
    assert accept.seen == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"no": "update_id"}', b"\xff"])
async def test_malformed_body_is_400_and_nothing_stored(start: Start, body: bytes) -> None:
    accept = Recorder()
    client = await start(accept)
    assert await post(client, body) == 400
    assert accept.seen == []


async def test_oversized_body_is_413_with_or_without_content_length(start: Start) -> None:
    accept = Recorder()
    client = await start(accept)
    big = b'{"update_id": 1, "message": {"text": "' + b"x" * (MAX_BODY + 10) + b'"}}'
    headers = {SECRET_HEADER: webhook_secret(TOKEN, "")}
    resp = await client.post(WEBHOOK_PATH, data=io.BytesIO(big), headers=headers)
    assert resp.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for start_at in range(0, len(big), 256 * 1024):
            yield big[start_at : start_at + 256 * 1024]

    resp = await client.post(WEBHOOK_PATH, data=chunks(), headers=headers)
    assert resp.status == 413
    assert accept.seen == []


async def test_refused_webhook_url_fails_the_start_naming_the_variable(start: Start) -> None:
    with pytest.raises(ConfigError, match="LOKET_TELEGRAM_WEBHOOK_URL"):
        await start(Recorder(), base="http://loket.example.com")


async def test_rejected_token_fails_the_start_without_printing_it(
    bot_api: FakeTelegram, start: Start
) -> None:
    bot_api.token = "999:other"
    with pytest.raises(ConfigError, match="LOKET_TELEGRAM_TOKEN") as failed:
        await start(Recorder())
    assert TOKEN not in str(failed.value)


async def test_unreachable_api_at_start_retries_registration_in_the_background(
    bot_api: FakeTelegram, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_channel, "REGISTER_BACKOFF", (0.05, 0.1))
    bot_api.fail("setWebhook", 3, status=502, description="Bad Gateway")
    await start(Recorder())  # the gateway starts anyway
    for _ in range(100):
        if bot_api.webhook is not None:
            break
        await asyncio.sleep(0.05)
    assert bot_api.webhook is not None
    assert len(bot_api.calls_to("setWebhook")) == 4


def test_not_installed_without_a_token() -> None:
    app = web.Application()
    assert install(app, Settings(), Recorder(), no_receipt) is None
    assert len(app.router.routes()) == 0 and len(app.cleanup_ctx) == 0
