"""The hot path under fuzz: every parser of outside input either returns our type or raises
our BadMessage — for any bytes, any JSON, any Unicode, huge or empty.

Example counts come from the Hypothesis profile in tests/conftest.py (modest by default;
HYPOTHESIS_PROFILE=thorough for a long run).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.clients import client_address, parse_networks
from bot.core.errors import BadMessage
from bot.core.ids import is_stream_id
from bot.core.messages import MAX_TEXT_CHARS, ConversationKey, Inbound
from channels.telegram.convert import inbound_from_update, parse_update
from channels.webchat import chat_id_from_body, inbound_from_body
from channels.whatsapp.convert import read_update

# Any JSON value, nested a few levels, with Unicode keys and strings.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
texts = st.one_of(
    st.text(),
    st.text(min_size=4000, max_size=5000),  # around the 4096-character limit
    st.sampled_from(["", " ", "\n\t", "\u200b", "\x00", "\ud800", "🙂" * 3000, "a" * 4097]),
)
chat_ids = st.one_of(st.text(max_size=70), st.from_regex(r"[A-Za-z0-9_.@+-]{1,64}", fullmatch=True))


def well_formed(inbound: Inbound) -> None:
    """What every accepted message must be: non-empty text within the limit, a valid key."""
    assert inbound.text.strip() and len(inbound.text) <= MAX_TEXT_CHARS
    ConversationKey.parse(inbound.conversation.id)


def body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# Nested deeper than json.loads can recurse: a RecursionError must not escape as a 500.
deep = st.integers(min_value=900, max_value=60_000).map(lambda n: b"[" * n + b"]" * n)


@given(st.binary(max_size=2048) | json_values.map(body) | deep)
def test_telegram_bodies(raw: bytes) -> None:
    try:
        update = parse_update(raw)
        inbound = inbound_from_update(update)
    except BadMessage:
        return
    if inbound is not None:
        well_formed(inbound)


@given(
    update_id=st.integers(),
    chat=st.integers() | st.text(max_size=10),
    chat_type=st.sampled_from(["private", "group", "channel", "", "x"]),
    text=texts | st.none(),
    extra=st.dictionaries(
        st.sampled_from(
            ["photo", "caption", "sticker", "voice", "location", "document", "contact", "date"]
        ),
        json_values,
        max_size=2,
    ),
    callback=st.none() | st.fixed_dictionaries({"id": st.text(), "data": st.text()}),
)
def test_telegram_updates_shaped_like_real_ones(
    update_id: int,
    chat: Any,
    chat_type: str,
    text: str | None,
    extra: dict[str, Any],
    callback: dict[str, Any] | None,
) -> None:
    message: dict[str, Any] = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": chat_type}}
    message.update({"text": text} if text is not None else {}, **extra)
    update: dict[str, Any] = {"update_id": update_id, "message": message}
    if callback is not None:
        update = {
            "update_id": update_id,
            "callback_query": {
                **callback,
                "chat_instance": "c",
                "from": {"id": 1, "is_bot": False, "first_name": "B"},
                "message": message,
            },
        }
    try:
        inbound = inbound_from_update(parse_update(body(update)))
    except BadMessage:
        return
    if inbound is not None:
        well_formed(inbound)


@given(json_values)
def test_whatsapp_any_json(value: Any) -> None:
    try:
        update = read_update(value if isinstance(value, dict) else {"entry": value})
    except BadMessage:
        return
    for inbound in update.messages:
        well_formed(inbound)


@given(
    kind=st.sampled_from(
        [
            "text",
            "button",
            "interactive",
            "image",
            "audio",
            "location",
            "contacts",
            "sticker",
            "reaction",
            "unknown",
            "",
        ]
    ),
    sender=st.text(max_size=20) | st.integers(),
    text=texts,
    content=json_values,
    status=st.sampled_from(["sent", "delivered", "read", "failed", "x"]),
)
def test_whatsapp_bodies_shaped_like_real_ones(
    kind: str, sender: Any, text: str, content: Any, status: str
) -> None:
    message = {
        "from": sender,
        "id": "wamid.x",
        "timestamp": "1",
        "type": kind,
        kind: content,
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1"},
        "contacts": [{"wa_id": sender, "profile": {"name": text[:40]}}],
        "messages": [message],
        "statuses": [
            {"id": "wamid.y", "status": status, "recipient_id": sender, "errors": content}
        ],
    }
    try:
        update = read_update(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
            }
        )
    except BadMessage:
        return
    for inbound in update.messages:
        well_formed(inbound)


@given(
    st.binary(max_size=2048)
    | deep
    | st.fixed_dictionaries(
        {},
        optional={
            "chat_id": chat_ids | json_values,
            "text": texts | json_values,
            "payload": texts | json_values,
        },
    ).map(body)
)
def test_web_chat_bodies(raw: bytes) -> None:
    try:
        inbound = inbound_from_body(raw)
    except BadMessage:
        pass
    else:
        well_formed(inbound)
    try:
        chat_id = chat_id_from_body(raw)
    except BadMessage:
        return
    assert chat_id is None or ConversationKey("webchat", chat_id)


@given(st.text(max_size=100))
def test_ids_and_addresses_never_raise_anything_else(text: str) -> None:
    is_stream_id(text)
    with contextlib.suppress(BadMessage):
        ConversationKey.parse(text)
    client_address("10.0.0.1", text, parse_networks("10.0.0.0/8"))
    client_address(text, text, parse_networks("10.0.0.0/8"))
