"""The agent's brief, built from the transcript and the bot's slots."""

from __future__ import annotations

from bot.core.messages import IntentScore, Turn, Understanding
from handoff import Entry, Role
from handoff.summary import Summary, summarize


def test_brief_lists_requests_best_confidence_first_seen_last_and_collected_values() -> None:
    entries = [
        Entry(Role.CUSTOMER, "mau beli token"),
        Entry(Role.BOT, "Nomor meter?", intent="buy_token", confidence=0.81),
        Entry(Role.CUSTOMER, "cek tagihan"),
        Entry(Role.BOT, "ID pelanggan?", intent="check_bill", confidence=0.66),
        Entry(Role.CUSTOMER, "beli token aja"),
        Entry(Role.BOT, "Nomor meter?", intent="buy_token", confidence=0.93),
        Entry(Role.CUSTOMER, "mau ngomong sama CS"),
        Entry(Role.BOT, "Baik.", intent="request_human", confidence=0.99),
    ]
    turn = Turn(
        replies=(),
        understanding=Understanding(None),
        slots={"meter_number": "14234567890", "requested_slot": "amount", "language": "id",
               "amount": None},
        latest_action="buy_token_form",
    )  # fmt: skip
    summary = summarize(entries, turn, failed_turns=1)
    assert [(w.name, w.confidence) for w in summary.wanted] == [
        ("buy_token", 0.93),
        ("check_bill", 0.66),
    ]
    assert summary.collected == {"meter_number": "14234567890"}
    assert summary.customer_messages == 4
    assert Summary.from_json(summary.to_json()) == summary
    assert summary.one_line() == (
        "buy_token (0.93), check_bill (0.66) · meter_number=14234567890 · 1 not understood"
    )
    assert summary.facts() == [
        ("wanted", "Wanted", ["buy_token (0.93)", "check_bill (0.66)"]),
        ("collected", "Collected", ["meter_number: 14234567890"]),
        ("last_action", "Last bot action", ["buy_token_form"]),
        ("not_understood", "Not understood", ["1"]),
    ]


def test_the_api_form_carries_the_facts_and_the_one_line() -> None:
    summary = Summary(wanted=(IntentScore("check_bill", 0.5),), failed_turns=2)
    data = summary.as_json()
    assert data["wanted"] == [{"intent": "check_bill", "confidence": 0.5}]
    assert data["one_line"] == "check_bill (0.50) · 2 not understood"
    assert data["facts"][0] == {"key": "wanted", "label": "Wanted", "lines": ["check_bill (0.50)"]}
    assert data["facts"][2] == {"key": "last_action", "label": "Last bot action", "lines": []}


def test_a_brief_stored_in_the_older_pair_form_still_reads() -> None:
    stored = '{"wanted": [["buy_token", 0.8]], "collected": {}, "failed_turns": 1}'
    assert Summary.from_json(stored) == Summary(wanted=(IntentScore("buy_token", 0.8),),
                                                failed_turns=1)  # fmt: skip
