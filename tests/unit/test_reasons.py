"""Every handoff reason is explained to every audience, from the one table."""

from __future__ import annotations

import pytest

from actions import replies
from bot.core import reasons
from bot.core.reasons import REASONS, Reason
from bot.gateway import notices


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_note_and_labels_in_both_languages(reason: Reason) -> None:
    explained = REASONS[reason]
    assert explained.note and reasons.note(reason) == f"Handed over: {explained.note}"
    assert set(explained.label) == {"id", "en"} and all(explained.label.values())
    assert set(explained.apology) in (set(), {"id", "en"})


def test_the_customer_hears_an_apology_only_when_one_is_owed() -> None:
    owed = {r for r in Reason if reasons.apology(r, "id")}
    assert owed == {
        Reason.NOT_UNDERSTOOD, Reason.FRUSTRATED, Reason.LOOPING, Reason.BOT_UNAVAILABLE
    }  # fmt: skip
    text, _ = notices.handoff_notice(
        Reason.LOOPING, "en", position=2, open_now=True, online=True, hours="mon-sat"
    )
    assert text.startswith(REASONS[Reason.LOOPING].apology["en"])


def test_an_unknown_code_is_shown_as_it_came() -> None:
    assert reasons.note("queue_full") == "Handed over: queue_full"
    assert reasons.label("queue_full", "id") == "queue_full"
    assert reasons.apology("queue_full", "en") == ""


def test_the_codes_actions_signal_are_reasons() -> None:
    """actions/ may not import bot/, so it spells its codes itself: they must stay in step."""
    signalled = {replies.BACKEND_FAILURE, replies.ASKED_FOR_HUMAN, replies.FRUSTRATED}
    assert signalled <= {r.value for r in Reason}


def test_trainers_review_the_reasons_about_understanding() -> None:
    assert {Reason.NOT_UNDERSTOOD, Reason.FRUSTRATED, Reason.LOOPING} == reasons.ABOUT_UNDERSTANDING
