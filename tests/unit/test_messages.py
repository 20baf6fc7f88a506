"""Pure converters and validators: message types, the web chat body, Rasa's answer."""

from __future__ import annotations

import json

import pytest

from bot.core.errors import BadMessage, MessageTooLong
from bot.core.messages import MAX_TEXT_CHARS, Button, ConversationKey, HandoffSignal, clean_text
from bot.gateway.rasa_client import turn_from_rasa
from channels.webchat import inbound_from_body
from tests.support.builders import make_key, rasa_answer


@pytest.mark.parametrize("raw", ["", "   ", "\n\t ", "\x00\x01\x02", "\u200b\x7f"])
def test_empty_text_is_refused(raw: str) -> None:
    with pytest.raises(BadMessage, match="empty"):
        clean_text(raw)


def test_text_keeps_words_newlines_and_emoji_but_drops_control_characters() -> None:
    assert (
        clean_text("  udh bayar\x00 tp\ntoken blm masuk 😭 ") == "udh bayar tp\ntoken blm masuk 😭"
    )


def test_text_longer_than_any_channel_carries_is_too_long() -> None:
    clean_text("a" * MAX_TEXT_CHARS)
    with pytest.raises(MessageTooLong, match="4097"):
        clean_text("a" * (MAX_TEXT_CHARS + 1))


def test_conversation_id_is_channel_and_chat() -> None:
    key = ConversationKey("telegram", "12345")
    assert key.id == "telegram:12345"
    assert ConversationKey.parse("telegram:12345") == key


@pytest.mark.parametrize("chat_id", ["", "a b", "x" * 65, "a/b", "<script>"])
def test_bad_chat_ids_are_refused(chat_id: str) -> None:
    with pytest.raises(BadMessage):
        ConversationKey("webchat", chat_id)


def test_webchat_body_with_text() -> None:
    inbound = inbound_from_body(json.dumps({"chat_id": "c1", "text": " halo "}).encode())
    assert inbound.conversation == ConversationKey("webchat", "c1")
    assert inbound.text == "halo"
    assert inbound.bot_text == "halo"


def test_webchat_body_with_button_payload_sends_payload_to_bot() -> None:
    body = {"chat_id": "c1", "text": "50rb", "payload": '/inform{"amount": 50000}'}
    inbound = inbound_from_body(json.dumps(body).encode())
    assert inbound.text == "50rb"
    assert inbound.bot_text == '/inform{"amount": 50000}'


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"\xff\xfe\x00garbage", "UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"text": "halo"}', "chat_id"),
        (b'{"chat_id": "c1", "text": 5}', "string"),
        (b'{"chat_id": "c1"}', "string"),
        (b'{"chat_id": "c1", "payload": ""}', "payload"),
    ],
)
def test_webchat_bad_bodies_say_what_is_wrong(raw: bytes, error: str) -> None:
    with pytest.raises(BadMessage, match=error):
        inbound_from_body(raw)


def test_rasa_answer_becomes_a_turn() -> None:
    key = make_key()
    data = rasa_answer("Halo!", intent="greet", confidence=0.93)
    data["messages"] = [
        {"text": "Pilih nominal", "buttons": [{"title": "50rb", "payload": "/inform"}]},
        {"image": "http://example/x.png"},  # nothing we can show: dropped, not an empty reply
    ]
    turn = turn_from_rasa(key, data)
    assert [r.text for r in turn.replies] == ["Pilih nominal"]
    assert turn.replies[0].buttons == (Button("50rb", "/inform"),)
    assert turn.understanding.intent is not None
    assert turn.understanding.intent.name == "greet"
    assert turn.understanding.intent.confidence == pytest.approx(0.93)
    assert [s.name for s in turn.understanding.ranking] == ["greet", "goodbye"]
    assert turn.slots == {"language": "id"}


def test_handoff_signal_is_lifted_out_of_the_replies() -> None:
    data = rasa_answer("Maaf, sistem kami sedang tidak bisa dihubungi.")
    data["messages"].append(  # type: ignore[attr-defined]
        {"custom": {"loket_handoff": {"reason": "backend_failure", "detail": "timeout"}}}
    )
    turn = turn_from_rasa(make_key(), data)
    assert [r.text for r in turn.replies] == ["Maaf, sistem kami sedang tidak bisa dihubungi."]
    assert turn.handoff == HandoffSignal("backend_failure", "timeout")


def test_rasa_answer_without_parse_is_a_turn_without_intent() -> None:
    turn = turn_from_rasa(make_key(), {"messages": []})
    assert turn.replies == ()
    assert turn.understanding.intent is None
