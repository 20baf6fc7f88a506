"""The WhatsApp converters: webhook JSON to Inbound and receipts, Outbound to Cloud API requests."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.channel import DeliveryState
from bot.core.messages import Attachment, Button, ConversationKey, Outbound
from channels.whatsapp.convert import StatusUpdate, outbound_requests, read_update
from channels.whatsapp.errors import OUTSIDE_WINDOW
from channels.whatsapp.layout import LIST_BUTTON, PROMPT
from tests.support.whatsapp_api import (
    PHONE_NUMBER_ID,
    invalid,
    message,
    messages_value,
    status,
    statuses_value,
    text_message,
    webhook,
)

WA_ID = "6281234567890"


def one(item: dict[str, Any]) -> Any:
    update = read_update(webhook(messages_value(item)), PHONE_NUMBER_ID)
    assert len(update.messages) == 1
    return update.messages[0]


def outbound(text: str, *buttons: tuple[str, str]) -> Outbound:
    key = ConversationKey("whatsapp", WA_ID)
    return Outbound(key, text, tuple(Button(title, payload) for title, payload in buttons))


def test_a_text_message_becomes_an_inbound_keyed_by_sender_and_wamid() -> None:
    item = text_message("gmn cara beli token?", wamid="wamid.ABC123")
    inbound = one(item)
    assert inbound.conversation == ConversationKey("whatsapp", WA_ID)
    assert inbound.text == "gmn cara beli token?"
    assert inbound.payload is None
    assert inbound.message_id == "wamid.ABC123"
    assert inbound.metadata["name"] == "Budi Santoso"
    assert inbound.metadata["timestamp"] == 1718000000


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_interactive_replies_carry_the_button_id_as_payload(kind: str) -> None:
    reply = {"id": "/buy_token", "title": "Beli token"}
    inbound = one(message("interactive", {"type": kind, kind: reply}))
    assert (inbound.payload, inbound.text) == ("/buy_token", "Beli token")
    assert inbound.bot_text == "/buy_token"


def test_a_template_quick_reply_carries_its_payload() -> None:
    inbound = one(message("button", {"payload": "/affirm", "text": "Ya"}))
    assert (inbound.payload, inbound.text) == ("/affirm", "Ya")


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("image", {"id": "111", "mime_type": "image/jpeg", "caption": "meteran"},
         Attachment("photo", "111", "meteran")),
        ("audio", {"id": "222", "mime_type": "audio/ogg; codecs=opus", "voice": True},
         Attachment("voice", "222")),
        ("audio", {"id": "333", "mime_type": "audio/mpeg"}, Attachment("audio", "333")),
        ("voice", {"id": "334", "mime_type": "audio/ogg"}, Attachment("voice", "334")),
        ("video", {"id": "444", "mime_type": "video/mp4"}, Attachment("video", "444")),
        ("document", {"id": "555", "filename": "struk.pdf", "mime_type": "application/pdf"},
         Attachment("document", "555", "struk.pdf")),
        ("sticker", {"id": "666", "mime_type": "image/webp", "animated": False},
         Attachment("sticker", "666")),
        ("location", {"latitude": -6.2, "longitude": 106.8, "name": "Kantor PLN"},
         Attachment("location", "", "Kantor PLN (-6.2, 106.8)")),
    ],
)  # fmt: skip
def test_media_and_locations_become_attachments_labelled_in_the_text(
    kind: str, content: dict[str, Any], expected: Attachment
) -> None:
    inbound = one(message(kind, content))
    assert inbound.attachment == expected
    assert inbound.text == expected.label
    assert inbound.payload is None


def test_shared_contacts_become_a_contact_attachment() -> None:
    card = {"name": {"formatted_name": "Siti Aminah"}, "phones": [{"phone": "+62 812 555 0101"}]}
    inbound = one(message("contacts", [card]))
    assert inbound.attachment == Attachment("contact", "", "Siti Aminah +62 812 555 0101")


@pytest.mark.parametrize(
    "item",
    [
        message("reaction", {"message_id": "wamid.X", "emoji": "👍"}),
        message("unsupported", {}),
        message("system", {"body": "changed number"}),
        message("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}),
        message("image", {"mime_type": "image/jpeg"}),  # no media id
        text_message("\u200b"),  # nothing visible
        text_message("halo", wa_id="not a phone!"),
    ],
)
def test_messages_loket_does_not_map_are_left_out_and_the_rest_kept(item: dict[str, Any]) -> None:
    keep = text_message("halo")
    update = read_update(webhook(messages_value(item, keep)), PHONE_NUMBER_ID)
    assert [m.message_id for m in update.messages] == [keep["id"]]


def test_other_fields_numbers_and_objects_are_ignored() -> None:
    value = messages_value(text_message("halo"))
    other_number = {**value, "metadata": {"phone_number_id": "999"}}
    assert read_update(webhook(value, "message_template_status_update")).messages == ()
    assert read_update(webhook(other_number), PHONE_NUMBER_ID).messages == ()
    assert read_update({**webhook(value), "object": "page"}).messages == ()
    assert read_update({"entry": "nonsense"}).messages == ()
    assert len(read_update(webhook(value)).messages) == 1  # no number configured: all numbers


def test_statuses_become_receipts_with_reasons_for_failures() -> None:
    window = {"code": 131047, "title": "Re-engagement message",
              "error_data": {"details": "more than 24 hours have passed"}}  # fmt: skip
    gone = {"code": 131026, "title": "Message undeliverable"}
    value = statuses_value(
        status("wamid.1", "sent"),
        status("wamid.1", "delivered"),
        status("wamid.1", "read"),
        status("wamid.2", "failed", [window]),
        status("wamid.3", "failed", [gone]),
        status("wamid.4", "deleted"),
    )
    assert read_update(webhook(value), PHONE_NUMBER_ID).statuses == (
        StatusUpdate("wamid.1", DeliveryState.SENT),
        StatusUpdate("wamid.1", DeliveryState.DELIVERED),
        StatusUpdate("wamid.1", DeliveryState.READ),
        StatusUpdate("wamid.2", DeliveryState.FAILED, OUTSIDE_WINDOW),
        StatusUpdate(
            "wamid.3",
            DeliveryState.FAILED,
            "WhatsApp refused the message: Message undeliverable (WhatsApp error 131026)",
        ),
    )


def envelope(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
            "type": kind, kind: content}  # fmt: skip


def test_plain_text_is_one_text_message() -> None:
    assert outbound_requests(outbound("Halo! Ada yang bisa dibantu?")) == [
        envelope("text", {"preview_url": False, "body": "Halo! Ada yang bisa dibantu?"})
    ]


def test_text_over_4096_characters_is_split_at_word_ends() -> None:
    words = [f"kata{i}" for i in range(1000)]  # 7889 characters
    requests = outbound_requests(outbound(" ".join(words)))
    bodies = [r["text"]["body"] for r in requests]
    assert len(bodies) == 2
    assert all(len(b) <= 4096 for b in bodies)
    assert " ".join(bodies).split() == words


def test_up_to_three_short_buttons_are_reply_buttons() -> None:
    requests = outbound_requests(outbound("Lanjut?", ("Ya", "/affirm"), ("Tidak", "/deny")))
    assert requests == [
        envelope("interactive", {
            "type": "button",
            "body": {"text": "Lanjut?"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "/affirm", "title": "Ya"}},
                {"type": "reply", "reply": {"id": "/deny", "title": "Tidak"}},
            ]},
        })
    ]  # fmt: skip


def test_four_buttons_or_a_long_title_make_a_list() -> None:
    long_title = ("Cek status pengaduan saya", "/check_complaint")
    requests = outbound_requests(outbound("Menu:", ("Beli token", "/buy"), long_title))
    assert requests == [
        envelope("interactive", {
            "type": "list",
            "body": {"text": "Menu:"},
            "action": {"button": LIST_BUTTON, "sections": [{"rows": [
                {"id": "/buy", "title": "Beli token"},
                {"id": "/check_complaint", "title": "Cek status pengaduan",
                 "description": "saya"},
            ]}]},
        })
    ]  # fmt: skip
    four = outbound("Menu:", *[(f"Pilihan {i}", f"/p{i}") for i in range(4)])
    assert outbound_requests(four)[0]["interactive"]["type"] == "list"


def test_more_than_ten_buttons_list_ten_and_name_the_rest_in_the_text() -> None:
    buttons = [(f"Area {i}", f"/area{i}") for i in range(12)]
    (request,) = outbound_requests(outbound("Pilih area:", *buttons))
    rows = request["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"/area{i}" for i in range(10)]
    assert request["interactive"]["body"]["text"] == "Pilih area:\n\n• Area 10\n• Area 11"


def test_a_body_over_1024_characters_goes_first_as_text_then_the_choices() -> None:
    text = "Syarat dan ketentuan. " * 60
    requests = outbound_requests(outbound(text, ("Setuju", "/affirm")))
    assert [r["type"] for r in requests] == ["text", "interactive"]
    assert requests[0]["text"]["body"] == text.strip()
    assert requests[1]["interactive"]["body"]["text"] == PROMPT


def test_repeated_payloads_are_offered_once() -> None:
    (request,) = outbound_requests(outbound("?", ("Ya", "/affirm"), ("Iya", "/affirm")))
    assert len(request["interactive"]["action"]["buttons"]) == 1


@pytest.mark.parametrize(
    "message_",
    [
        outbound("x" * 9000),
        outbound("y" * 1500, *[(f"Pilihan nomor {i} yang panjang sekali ya", f"/p{i}")
                               for i in range(14)]),
        outbound("", ("Ya", "/affirm")),
        outbound("ok", ("Judulnyasangatpanjangtanpaspasi", "/x" * 150)),
        outbound("ok", ("Ya", "/a"), ("Ya", "/b")),  # equal titles: not reply buttons
    ],
)  # fmt: skip
def test_every_request_is_within_the_cloud_apis_limits(message_: Outbound) -> None:
    requests = outbound_requests(message_)
    assert requests
    assert [invalid(r) for r in requests] == [""] * len(requests)
