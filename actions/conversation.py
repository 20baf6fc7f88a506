"""Moves that are about the conversation itself: cancelling a request, asking for a person."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import ASKED_FOR_HUMAN, FRUSTRATED, say, signal_handoff

# What each form collects; cancelling a form forgets its answers.
FORM_SLOTS = {
    "buy_token_form": ("amount", "confirm_purchase"),
    "transaction_form": ("transaction_ref", "transaction_query"),
    "bill_form": ("customer_id",),
    "complaint_form": ("area", "complaint_description"),
    "ticket_form": ("ticket_id",),
}


class ActionCancelForm(Action):
    def name(self) -> str:
        return "action_cancel_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        if form == "buy_token_form":
            say(dispatcher, "utter_purchase_cancelled")
        else:
            say(dispatcher, "utter_cancelled")
        return [
            *(SlotSet(slot, None) for slot in FORM_SLOTS.get(form or "", ())),
            SlotSet("requested_slot", None),
            ActiveLoop(None),
        ]


class ActionRequestHuman(Action):
    """The customer wants a person, or is fed up with the bot: say so and signal a handoff."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "complain_bot":
            say(dispatcher, "utter_complain_bot")
            signal_handoff(dispatcher, FRUSTRATED, "the customer is frustrated with the bot")
        else:
            say(dispatcher, "utter_handoff_requested")
            signal_handoff(dispatcher, ASKED_FOR_HUMAN, "the customer asked for a person")
        return []
