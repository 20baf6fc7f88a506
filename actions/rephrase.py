"""The first answer to a message the bot did not understand (or cannot help with): in context.

Never one canned line: it offers the two topics the model found most likely, and inside a
form it says what the bot is still waiting for. (A second miss in a row goes to a person:
the gateway's policy decides that, not this action.)
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.titles import language_of

TOPICS = {
    "buy_token": {"id": "beli token", "en": "buying a token"},
    "check_transaction": {"id": "token belum masuk", "en": "a token not received"},
    "check_bill": {"id": "cek tagihan", "en": "checking a bill"},
    "report_outage": {"id": "lapor gangguan", "en": "reporting an outage"},
    "check_complaint": {"id": "status pengaduan", "en": "a complaint's status"},
    "new_connection": {"id": "pasang baru / tambah daya", "en": "a new connection"},
    "request_human": {"id": "bicara dengan petugas", "en": "talking to a person"},
}
WAITING_FOR = {
    "meter_number": {"id": "nomor meter (11 digit) atau ID pelanggan (12 digit)",
                     "en": "your meter number (11 digits) or customer ID (12 digits)"},
    "amount": {"id": "nominal token, misalnya 50rb", "en": "the token amount, e.g. 50k"},
    "confirm_purchase": {"id": "jawaban ya atau batal", "en": "a yes or a cancel"},
    "transaction_query": {"id": "nomor transaksi (TRX...) atau nomor meter",
                        "en": "the transaction number (TRX...) or your meter number"},
    "customer_id": {"id": "ID pelanggan 12 digit", "en": "your 12-digit customer ID"},
    "area": {"id": "lokasi gangguan", "en": "where the problem is"},
    "complaint_description": {"id": "cerita singkat masalahnya",
                              "en": "a short description of the problem"},
    "ticket_id": {"id": "nomor laporan (TKT...)", "en": "the report number (TKT...)"},
}  # fmt: skip


def likely_topics(tracker: Tracker, language: str, count: int = 2) -> list[tuple[str, str]]:
    """The model's most likely request intents for the last message, as (intent, title)."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    found = [r["name"] for r in ranking if r.get("name") in TOPICS]
    return [(name, TOPICS[name][language]) for name in found[:count]]


class ActionRephrase(Action):
    def name(self) -> str:
        return "action_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        topics = likely_topics(tracker, language)
        if len(topics) < 2:  # nothing plausible: show everything we do
            topics = [(n, TOPICS[n][language]) for n in ("buy_token", "check_transaction")]
        buttons = [{"title": title.capitalize(), "payload": f"/{name}"} for name, title in topics]
        waiting = WAITING_FOR.get(tracker.get_slot("requested_slot") or "")
        if tracker.active_loop.get("name") and waiting:
            dispatcher.utter_message(
                response="utter_rephrase_in_form", waiting_for=waiting[language], buttons=buttons
            )
        else:
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            dispatcher.utter_message(
                response="utter_out_of_scope_topics"
                if intent == "out_of_scope"
                else "utter_rephrase_topics",
                first=topics[0][1],
                second=topics[1][1],
                buttons=buttons,
            )
        return []
