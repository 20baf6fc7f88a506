"""How actions speak: domain responses (texts live in bot/domain.yml) and the handoff signal."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

# The gateway reads this custom payload from the bot's messages and opens a handoff; the
# customer never sees it. The reasons are bot/core/reasons.py's (actions may not import it;
# tests/unit/test_reasons.py keeps these in step).
HANDOFF_KEY = "loket_handoff"
BACKEND_FAILURE = "backend_failure"
ASKED_FOR_HUMAN = "asked_for_human"
FRUSTRATED = "frustrated"


def say(dispatcher: CollectingDispatcher, response: str, **values: Any) -> None:
    dispatcher.utter_message(response=response, **values)


def signal_handoff(dispatcher: CollectingDispatcher, reason: str, detail: str = "") -> None:
    """Ask the gateway to pass this conversation to a person, saying why."""
    dispatcher.utter_message(json_message={HANDOFF_KEY: {"reason": reason, "detail": detail}})


def provider_down(dispatcher: CollectingDispatcher, detail: str) -> None:
    """Tell the customer plainly that the system is unreachable, and hand over."""
    say(dispatcher, "utter_provider_down")
    signal_handoff(dispatcher, BACKEND_FAILURE, detail)
