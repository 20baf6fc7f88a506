"""Telegram's pure converters: updates to Inbound, Outbound to sendMessage calls, text splits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import Update

from bot.core.errors import BadMessage
from bot.core.messages import Attachment, Button, ConversationKey, Outbound
from channels.telegram import inbound_from_update, send_requests, webhook_secret
from channels.telegram.convert import callback_data, parse_update
from channels.telegram.text import split_text, utf16_len
from tests.support.telegram_api import CHAT, TOKEN, callback_update, message_update, photo

KEY = ConversationKey("telegram", str(CHAT))


def update(data: dict[str, Any], update_id: int = 42) -> Update:
    return parse_update(json.dumps({"update_id": update_id, **data}).encode())


def test_text_message_keys_the_conversation_by_chat_and_dedups_by_update_id() -> None:
    inbound = inbound_from_update(update(message_update("gmn cara beli token"), 9001))
    assert inbound is not None
    assert inbound.conversation == KEY
    assert inbound.text == "gmn cara beli token"
    assert inbound.payload is None
    assert inbound.message_id == "9001"
    assert inbound.metadata["name"] == "Budi Santoso"


@pytest.mark.parametrize(
    ("text", "payload"),
    [("/start", "/greet"), ("/start@loket_bot ref42", "/greet"), ("/help", "/help"),
     ("/unknown", None), ("/", None)],
)  # fmt: skip
def test_bot_commands_become_intent_payloads(text: str, payload: str | None) -> None:
    inbound = inbound_from_update(update(message_update(text)))
    assert inbound is not None
    assert (inbound.text, inbound.payload) == (text, payload)
    assert inbound.bot_text == (payload or text)


def test_group_chats_and_other_update_types_are_ignored() -> None:
    group = message_update("halo", chat_id=-100123, chat_type="group")
    assert inbound_from_update(update(group)) is None
    edited = {"edited_message": message_update("halo")["message"]}
    assert inbound_from_update(update(edited)) is None
    assert inbound_from_update(update({"my_chat_member": None})) is None


def test_service_message_without_content_is_ignored() -> None:
    assert inbound_from_update(update(message_update(None, new_chat_title="x"))) is None


def test_blank_text_is_a_bad_message() -> None:
    with pytest.raises(BadMessage):
        inbound_from_update(update(message_update("\u200b  ")))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (photo("PHOTO1", "meteran saya"), Attachment("photo", "PHOTO1", "meteran saya")),
        ({"voice": {"file_id": "V1", "file_unique_id": "v", "duration": 3}},
         Attachment("voice", "V1")),
        ({"sticker": {"file_id": "S1", "file_unique_id": "s", "type": "regular", "width": 512,
                      "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}},
         Attachment("sticker", "S1", "👍")),
        ({"location": {"latitude": -6.9147441, "longitude": 107.6098111}},
         Attachment("location", "", "-6.914744,107.609811")),
        ({"document": {"file_id": "D1", "file_unique_id": "d", "file_name": "tagihan.pdf"}},
         Attachment("document", "D1", "tagihan.pdf")),
        ({"video": {"file_id": "VI1", "file_unique_id": "vi", "width": 1, "height": 1,
                    "duration": 2}, "caption": "kabel"},
         Attachment("video", "VI1", "kabel")),
        ({"audio": {"file_id": "A1", "file_unique_id": "a", "duration": 9, "title": "rekaman"}},
         Attachment("audio", "A1", "rekaman")),
        ({"contact": {"phone_number": "+628123456789", "first_name": "Siti"}},
         Attachment("contact", "", "Siti +628123456789")),
    ],
)  # fmt: skip
def test_media_becomes_an_attachment_labelled_in_the_text(
    content: dict[str, Any], expected: Attachment
) -> None:
    inbound = inbound_from_update(update(message_update(None, **content)))
    assert inbound is not None
    assert inbound.attachment == expected
    assert inbound.text == expected.label


def test_location_label_reads_like_coordinates() -> None:
    loc = {"latitude": -6.91, "longitude": 107.61}
    inbound = inbound_from_update(update(message_update(None, location=loc)))
    assert inbound is not None
    assert inbound.text == "[location] -6.91,107.61"


def test_pressed_button_carries_payload_and_its_title() -> None:
    data = callback_update("/buy_token", buttons=(("Beli token", "/buy_token"), ("Lain", "/x")))
    inbound = inbound_from_update(update(data, 77))
    assert inbound is not None
    assert (inbound.text, inbound.payload, inbound.message_id) == ("Beli token", "/buy_token", "77")
    assert inbound.conversation == KEY


def test_pressed_button_without_keyboard_falls_back_to_the_payload() -> None:
    inbound = inbound_from_update(update(callback_update("/affirm")))
    assert inbound is not None
    assert (inbound.text, inbound.payload) == ("/affirm", "/affirm")


def test_button_with_a_long_payload_round_trips_as_its_title() -> None:
    long_payload = '/inform{"meter_number": "12345678901", "amount": "100000", "x": "yyyy"}'
    button = Button("Rp100.000 untuk meter 12345678901", long_payload)
    data = callback_data(button)
    assert data == "~Rp100.000 untuk meter 12345678901"
    inbound = inbound_from_update(update(callback_update(data, buttons=((button.title, data),))))
    assert inbound is not None
    assert (inbound.text, inbound.payload) == (button.title, None)


def test_callback_data_fits_telegrams_64_bytes() -> None:
    assert callback_data(Button("Ya", "/affirm")) == "/affirm"
    title = "Ä" * 80  # 2 bytes each in UTF-8
    data = callback_data(Button(title, "/x" + "y" * 70))
    assert len(data.encode()) <= 64
    assert data == "~" + "Ä" * 31
    assert callback_data(Button("Tilde", "~odd")) == "~Tilde"  # never mistaken for a title


def test_send_requests_put_the_inline_keyboard_on_the_last_part() -> None:
    outbound = Outbound(KEY, "a" * 3000 + "\n\n" + "x" * 5000, (Button("Ya", "/affirm"),))
    requests = send_requests(outbound)
    assert [len(r["text"]) for r in requests] == [3000, 4096, 904]
    assert [r["chat_id"] for r in requests] == [CHAT] * 3
    assert "reply_markup" not in requests[0] and "reply_markup" not in requests[1]
    markup = requests[-1]["reply_markup"].to_dict()
    assert markup == {"inline_keyboard": [[{"text": "Ya", "callback_data": "/affirm"}]]}


def test_empty_outbound_text_is_refused() -> None:
    with pytest.raises(BadMessage):
        send_requests(Outbound(KEY, "   "))


def test_split_prefers_paragraphs_then_lines_then_spaces() -> None:
    para = "a" * 3000
    assert split_text(f"{para}\n\n{para}") == [para, para]
    assert split_text(f"{para}\n{para} {para}") == [para, para, para]
    words = " ".join(["kata"] * 2000)  # 9999 characters, spaces only
    parts = split_text(words)
    assert all(len(p) <= 4096 and not p.startswith(" ") for p in parts)
    assert " ".join(parts) == words


def test_split_counts_utf16_units_and_never_breaks_an_emoji() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, no boundary to cut at
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == text
    assert split_text("pendek") == ["pendek"]
    assert split_text("  \n ") == []


def test_webhook_secret_is_derived_stably_and_validated() -> None:
    derived = webhook_secret(TOKEN, "")
    assert derived == webhook_secret(TOKEN, "")
    assert derived != webhook_secret(TOKEN + "x", "")
    assert len(derived) == 64 and derived.isalnum()
    assert webhook_secret(TOKEN, "my-Secret_1") == "my-Secret_1"
    with pytest.raises(Exception, match="LOKET_TELEGRAM_SECRET"):
        webhook_secret(TOKEN, "has spaces!")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'{"message": {}}', b"\xff\xfe"])
def test_malformed_bodies_are_bad_messages(raw: bytes) -> None:
    with pytest.raises(BadMessage):
        parse_update(raw)
