"""Telegram's polling mode: getUpdates loop, offset only past accepted updates, restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot

from bot.app import errors_middleware
from bot.core.settings import Settings
from channels.telegram import install, make_bot
from channels.telegram.polling import Poller
from channels.telegram.updates import UpdateIntake
from handoff.errors import StoreUnavailable
from tests.support.telegram_api import (
    TOKEN,
    FakeTelegram,
    Recorder,
    callback_update,
    message_update,
    no_receipt,
)
from tests.support.waiting import eventually


@pytest.fixture
async def bot(bot_api: FakeTelegram) -> AsyncIterator[Bot]:
    b = make_bot(Settings(telegram_token=TOKEN, telegram_api_url=bot_api.url))
    await b.initialize()  # without it, shutdown() leaves the HTTP connections open
    yield b
    await b.shutdown()


@contextlib.asynccontextmanager
async def polling(bot: Bot, accept: Any) -> AsyncIterator[Poller]:
    """A poller with short waits, running until the block ends (then cancelled)."""
    poller = Poller(bot, UpdateIntake(bot, accept), timeout=1, backoff=0.02, max_backoff=0.05)
    task = asyncio.create_task(poller.run())
    try:
        yield poller
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def offsets(bot_api: FakeTelegram) -> list[int | None]:
    return [c.get("offset") for c in bot_api.calls_to("getUpdates")]


async def test_gateway_polls_when_no_webhook_url_is_set(bot_api: FakeTelegram) -> None:
    bot_api.webhook = {"url": "https://old.example/hook"}  # left over from a webhook deployment
    accept = Recorder()
    app = web.Application(middlewares=[errors_middleware])
    settings = Settings(telegram_token=TOKEN, telegram_api_url=bot_api.url)
    assert install(app, settings, accept, no_receipt) is not None
    server = TestServer(app)
    await server.start_server()
    try:
        first = bot_api.push(message_update("/start"))
        second = bot_api.push(message_update("mau beli token"))
        await eventually(lambda: len(accept.seen) == 2)
        assert [c.method for c in bot_api.calls][:3] == [
            "getMe",
            "deleteWebhook",
            "getUpdates",
        ]
        assert bot_api.webhook is None
        assert [(i.text, i.payload, i.message_id) for i in accept.seen] == [
            ("/start", "/greet", str(first)), ("mau beli token", None, str(second))]  # fmt: skip
        await eventually(lambda: second + 1 in offsets(bot_api))  # Telegram told: both handled
        assert bot_api.pending == []
    finally:
        await server.close()


async def test_offset_moves_only_past_accepted_updates(bot_api: FakeTelegram, bot: Bot) -> None:
    accept = Recorder()
    accept.error = StoreUnavailable("redis down")
    first = bot_api.push(message_update("satu"))
    second = bot_api.push(message_update("dua"))
    async with polling(bot, accept) as poller:
        await eventually(lambda: len(bot_api.calls_to("getUpdates")) >= 3)
        assert poller.offset is None
        assert set(offsets(bot_api)) == {None}  # asks again from the same place
        assert accept.seen == []
        accept.error = None
        await eventually(lambda: len(accept.seen) == 2)
        await eventually(lambda: second + 1 in offsets(bot_api))
    assert [i.message_id for i in accept.seen] == [str(first), str(second)]
    assert bot_api.pending == []


async def test_failure_midway_keeps_the_failed_update_and_the_rest(
    bot_api: FakeTelegram, bot: Bot
) -> None:
    class FailSecond(Recorder):
        async def __call__(self, inbound: Any) -> bool:
            if inbound.text == "dua" and not getattr(self, "failed_once", False):
                self.failed_once = True
                raise StoreUnavailable("redis blinked")
            return await super().__call__(inbound)

    accept = FailSecond()
    ids = [bot_api.push(message_update(t)) for t in ("satu", "dua", "tiga")]
    async with polling(bot, accept):
        await eventually(lambda: len(accept.seen) == 3)
    assert [i.message_id for i in accept.seen] == [str(i) for i in ids]
    assert ids[1] in offsets(bot_api)  # it asked again from the failed update


async def test_restart_does_not_deliver_handled_updates_again(
    bot_api: FakeTelegram, bot: Bot
) -> None:
    first = Recorder()
    old = bot_api.push(message_update("sebelum restart"))
    async with polling(bot, first):
        await eventually(lambda: len(first.seen) == 1)
    second = Recorder()
    async with polling(bot, second):
        new = bot_api.push(message_update("sesudah restart"))
        await eventually(lambda: len(second.seen) == 1)
        await asyncio.sleep(0.1)
    assert [i.message_id for i in second.seen] == [str(new)]
    assert old != new


async def test_crash_before_telegram_is_told_redelivers_with_the_same_id(
    bot_api: FakeTelegram, bot: Bot
) -> None:
    class ThenTelegramFails(Recorder):
        async def __call__(self, inbound: Any) -> bool:
            bot_api.fail("getUpdates", 1000, status=502, description="Bad Gateway")
            return await super().__call__(inbound)

    first = ThenTelegramFails()
    update_id = bot_api.push(message_update("halo"))
    async with polling(bot, first):
        await eventually(lambda: len(first.seen) == 1)
    bot_api.clear_failures()
    second = Recorder()
    async with polling(bot, second):
        await eventually(lambda: len(second.seen) == 1)
    # The core's accept sees the same id again and drops the duplicate.
    assert first.seen[0].message_id == second.seen[0].message_id == str(update_id)


async def test_polled_button_press_is_answered_after_accept(
    bot_api: FakeTelegram, bot: Bot
) -> None:
    accept = Recorder(bot_api)
    bot_api.push(callback_update("/deny", buttons=(("Tidak", "/deny"),), query_id="cbq-9"))
    async with polling(bot, accept):
        await eventually(lambda: len(bot_api.calls_to("answerCallbackQuery")) == 1)
    assert [(i.text, i.payload) for i in accept.seen] == [("Tidak", "/deny")]
    answered_at = next(i for i, c in enumerate(bot_api.calls) if c.method == "answerCallbackQuery")
    assert accept.api_calls_at_accept == [answered_at]  # accept came first


async def test_ignored_updates_still_move_the_offset(bot_api: FakeTelegram, bot: Bot) -> None:
    accept = Recorder()
    edited = bot_api.push({"edited_message": message_update("ralat")["message"]})
    group = bot_api.push(message_update("halo semua", chat_id=-300, chat_type="group"))
    async with polling(bot, accept):
        await eventually(lambda: group + 1 in offsets(bot_api))
    assert accept.seen == []
    assert edited + 1 == group


async def test_rate_limited_polling_waits_as_told(bot_api: FakeTelegram, bot: Bot) -> None:
    bot_api.fail("getUpdates", status=429, description="Too Many Requests: retry after 1",
             retry_after=1)  # fmt: skip
    accept = Recorder()
    bot_api.push(message_update("halo"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with polling(bot, accept):
        await eventually(lambda: len(accept.seen) == 1)
    assert loop.time() - began >= 1.0
