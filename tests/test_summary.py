"""The agent's brief, built from the transcript and the bot's slots."""

from __future__ import annotations

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
    summary = summarize(
        entries,
        slots={"meter_number": "14234567890", "requested_slot": "amount", "language": "id",
               "amount": None},
        last_action="buy_token_form",
        failed_turns=1,
    )  # fmt: skip
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
