"""The Rasa server's faster check of action answers gives Rasa's own verdicts and messages."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.assistant import serving

GOOD: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "meter_number", "value": "14234567890"}],
     "responses": [{"response": "utter_greet", "buttons": []}]},
    {},
]  # fmt: skip
BAD: list[Any] = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": [42]},
]


def verdict(check: Any, result: Any) -> str:
    try:
        assert check(RemoteAction("action_x", None), result) is True
    except ValidationError as exc:
        return exc.message
    return "ok"


@pytest.mark.parametrize("result", GOOD + BAD)
def test_the_same_verdict_and_message_as_rasas_own_check(result: Any) -> None:
    ours = verdict(serving.validate_action_result, result)
    assert ours == verdict(serving.RASAS_OWN, result)
    assert (ours == "ok") is (result in GOOD)


def test_installed_remote_actions_use_it() -> None:
    serving.install()
    assert RemoteAction._validate_action_result is serving.validate_action_result
