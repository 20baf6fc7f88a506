"""Slots Rasa cannot fill from entities alone, re-evaluated after every customer message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions import language


class ValidateSlotMappings(ValidationAction):
    """Rasa's `action_validate_slot_mappings`: runs on every user turn."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Only the language is ours to fill on every turn; the forms validate the rest.
        return ["language"]

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/"):  # a button payload says nothing about the language
            return {}
        current = tracker.get_slot("language")
        detected = language.detect(text, current)
        return {"language": detected} if detected != current else {}
