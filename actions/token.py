"""Buying a prepaid token: the form's validation, its questions, and placing the order."""

from __future__ import annotations

import json
import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.amounts import NOMINALS, is_nominal, parse_amount
from actions.display import digits, number, rupiah, when
from actions.message import entity
from actions.privacy import mask_name, may_look_up
from actions.provider import NotFound, Provider, ProviderError
from actions.replies import provider_down, say
from actions.titles import language_of, title

END_FORM: dict[str, Any] = {"requested_slot": None}


def provider() -> Provider:
    return Provider.from_env(os.environ)


class ValidateBuyTokenForm(FormValidationAction):
    def name(self) -> str:
        return "validate_buy_token_form"

    async def extract_meter_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Numbers typed with spaces or of the wrong length, when we asked for the number."""
        if tracker.get_slot("requested_slot") != "meter_number" or entity(
            tracker, "meter_number", "customer_id"
        ):
            return {}
        number = digits(tracker.latest_message.get("text"))
        return {"meter_number": number} if len(number) >= 3 else {}

    async def validate_meter_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = digits(str(value))
        if len(number) not in (11, 12):
            say(dispatcher, "utter_invalid_number", number=value)
            return {"meter_number": None}
        if not may_look_up(dispatcher, tracker, number):
            return {"meter_number": None, **END_FORM}
        try:
            customer = await provider().lookup_customer(number)
        except NotFound:
            say(dispatcher, "utter_number_not_found", number=number)
            return {"meter_number": None}
        except ProviderError as exc:
            provider_down(dispatcher, f"customer lookup failed: {exc}")
            return {"meter_number": None, **END_FORM}
        if customer.kind != "prepaid":
            say(dispatcher, "utter_not_prepaid", number=number, name=mask_name(customer.name))
            return {"meter_number": None, "customer_id": customer.customer_id, **END_FORM}
        say(dispatcher, "utter_meter_found", meter_number=customer.meter_number,
            name=mask_name(customer.name), tariff=customer.tariff,
            power=customer.power_va)  # fmt: skip
        # A new or corrected number: whatever was confirmed before no longer holds.
        return {
            "meter_number": customer.meter_number,
            "customer_name": customer.name,
            "confirm_purchase": None,
        }

    async def extract_amount(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Amounts the entity extractor missed ("yang 100 aja", "seket ewu"): when we asked for
        one, or a nominal in the request itself ("beli token 20 ewu")."""
        if entity(tracker, "amount") or tracker.get_slot("amount"):
            return {}
        amount = parse_amount(tracker.latest_message.get("text") or "")
        if tracker.get_slot("requested_slot") == "amount":
            return {"amount": str(amount)} if amount else {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return (
            {"amount": str(amount)}
            if intent == "buy_token" and amount and is_nominal(amount)
            else {}
        )

    async def validate_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        amount = parse_amount(str(value))
        if amount is None or not is_nominal(amount):
            shown = rupiah(amount, language_of(tracker)) if amount else value
            say(dispatcher, "utter_invalid_amount", amount=shown)
            return {"amount": None}
        return {"amount": str(amount), "confirm_purchase": None}

    async def validate_confirm_purchase(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"confirm_purchase": True}
        say(dispatcher, "utter_purchase_cancelled")
        return {"confirm_purchase": None, "amount": None, **END_FORM}


def _payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


class ActionAskAmount(Action):
    def name(self) -> str:
        return "action_ask_amount"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        english = tracker.get_slot("language") == "en"
        buttons = [
            {
                "title": f"{n // 1000}k" if english and n < 1_000_000 else _short(n, english),
                "payload": _payload("inform", amount=str(n)),
            }
            for n in NOMINALS
        ]
        dispatcher.utter_message(response="utter_ask_amount", buttons=buttons)
        return []


def _short(amount: int, english: bool) -> str:
    if amount >= 1_000_000:
        return "1M" if english else "1jt"
    return f"{amount // 1000}rb"


class ActionAskConfirmPurchase(Action):
    def name(self) -> str:
        return "action_ask_confirm_purchase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        meter = str(tracker.get_slot("meter_number"))
        amount = int(tracker.get_slot("amount") or 0)
        client = provider()
        try:
            customer = await client.lookup_customer(meter)
            quote = await client.quote(meter, amount)
        except ProviderError as exc:
            provider_down(dispatcher, f"quote failed: {exc}")
            return [SlotSet("requested_slot", None), ActiveLoop(None)]
        lang = language_of(tracker)
        dispatcher.utter_message(
            response="utter_ask_confirm_purchase",
            amount=rupiah(quote.amount, lang),
            name=mask_name(customer.name),
            meter_number=customer.meter_number,
            tariff=customer.tariff,
            power=customer.power_va,
            kwh=number(quote.kwh, lang),
            admin_fee=rupiah(quote.admin_fee, lang),
            total=rupiah(quote.total, lang),
            buttons=[
                {"title": title(tracker, "yes_buy"), "payload": "/affirm"},
                {"title": title(tracker, "cancel"), "payload": "/cancel"},
            ],
        )
        return []


class ActionBuyToken(Action):
    """Runs when the form is done: places the order if the customer confirmed it."""

    def name(self) -> str:
        return "action_buy_token"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("confirm_purchase") is not True:
            return []  # ended early: the reason was already told to the customer
        meter = str(tracker.get_slot("meter_number"))
        amount = int(tracker.get_slot("amount") or 0)
        reset = [SlotSet("confirm_purchase", None), SlotSet("amount", None)]
        try:
            order = await provider().create_order(meter, amount, reference=tracker.sender_id)
        except ProviderError as exc:
            provider_down(dispatcher, f"order failed: {exc}")
            return reset
        dispatcher.utter_message(
            response="utter_payment_instructions",
            ref=order.ref,
            total=rupiah(order.total, language_of(tracker)),
            virtual_account=order.virtual_account,
            expires_at=when(order.expires_at, language_of(tracker)),
            buttons=[
                {
                    "title": title(tracker, "paid"),
                    "payload": _payload("check_transaction", transaction_ref=order.ref),
                }
            ],
        )
        return [*reset, SlotSet("transaction_ref", order.ref)]
