"""No dead ends: what the bot offers for a bare value, a missing value, or a request it cannot do.

- a number or amount sent with no form open: what can be done with it, as buttons carrying the
  value (the next form does not ask for it again);
- a place sent on its own ("cimahi"): the outage known there, if any, and a report for it;
- "lupa nomornya" inside a form: another value that works instead, and the form goes on;
- anything the dialogue has no rule for (Rasa's core fallback): what the bot understood and
  the closest things it can do, as buttons. The gateway counts it as a turn not understood, so
  a second one in a row goes to a person.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.amounts import is_nominal, parse_amount
from actions.buttons import BUTTON_TITLES, button, payload
from actions.complaint import offer_for_place, place_name
from actions.display import digits, rupiah
from actions.message import entity
from actions.rephrase import TOPICS, likely_topics
from actions.replies import say
from actions.titles import language_of

ACTION_LISTEN = "action_listen"
NUMBER_KINDS = {
    "meter_number": {"id": "nomor meter", "en": "meter number"},
    "customer_id": {"id": "ID pelanggan", "en": "customer ID"},
}
# The response for a value the customer does not have, by the slot the form asked for.
WITHOUT = {
    "meter_number": "utter_without_meter_number",
    "transaction_query": "utter_without_transaction_ref",
    "customer_id": "utter_without_customer_id",
    "ticket_id": "utter_without_ticket_id",
}
# How each intent is named when the bot says what it understood.
UNDERSTOOD = {
    **{name: titles for name, titles in TOPICS.items()},
    "affirm": {"id": "jawaban ya", "en": "a yes"},
    "deny": {"id": "jawaban tidak", "en": "a no"},
    "cancel": {"id": "pembatalan", "en": "cancelling"},
    "inform": {"id": "sebuah nomor atau nilai", "en": "a number or a value"},
    "dont_know": {"id": "nomor yang tidak Anda punya", "en": "a number you don't have"},
    "faq": {"id": "pertanyaan umum", "en": "a common question"},
}


def number_buttons(number: str, language: str) -> list[dict[str, str]]:
    """What can be done with a meter number or customer ID (either works for every request)."""
    return [
        button("buy_token", language, meter_number=number),
        button("check_bill", language, customer_id=number),
        button("check_transaction", language, meter_number=number),
        button("report_outage", language, meter_number=number),
    ]


class ActionOfferForValue(Action):
    """A bare meter number, customer ID, place or amount, with no form open."""

    def name(self) -> str:
        return "action_offer_for_value"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        for kind in ("meter_number", "customer_id"):
            number = digits(entity(tracker, kind))
            if number:
                say(dispatcher, "utter_offer_for_number", kind=NUMBER_KINDS[kind][language],
                    number=number, buttons=number_buttons(number, language))  # fmt: skip
                return []
        area = place_name(entity(tracker, "area") or "")
        if area:
            await offer_for_place(dispatcher, area, language)
            return []
        amount = parse_amount(entity(tracker, "amount") or tracker.latest_message.get("text", ""))
        if amount and is_nominal(amount):
            shown = rupiah(amount, language)
            buy = {"title": f"{BUTTON_TITLES['buy_token'][language]} {shown}",
                   "payload": payload("buy_token", amount=str(amount))}  # fmt: skip
            say(dispatcher, "utter_offer_for_amount", amount=shown,
                buttons=[buy, button("help", language)])  # fmt: skip
            return []
        return await ActionCannotHelp().run(dispatcher, tracker, domain)


class ActionWithoutValue(Action):
    """The customer lacks the value asked for: offer one that works instead."""

    def name(self) -> str:
        return "action_without_value"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        asked = tracker.get_slot("requested_slot") if tracker.active_loop.get("name") else None
        response = WITHOUT.get(asked or "")
        if response == "utter_without_ticket_id":
            buttons = [button("report_outage", language), button("request_human", language)]
            say(dispatcher, response, buttons=buttons)
        elif response:
            say(dispatcher, response)
        else:
            buttons = [button(i, language) for i in ("report_outage", "help", "request_human")]
            say(dispatcher, "utter_without_value", buttons=buttons)
        return []


class ActionCannotHelp(Action):
    """Rasa's core fallback: no rule for this turn. Name what was understood, offer the closest,
    then wait for the customer: no rule follows this action either, so without the explicit
    `action_listen` Rasa predicts it again and again until its limit of 10 actions a turn (ten
    copies of the answer), and the next message finds that limit still reached (no answer)."""

    def name(self) -> str:
        return "action_cannot_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        closest = [name for name, _ in likely_topics(tracker, language, count=3)]
        closest = [name for name in closest if name in BUTTON_TITLES][:2]
        for fallback in ("help", "request_human"):
            if len(closest) < 3 and fallback not in closest:
                closest.append(fallback)
        buttons = [button(name, language) for name in closest]
        understood = UNDERSTOOD.get(intent)
        if understood:
            say(dispatcher, "utter_cannot_help_understood", understood=understood[language],
                buttons=buttons)  # fmt: skip
        else:
            say(dispatcher, "utter_cannot_help", buttons=buttons)
        return [FollowupAction(ACTION_LISTEN)]
