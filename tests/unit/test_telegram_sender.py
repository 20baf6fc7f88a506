"""TelegramSender against a local Bot API server: wire format, splits, failure classes, media."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.core.channel import FailureCode, MediaUnavailable, SendFailed
from bot.core.messages import Button, ConversationKey, Outbound, Template
from bot.core.settings import Settings
from bot.ops.processes import free_port
from channels.telegram import TelegramSender, make_bot
from tests.support.telegram_api import CHAT, TOKEN, FakeTelegram

KEY = ConversationKey("telegram", str(CHAT))


async def bot_for(url: str) -> Bot:
    bot = make_bot(Settings(telegram_token=TOKEN, telegram_api_url=url))
    await bot.initialize()
    return bot


@pytest.fixture
async def sender(bot_api: FakeTelegram) -> AsyncIterator[TelegramSender]:
    bot = await bot_for(bot_api.url)
    yield TelegramSender(bot)
    await bot.shutdown()


def outbound(text: str = "Halo! Ada yang bisa dibantu?", *buttons: Button) -> Outbound:
    return Outbound(KEY, text, tuple(buttons))


async def test_send_posts_text_and_inline_keyboard_in_bot_api_format(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    long_payload = '/inform{"amount": "100000", "meter_number": "12345678901", "x": "abcdef"}'
    sent = await sender.send(
        outbound("Pilih nominal:", Button("Rp50.000", "/inform{\"amount\": \"50000\"}"),
                 Button("Rp100.000 meter 12345678901", long_payload))
    )  # fmt: skip
    (call,) = bot_api.calls_to("sendMessage")
    assert call["chat_id"] == str(CHAT)
    assert call["text"] == "Pilih nominal:"
    assert call["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Rp50.000", "callback_data": '/inform{"amount": "50000"}'}],
            [{"text": "Rp100.000 meter 12345678901",
              "callback_data": "~Rp100.000 meter 12345678901"}],
        ]
    }  # fmt: skip
    assert sent.message_ids == (str(bot_api.sent[0]["message_id"]),)
    assert sender.channel == "telegram" and sender.reply_window is None


async def test_long_message_is_split_and_all_ids_returned(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    paragraphs = "\n\n".join(f"Paragraf {i}: " + "informasi " * 150 for i in range(8))
    sent = await sender.send(outbound(paragraphs, Button("Ya", "/affirm")))
    calls = bot_api.calls_to("sendMessage")
    assert len(calls) == len(sent.message_ids) >= 3
    assert sent.message_ids == tuple(str(m["message_id"]) for m in bot_api.sent)
    assert all(len(c["text"]) <= 4096 for c in calls)
    assert all(c["text"].startswith("Paragraf") for c in calls)  # cut at paragraph breaks
    assert [("reply_markup" in c) for c in calls] == [False] * (len(calls) - 1) + [True]


async def test_rate_limit_is_temporary_with_telegrams_wait(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    bot_api.fail("sendMessage", status=429, description="Too Many Requests: retry after 3",
             retry_after=3)  # fmt: skip
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert failed.value.permanent is False
    assert failed.value.retry_after == 3.0
    await sender.send(outbound())  # the next attempt goes through
    assert len(bot_api.sent) == 1


async def test_blocked_bot_is_a_permanent_failure_an_agent_understands(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    bot_api.blocked.add(CHAT)
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert failed.value.permanent is True
    assert failed.value.reason == "the customer blocked the bot"


async def test_deactivated_user_and_missing_chat_are_permanent(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    bot_api.fail("sendMessage", status=403, description="Forbidden: user is deactivated")
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert (failed.value.permanent, failed.value.reason) == (
        True, "the customer's Telegram account was deleted")  # fmt: skip
    bot_api.missing.add(CHAT)
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert failed.value.permanent is True
    assert "no longer exists" in failed.value.reason


async def test_server_errors_are_temporary(bot_api: FakeTelegram, sender: TelegramSender) -> None:
    bot_api.fail("sendMessage", status=500, description="Internal Server Error")
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert failed.value.permanent is False
    assert failed.value.retry_after is None
    bot_api.fail("sendMessage", status=502, description="Bad Gateway")
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert failed.value.permanent is False


async def test_unreachable_api_is_temporary() -> None:
    bot = make_bot(Settings(telegram_token=TOKEN,
                            telegram_api_url=f"http://127.0.0.1:{free_port()}"))  # fmt: skip
    try:
        with pytest.raises(SendFailed) as failed:
            await TelegramSender(bot).send(outbound())
        assert failed.value.permanent is False
        assert TOKEN not in failed.value.reason
    finally:
        await bot.shutdown()


async def test_empty_text_fails_permanently_without_calling_telegram(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound("  "))
    assert failed.value.permanent is True
    assert bot_api.calls_to("sendMessage") == []


async def test_fetch_media_downloads_the_file_with_its_type(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    jpeg = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
    bot_api.add_file("AgACAgPhoto", "photos/file_7.jpg", jpeg)
    media = await sender.fetch_media("AgACAgPhoto")
    assert (media.content, media.content_type, media.filename) == (
        jpeg, "image/jpeg", "file_7.jpg")  # fmt: skip
    assert bot_api.calls_to("getFile") == [{"file_id": "AgACAgPhoto"}]


async def test_fetch_media_of_unknown_or_expired_files_is_unavailable(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    with pytest.raises(MediaUnavailable, match="Telegram cannot hand over"):
        await sender.fetch_media("NoSuchFile")
    bot_api.add_file("Gone1", "voice/file_1.oga", b"ogg")
    bot_api.expired.add("voice/file_1.oga")  # getFile answers, the download link is dead
    with pytest.raises(MediaUnavailable, match="downloading the file failed"):
        await sender.fetch_media("Gone1")
    with pytest.raises(MediaUnavailable):
        await sender.fetch_media("../../etc/passwd")
    assert [c["file_id"] for c in bot_api.calls_to("getFile")] == ["NoSuchFile", "Gone1"]


async def test_fetch_media_refuses_a_path_outside_the_file_url(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    bot_api.add_file("Local1", "/etc/hostname", b"")  # a --local Bot API server's absolute path
    with pytest.raises(MediaUnavailable, match="no downloadable path"):
        await sender.fetch_media("Local1")


async def test_typing_sends_the_typing_chat_action(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    await sender.typing(KEY)
    assert bot_api.calls_to("sendChatAction") == [{"chat_id": str(CHAT), "action": "typing"}]
    bot_api.blocked.add(CHAT)
    with pytest.raises(SendFailed) as blocked:
        await sender.typing(KEY)
    assert blocked.value.permanent and blocked.value.code is FailureCode.BLOCKED
    await sender.mark_read(KEY, "500")  # Telegram shows customers no read receipts from bots
    assert [c.method for c in bot_api.calls] == ["getMe", "sendChatAction", "sendChatAction"]


async def test_a_template_goes_to_telegram_as_its_text(
    bot_api: FakeTelegram, sender: TelegramSender
) -> None:
    message = Outbound(KEY, "Halo, kami siap membantu lagi.", template=Template("reopen", "id"))
    await sender.send(message)
    assert [m["text"] for m in bot_api.sent] == ["Halo, kami siap membantu lagi."]
