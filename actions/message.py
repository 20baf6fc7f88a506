"""What the customer's latest message carried, as Rasa parsed it."""

from __future__ import annotations

from rasa_sdk import Tracker


def entity(tracker: Tracker, *names: str) -> str | None:
    """The first entity of one of `names` in the latest message, as text; None when absent."""
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") in names and found.get("value") is not None:
            return str(found["value"])
    return None
