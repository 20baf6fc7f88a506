"""What the actions show to whoever types a number: masked names, tokens, look-up limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy import (
    mask_name,
    may_look_up,
    numbers_in,
    ordered_here,
    own_tickets,
    token_tail,
)

NOW = time.time()


def tracker(events: list[dict[str, Any]], sender: str = "webchat:c1") -> Tracker:
    return Tracker(sender, {}, {}, events, False, None, {}, "action_listen")


def said(*texts: str, at: float = NOW) -> list[dict[str, Any]]:
    return [{"event": "user", "text": t, "timestamp": at} for t in texts]


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("BUDI SANTOSO", "BUDI S******"),
        ("SITI RAHAYU", "SITI R*****"),
        ("I GUSTI AYU PUTRI", "I G**** A** P****"),
        ("SUPARMAN", "SUP*****"),
        ("AB", "A*"),
        ("", ""),
    ],
)
def test_names_keep_what_the_holder_recognises(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_token_shows_only_its_last_four_digits() -> None:
    assert token_tail("5821 0934 7716 2048 3395") == "…3395"
    assert token_tail(None) == "-"


def test_the_full_token_belongs_to_the_conversation_that_ordered_it() -> None:
    assert ordered_here("webchat:c1", tracker([]))
    assert not ordered_here("telegram:42", tracker([]))
    assert not ordered_here(None, tracker([]))


def test_numbers_are_found_however_they_are_typed() -> None:
    found = numbers_in("meter 1423 4567 890, id 532100556677, tkt482913, beli 50rb")
    assert found == {"14234567890", "532100556677", "TKT482913"}
    assert numbers_in("token 12345678901234567890") == set()  # a token, not a number


def test_a_conversation_looks_up_at_most_five_different_numbers() -> None:
    earlier = said(*(f"cek {n}" for n in range(14234567890, 14234567895)))
    dispatcher = CollectingDispatcher()
    again = tracker([*earlier, *said("cek 14234567890")])
    assert may_look_up(dispatcher, again, "14234567890")  # one it already looked up
    sixth = tracker([*earlier, *said("cek 32109876543")])
    assert not may_look_up(dispatcher, sixth, "32109876543")
    assert [m["response"] for m in dispatcher.messages] == ["utter_lookup_limit"]


def test_the_look_up_window_is_a_day() -> None:
    yesterday = said(*(f"cek {n}" for n in range(14234567890, 14234567895)), at=NOW - 90_000)
    assert may_look_up(
        CollectingDispatcher(), tracker([*yesterday, *said("32109876543")]), "32109876543"
    )


def test_the_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOKET_LOOKUP_LIMIT", "1")
    first = tracker(said("14234567890", "32109876543"))
    assert not may_look_up(CollectingDispatcher(), first, "32109876543")
    monkeypatch.setenv("LOKET_LOOKUP_LIMIT", "0")  # no limit
    assert may_look_up(CollectingDispatcher(), first, "32109876543")


def test_own_tickets_are_the_ones_opened_here() -> None:
    events = [
        {"event": "action", "name": "action_open_complaint"},
        {"event": "bot", "text": "Laporan Anda tercatat"},
        {"event": "slot", "name": "ticket_id", "value": "TKT000123"},
        {"event": "action", "name": "validate_ticket_form"},
        {"event": "slot", "name": "ticket_id", "value": "TKT999999"},  # typed by the customer
    ]
    assert own_tickets(tracker(events)) == {"TKT000123"}
