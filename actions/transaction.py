"""Token not received / transaction status: by transaction reference or by meter number."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.display import digits, number, rupiah, token, when
from actions.message import entity
from actions.privacy import may_look_up, ordered_here, token_tail
from actions.provider import NotFound, ProviderError, Transaction
from actions.replies import provider_down, say
from actions.titles import language_of, title
from actions.token import provider

_REF = re.compile(r"\btrx[0-9a-z]{8}\b", re.IGNORECASE)


class ValidateTransactionForm(FormValidationAction):
    def name(self) -> str:
        return "validate_transaction_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Already known from this conversation (a purchase just made, a number given):
        # nothing to ask.
        if tracker.get_slot("transaction_ref") or tracker.get_slot("meter_number"):
            return []
        return domain_slots

    async def extract_transaction_query(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Typed without an entity tagged: a reference in any case, or a spaced number."""
        if tracker.get_slot("requested_slot") != "transaction_query":
            return {}
        text = tracker.latest_message.get("text") or ""
        match = _REF.search(text)
        if match:
            return {"transaction_query": match.group(0)}
        number = digits(text)
        return {"transaction_query": number} if len(number) >= 6 else {}

    async def validate_transaction_query(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value).strip()
        if _REF.fullmatch(text):
            return {"transaction_query": text.upper(), "transaction_ref": text.upper()}
        number = digits(text)
        if len(number) in (11, 12):
            return {"transaction_query": number, "meter_number": number, "transaction_ref": None}
        say(dispatcher, "utter_transaction_not_found", ref=value)
        return {"transaction_query": None}


def explain(dispatcher: CollectingDispatcher, tracker: Tracker, txn: Transaction) -> None:
    """Tell the customer where a purchase stands, resending the token when it was issued."""
    lang = language_of(tracker)
    values = {
        "ref": txn.ref,
        "amount": rupiah(txn.amount, lang),
        "meter_number": txn.meter_number,
        "total": rupiah(txn.total, lang),
        "virtual_account": txn.virtual_account,
        "expires_at": when(txn.expires_at, lang),
    }
    if txn.status == "token_issued" and ordered_here(txn.reference, tracker):
        say(dispatcher, "utter_transaction_token", token=token(txn.token),
            kwh=number(txn.kwh, lang) if txn.kwh is not None else "-", **values)  # fmt: skip
    elif txn.status == "token_issued":
        # Bought in another chat (or elsewhere): the token belongs to whoever paid for it.
        say(dispatcher, "utter_transaction_token_hidden", token_tail=token_tail(txn.token),
            **values)  # fmt: skip
    elif txn.status == "paid":
        say(dispatcher, "utter_transaction_paid", **values)
    elif txn.status == "expired":
        say(dispatcher, "utter_transaction_expired", **values)
    else:
        dispatcher.utter_message(
            response="utter_transaction_waiting",
            buttons=[
                {
                    "title": title(tracker, "paid"),
                    "payload": f'/check_transaction{{"transaction_ref": "{txn.ref}"}}',
                }
            ],
            **values,
        )


class ActionCheckTransaction(Action):
    def name(self) -> str:
        return "action_check_transaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # What the customer said in this message wins over what we remembered from earlier.
        meter = entity(tracker, "meter_number")
        ref = entity(tracker, "transaction_ref")
        if not meter and not ref:
            ref = tracker.get_slot("transaction_ref")
            meter = None if ref else tracker.get_slot("meter_number")
        client = provider()
        try:
            if ref:
                txn = await client.transaction(ref.upper())
            elif not may_look_up(dispatcher, tracker, str(meter)):
                return [SlotSet("transaction_query", None)]
            else:
                latest = await client.latest_transactions(str(meter), limit=1)
                if not latest:
                    say(dispatcher, "utter_no_transactions", meter_number=meter)
                    return []
                txn = latest[0]
        except NotFound:
            say(dispatcher, "utter_transaction_not_found", ref=ref or meter)
            return [SlotSet("transaction_ref", None)]
        except ProviderError as exc:
            provider_down(dispatcher, f"transaction lookup failed: {exc}")
            return []
        explain(dispatcher, tracker, txn)
        return [SlotSet("transaction_ref", txn.ref), SlotSet("transaction_query", None)]
