"""Postpaid bill check by customer id."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.display import day, digits, rupiah
from actions.message import entity
from actions.privacy import mask_name, may_look_up
from actions.provider import InvalidRequest, NotFound, ProviderError
from actions.replies import provider_down, say
from actions.titles import language_of
from actions.token import provider


class ValidateBillForm(FormValidationAction):
    def name(self) -> str:
        return "validate_bill_form"

    async def extract_customer_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A number typed with spaces, or a meter number, when we asked for the id; a meter
        number in the message that opened the form ("tagihan 86011122233"), whose customer
        validate_customer_id looks up instead of asking for the id."""
        if entity(tracker, "customer_id"):
            return {}
        requested = tracker.get_slot("requested_slot")
        meter = entity(tracker, "meter_number")
        if requested is None and meter:
            return {"customer_id": meter}
        if requested != "customer_id":
            return {}
        number = digits(tracker.latest_message.get("text"))
        return {"customer_id": number} if len(number) >= 6 else {}

    async def validate_customer_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = digits(str(value))
        if len(number) in (11, 12) and not may_look_up(dispatcher, tracker, number):
            return {"customer_id": None, "requested_slot": None}
        if len(number) == 12:
            return {"customer_id": number}
        if len(number) == 11:  # a meter number: find whose it is
            try:
                customer = await provider().lookup_customer(number)
            except NotFound:
                say(dispatcher, "utter_number_not_found", number=number)
                return {"customer_id": None}
            except ProviderError as exc:
                provider_down(dispatcher, f"customer lookup failed: {exc}")
                return {"customer_id": None, "requested_slot": None}
            return {"customer_id": customer.customer_id}
        say(dispatcher, "utter_invalid_number", number=value)
        return {"customer_id": None}


class ActionCheckBill(Action):
    def name(self) -> str:
        return "action_check_bill"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer_id = tracker.get_slot("customer_id")
        if not customer_id:
            return []  # the form ended early and said why
        client = provider()
        try:
            bill = await client.bill(customer_id)
        except NotFound:
            say(dispatcher, "utter_number_not_found", number=customer_id)
            return [SlotSet("customer_id", None)]
        except InvalidRequest as exc:
            if exc.code != "not_postpaid":
                raise
            try:
                customer = await client.lookup_customer(customer_id)
            except ProviderError as lookup_exc:
                provider_down(dispatcher, f"customer lookup failed: {lookup_exc}")
                return []
            say(dispatcher, "utter_not_postpaid", number=customer_id,
                name=mask_name(customer.name))  # fmt: skip
            return []
        except ProviderError as exc:
            provider_down(dispatcher, f"bill lookup failed: {exc}")
            return []
        values = {
            "period": bill.period,
            "name": mask_name(bill.name),
            "customer_id": bill.customer_id,
            "amount_due": rupiah(bill.amount_due, language_of(tracker)),
            "due_date": day(bill.due_date, language_of(tracker)),
        }
        say(dispatcher, "utter_bill_paid" if bill.status == "paid" else "utter_bill_due", **values)
        return []
