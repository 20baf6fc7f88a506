"""No dead ends: what the actions offer for a bare value, a missing one, or a request they
cannot do, and how a second report for the same place is recognised."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.bill import ValidateBillForm
from actions.complaint import asks_about_outage, opening_message, same_place
from actions.offers import ActionCannotHelp, ActionOfferForValue, ActionWithoutValue


def tracker(
    text: str,
    intent: str,
    entities: dict[str, str] | None = None,
    slots: dict[str, Any] | None = None,
    form: str | None = None,
    ranking: tuple[str, ...] = (),
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "intent_ranking": [{"name": n, "confidence": 0.1} for n in ranking],
    }
    return Tracker(
        "webchat:t1", {"language": "id", **(slots or {})}, message, [], False, None,
        {"name": form} if form else {}, "action_listen",
    )  # fmt: skip


async def run(action: Any, t: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, t, {})
    return dispatcher.messages


def payloads(messages: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


async def test_a_bare_meter_number_offers_every_request_carrying_the_number() -> None:
    messages = await run(
        ActionOfferForValue(), tracker("14234567890", "inform", {"meter_number": "14234567890"})
    )
    assert messages[0]["response"] == "utter_offer_for_number"
    assert messages[0]["number"] == "14234567890"
    sent = payloads(messages)
    assert [p.split("{")[0] for p in sent] == [
        "/buy_token", "/check_bill", "/check_transaction", "/report_outage",
    ]  # fmt: skip
    assert all("14234567890" in json.loads(p[p.index("{") :]).values() for p in sent)


async def test_a_bare_amount_offers_a_token_of_that_amount() -> None:
    messages = await run(ActionOfferForValue(), tracker("50rb", "inform", {"amount": "50rb"}))
    assert messages[0]["response"] == "utter_offer_for_amount"
    assert messages[0]["amount"] == "Rp50.000"
    assert payloads(messages)[0] == '/buy_token{"amount": "50000"}'


async def test_a_bare_amount_that_is_no_nominal_is_not_offered_for_sale() -> None:
    messages = await run(ActionOfferForValue(), tracker("30rb", "inform", {"amount": "30rb"}))
    assert messages[0]["response"].startswith("utter_cannot_help")


@pytest.mark.parametrize(
    ("asked", "response"),
    [
        ("transaction_query", "utter_without_transaction_ref"),
        ("customer_id", "utter_without_customer_id"),
        ("meter_number", "utter_without_meter_number"),
        ("ticket_id", "utter_without_ticket_id"),
    ],
)
async def test_a_missing_value_gets_one_that_works_instead(asked: str, response: str) -> None:
    t = tracker("lupa nomornya", "dont_know", slots={"requested_slot": asked}, form="some_form")
    messages = await run(ActionWithoutValue(), t)
    assert [m["response"] for m in messages] == [response]


async def test_a_missing_value_with_no_form_open_offers_what_needs_none() -> None:
    messages = await run(ActionWithoutValue(), tracker("lupa nomornya", "dont_know"))
    assert messages[0]["response"] == "utter_without_value" and payloads(messages)


async def test_cannot_help_names_what_it_understood_and_offers_the_closest() -> None:
    t = tracker("iya", "affirm", ranking=("affirm", "check_bill", "buy_token"))
    messages = await run(ActionCannotHelp(), t)
    assert messages[0]["response"] == "utter_cannot_help_understood"
    assert messages[0]["understood"] == "jawaban ya"
    assert payloads(messages)[:2] == ["/check_bill", "/buy_token"]
    assert len(payloads(messages)) == 3


async def test_cannot_help_then_waits_for_the_customer() -> None:
    """No rule follows the core fallback: without an explicit listen Rasa would run it again,
    ten times a turn (tests/stack/test_context.py plays it on the real Rasa)."""
    dispatcher = CollectingDispatcher()
    events = await ActionCannotHelp().run(dispatcher, tracker("iya", "affirm"), {})
    assert events == [{"event": "followup", "name": "action_listen", "timestamp": None}]
    assert len(dispatcher.messages) == 1


async def test_cannot_help_without_a_known_intent_still_offers_something() -> None:
    messages = await run(ActionCannotHelp(), tracker("hmm", "something_new"))
    assert messages[0]["response"] == "utter_cannot_help"
    assert payloads(messages) == ["/help", "/request_human"]


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("Coblong", "coblong, Bandung", True),
        ("Cimahi", "cimahi", True),
        ("Sukajadi, Bandung", "Coblong, Bandung", False),
        ("Cimahi", "Kebayoran Baru", False),
        ("", "Cimahi", False),
    ],
)
def test_same_place(first: str, second: str, same: bool) -> None:
    assert same_place(first, second) is same


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("ada gangguan ga di sukajadi?", True),
        ("apakah ada pemadaman di cimahi hari ini", True),
        ("is there an outage in Cimahi?", True),
        ("any blackouts around coblong", True),
        ("listrik mati di sukajadi", False),
        ("listrik mati, ada gangguan?", False),
        ("ada gangguan? lampu di rumah padam dari pagi", False),
        ("lapor gangguan", False),
        ("power is out in Cimahi", False),
        ("mati lampu di cimahi", False),
    ],
)
def test_a_question_about_an_outage_is_told_from_a_report(text: str, asking: bool) -> None:
    assert asks_about_outage(text) is asking


def test_the_report_began_with_the_message_before_the_forms_activation() -> None:
    events = [
        {"event": "user", "text": "halo"},
        {"event": "user", "text": "ada gangguan ga?"},
        {"event": "active_loop", "name": "complaint_form"},
        {"event": "user", "text": "sukajadi"},
    ]
    t = Tracker("webchat:t1", {}, {"text": "sukajadi"}, events, False, None,
                {"name": "complaint_form"}, "action_listen")  # fmt: skip
    assert opening_message(t) == "ada gangguan ga?"
    assert opening_message(tracker("sukajadi", "inform")) == "sukajadi"


@pytest.mark.parametrize(
    ("text", "entities", "form", "requested", "extracted"),
    [
        # A bill asked for with a meter number: the number is used, not asked for again.
        ("tagihan 86011122233", {"meter_number": "86011122233"}, None, None, "86011122233"),
        # The id itself is Rasa's to fill from its entity.
        ("tagihan 532100556677", {"customer_id": "532100556677"}, None, None, None),
        # Asked for the id, a number typed with spaces.
        ("5321 0055 6677", {}, "bill_form", "customer_id", "532100556677"),
        # A bill asked for with no number: nothing to take.
        ("cek tagihan", {}, None, None, None),
    ],
)
async def test_the_bill_form_takes_the_number_it_was_given(
    text: str, entities: dict[str, str], form: str | None, requested: str | None,
    extracted: str | None,
) -> None:  # fmt: skip
    slots = {"requested_slot": requested} if requested else {}
    got = await ValidateBillForm().extract_customer_id(
        CollectingDispatcher(), tracker(text, "check_bill", entities, slots, form), {}
    )
    assert got == ({"customer_id": extracted} if extracted else {})
