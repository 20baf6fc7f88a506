"""Outage reports and complaints: open a ticket, and check a ticket's status."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.answers import Outage
from actions.buttons import button
from actions.display import digits, when
from actions.message import entity
from actions.privacy import may_look_up, own_tickets
from actions.provider import NotFound, ProviderError
from actions.replies import provider_down, say
from actions.titles import language_of
from actions.token import provider

_TICKET = re.compile(r"\btkt[0-9]{6}\b", re.IGNORECASE)
_METER_WORDS = re.compile(r"meter|kwh|angka|layar|display|tampil", re.IGNORECASE)
_BILLING_WORDS = re.compile(r"tagih|bill|bayar|charge", re.IGNORECASE)


_CATEGORY_LABELS = {
    "outage": {"id": "gangguan listrik", "en": "power outage"},
    "meter": {"id": "masalah meter", "en": "meter problem"},
    "billing": {"id": "masalah tagihan", "en": "billing problem"},
    "other": {"id": "pengaduan lain", "en": "other complaint"},
}


def category_label(category: str, tracker: Tracker) -> str:
    labels = _CATEGORY_LABELS.get(category, _CATEGORY_LABELS["other"])
    return labels[language_of(tracker)]


def category_of(description: str) -> str:
    if _METER_WORDS.search(description):
        return "meter"
    if _BILLING_WORDS.search(description):
        return "billing"
    return "outage"


def place_name(text: str) -> str:
    """The place itself, without the words around it ("di", "kecamatan", "in"): empty when
    what is left is too short to be one."""
    area = re.sub(r"^(di|daerah|kelurahan|kecamatan|kec\.?|kel\.?|in|at)\s+", "", text.strip(),
                  flags=re.IGNORECASE)  # fmt: skip
    return area if len(area) >= 3 else ""


def say_outages(
    dispatcher: CollectingDispatcher, outages: list[Outage], language: str,
    response: str = "utter_known_outage",
) -> None:  # fmt: skip
    """Each outage with its cause and estimated restore time."""
    for outage in outages:
        say(dispatcher, response, area=outage.area, cause=outage.cause,
            restore=when(outage.estimated_restore, language))  # fmt: skip


# "Ada gangguan ga di sukajadi?", "is there an outage in Cimahi?": a question, not a report...
_ASKING = re.compile(
    r"\b(ada|adakah|apakah|apa|is there|are there|any)\b.*\b(gangguan|pemadaman|padam|outages?|"
    r"blackouts?|maintenance|pemeliharaan)\b",
    re.IGNORECASE,
)
# ...unless the customer also says their own power is out ("listrik mati, ada gangguan?").
_STATED = re.compile(
    r"\b(listrik\w*|lampu\w*|power|electricity|lights?)\b.*\b(mati|padam|out|off|down|kedip\w*)\b"
    r"|\b(mati|padam)\b.*\b(listrik|lampu)\b",
    re.IGNORECASE,
)


def asks_about_outage(text: str) -> bool:
    """The customer asks whether there is an outage rather than reporting one."""
    return bool(_ASKING.search(text)) and not _STATED.search(text)


def opening_message(tracker: Tracker) -> str:
    """What the customer wrote when the current report began (the form's activation follows
    it); the latest message when no activation is in the tracker."""
    last, opening = "", ""
    for event in tracker.events:
        if event.get("event") == "user":
            last = event.get("text") or ""
        elif event.get("event") == "active_loop" and event.get("name") == "complaint_form":
            opening = last
    return opening or (tracker.latest_message.get("text") or "")


async def outages_if_known(area: str) -> list[Outage]:
    """The outages known at `area`; none when the provider cannot be asked now (the caller's
    answer stands without them)."""
    try:
        return await provider().outages(area)
    except ProviderError:
        return []


async def offer_for_place(dispatcher: CollectingDispatcher, area: str, language: str) -> None:
    """A place on its own, or a question about it, most often means "is the power out there?":
    say what is known there, then offer a report for that place (the button carries it, so the
    form does not ask where). A provider that cannot be asked: the customer is told and handed
    over."""
    try:
        outages = await provider().outages(area)
    except ProviderError as exc:
        provider_down(dispatcher, f"outage look-up failed: {exc}")
        return
    say_outages(dispatcher, outages, language)
    buttons = [
        button("report_outage", language, area=area),
        button("check_complaint", language),
        button("help", language),
    ]
    response = "utter_offer_for_area_known" if outages else "utter_offer_for_area"
    say(dispatcher, response, area=area, buttons=buttons)


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    async def extract_area(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """When asked where, any short answer is the place, even one NLU did not tag; a report
        started with a meter number already known ("56012345678", then "listrik mati") is
        located by that number."""
        if tracker.get_slot("requested_slot") != "area":
            known = tracker.get_slot("meter_number") or tracker.get_slot("customer_id")
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent == "report_outage" and known and not tracker.get_slot("area"):
                return {"area": known}
            return {}
        if entity(tracker, "area"):
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        return {"area": text[:80]} if text and not text.startswith("/") else {}

    async def validate_area(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = digits(str(value))
        if len(number) in (11, 12):  # a meter number or customer id locates the report
            if not may_look_up(dispatcher, tracker, number):
                return {"area": None, "requested_slot": None}
            try:
                customer = await provider().lookup_customer(number)
            except NotFound:
                say(dispatcher, "utter_number_not_found", number=number)
                return {"area": None}
            except ProviderError as exc:
                provider_down(dispatcher, f"customer lookup failed: {exc}")
                return {"area": None, "requested_slot": None}
            if tracker.get_slot("complaint_description") is None:
                # Known outages said before the report asks what happened.
                outages = await outages_if_known(customer.area)
                say_outages(dispatcher, outages, language_of(tracker))
            return {"area": customer.area, "meter_number": customer.meter_number}
        area = place_name(str(value))
        if not area:
            return {"area": None}
        if tracker.get_slot("complaint_description") is not None:
            return {"area": area}  # filed next, which says the known outages
        language = language_of(tracker)
        if asks_about_outage(opening_message(tracker)):
            # A question answered, not a report filed: what is known there, and the report
            # offered as a button that carries the place.
            await offer_for_place(dispatcher, area, language)
            return {"area": area, "requested_slot": None}
        # Known outages said before the report asks what happened.
        say_outages(dispatcher, await outages_if_known(area), language)
        return {"area": area}

    async def extract_complaint_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = (tracker.latest_message.get("text") or "").strip()
        if text.startswith("/"):
            return {}
        if tracker.get_slot("requested_slot") == "complaint_description":
            return {"complaint_description": text}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # "listrik mati dr td pagi" already describes the problem: don't ask again.
        described = intent == "report_outage" and len(text.split()) >= 3
        described = described and not asks_about_outage(text)
        if tracker.get_slot("complaint_description") is None and described:
            return {"complaint_description": text}
        return {}

    async def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value).strip()
        if len(text) < 3:
            return {"complaint_description": None}
        return {"complaint_description": text[:1000]}


class ActionOpenComplaint(Action):
    def name(self) -> str:
        return "action_open_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        area = tracker.get_slot("area")
        description = tracker.get_slot("complaint_description")
        if not area or not description:
            return []  # the form ended early and said why
        language = language_of(tracker)
        client = provider()
        reported = tracker.get_slot("reported_area")
        ticket_id = tracker.get_slot("ticket_id")
        try:
            outages = await client.outages(area)
            if ticket_id and reported and same_place(reported, area):
                # One report per place per conversation: a follow-up ("kok belum nyala") is
                # answered from the first report, never filed again.
                return _already_reported(dispatcher, area, ticket_id, outages, language)
            say_outages(dispatcher, outages, language)
            ticket = await client.open_complaint(
                description=description,
                category=category_of(description),
                area=area,
                meter_number=tracker.get_slot("meter_number"),
            )
        except ProviderError as exc:
            provider_down(dispatcher, f"opening a complaint failed: {exc}")
            return []
        if ticket.existing:
            # The same customer reported this place earlier (another conversation, another
            # channel): the provider gave that ticket back; say so rather than "opened".
            events = _already_reported(dispatcher, area, ticket.ticket_id, [], language)
            return [SlotSet("ticket_id", ticket.ticket_id), SlotSet("reported_area", area),
                    *events]  # fmt: skip
        say(dispatcher, "utter_complaint_opened", ticket_id=ticket.ticket_id, note=ticket.note)
        # The place stays: more details about the same problem ("sejak subuh") are not a
        # second report.
        return [
            SlotSet("ticket_id", ticket.ticket_id),
            SlotSet("reported_area", area),
            SlotSet("complaint_description", None),
        ]


class ActionReportDetail(Action):
    """A message the model did not take for any request, right after a report was filed
    ("dari jam 8 pagi", "since noon"): a detail of that report, not a new topic. The answer
    names the report and what is known of the outage there; it is not a turn misunderstood."""

    def name(self) -> str:
        return "action_report_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ticket_id, area = tracker.get_slot("ticket_id"), tracker.get_slot("reported_area")
        if not ticket_id or not area:  # no report of this conversation to add it to
            return [FollowupAction("action_rephrase")]
        language = language_of(tracker)
        say(dispatcher, "utter_report_detail", ticket_id=ticket_id, area=area)
        say_outages(dispatcher, await outages_if_known(area), language, "utter_outage_restore")
        return []


def _already_reported(
    dispatcher: CollectingDispatcher, area: str, ticket_id: str, outages: list[Outage],
    language: str,
) -> list[EventType]:  # fmt: skip
    say(dispatcher, "utter_report_exists", area=area, ticket_id=ticket_id)
    say_outages(dispatcher, outages, language, "utter_outage_restore")
    return [SlotSet("complaint_description", None)]


def same_place(first: str, second: str) -> bool:
    """Whether two ways of writing a place name one ("Coblong" and "coblong, bandung")."""

    def words(place: str) -> set[str]:
        return set(re.findall(r"[a-z]{3,}", place.casefold()))

    a, b = words(first), words(second)
    return bool(a and b) and (a <= b or b <= a)


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    async def extract_ticket_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "ticket_id":
            return {}
        text = tracker.latest_message.get("text") or ""
        match = _TICKET.search(text)
        if match:
            return {"ticket_id": match.group(0)}
        return {"ticket_id": text.strip()[:40]} if text.strip() else {}

    async def validate_ticket_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        ticket_id = str(value).strip().upper()
        if not _TICKET.fullmatch(ticket_id):
            say(dispatcher, "utter_invalid_ticket_id", ticket_id=value)
            return {"ticket_id": None}
        return {"ticket_id": ticket_id}


class ActionCheckComplaint(Action):
    def name(self) -> str:
        return "action_check_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ticket_id = tracker.get_slot("ticket_id")
        if not ticket_id:
            return []
        if not may_look_up(dispatcher, tracker, ticket_id):
            return [SlotSet("ticket_id", None)]
        try:
            ticket = await provider().complaint(ticket_id)
        except NotFound:
            say(dispatcher, "utter_ticket_not_found", ticket_id=ticket_id)
            return [SlotSet("ticket_id", None)]
        except ProviderError as exc:
            provider_down(dispatcher, f"complaint lookup failed: {exc}")
            return []
        response = {
            "resolved": "utter_ticket_resolved",
            "in_progress": "utter_ticket_in_progress",
        }.get(ticket.status, "utter_ticket_open")
        # What the customer wrote stays with the conversation that opened the report; others
        # learn its kind and where it stands.
        own = ticket.ticket_id.upper() in own_tickets(tracker)
        description = ticket.description if own else category_label(ticket.category, tracker)
        language = language_of(tracker)
        say(dispatcher, response, ticket_id=ticket.ticket_id, description=description,
            updated_at=when(ticket.updated_at, language))  # fmt: skip
        if ticket.status != "resolved" and ticket.category == "outage" and ticket.area:
            # "Kapan nyala lagi?" after a report: the known outage's estimate answers it.
            outages = await outages_if_known(ticket.area)  # the status above is the answer
            say_outages(dispatcher, outages, language, "utter_outage_restore")
        return []
