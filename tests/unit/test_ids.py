"""Ids from outside are checked whole and in ASCII: no trailing newline, no other digits."""

from __future__ import annotations

import pytest

from bot.core.errors import BadMessage
from bot.core.hours import ServiceHours
from bot.core.ids import is_stream_id
from bot.core.messages import ConversationKey
from handoff.inbox.accounts import check_name
from handoff.inbox.canned import snippet_from_body
from handoff.inbox.errors import Invalid


@pytest.mark.parametrize(
    "good", ["0-0", "1718000000000-0", "18446744073709551615-18446744073709551615"]
)
def test_stream_ids(good: str) -> None:
    assert is_stream_id(good)


@pytest.mark.parametrize(
    "bad",
    ["", "1-1\n", "1-1 ", " 1-1", "١٢-٣", "１-１", "1-2-3", "1", "-1-1", "18446744073709551616-0",
     "99999999999999999999-0", "1-99999999999999999999"],
)  # fmt: skip
def test_not_stream_ids(bad: str) -> None:
    assert not is_stream_id(bad)


@pytest.mark.parametrize("chat_id", ["c1\n", "c1\r\n", "١٢٣", "ｃ1", "c1\u200b"])
def test_chat_ids_are_whole_and_ascii(chat_id: str) -> None:
    with pytest.raises(BadMessage):
        ConversationKey("webchat", chat_id)


def test_channel_names_are_whole() -> None:
    with pytest.raises(BadMessage):
        ConversationKey("webchat\n", "c1")


@pytest.mark.parametrize("name", ["ana\n", "ana\r\n", "ánä", "ana١"])
def test_agent_names_are_whole_and_ascii(name: str) -> None:
    with pytest.raises(Invalid):
        check_name(name)


def test_canned_keys_are_whole() -> None:
    with pytest.raises(Invalid):
        snippet_from_body("greeting\n", {"title": "Salam", "id": "Halo"})


def test_service_hours_take_ascii_digits_only() -> None:
    with pytest.raises(ValueError):
        ServiceHours.parse("mon-sat ٠٨:00-20:00", "Asia/Jakarta")
