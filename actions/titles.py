"""Button titles actions build themselves (the ones with payloads known only at run time)."""

from __future__ import annotations

from rasa_sdk import Tracker

_TITLES = {
    "yes_buy": {"id": "Ya, lanjutkan", "en": "Yes, go ahead"},
    "cancel": {"id": "Batal", "en": "Cancel"},
    "paid": {"id": "Saya sudah bayar", "en": "I have paid"},
}


def language_of(tracker: Tracker) -> str:
    return "en" if tracker.get_slot("language") == "en" else "id"


def title(tracker: Tracker, key: str) -> str:
    return _TITLES[key][language_of(tracker)]
