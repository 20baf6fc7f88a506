"""Rasa input channel `loket`: loaded *inside* the Rasa server, never by the gateway.

Rasa's REST channel returns only the bot's messages. This one also returns what the bot
made of the message (intent ranking, entities) and the conversation state after the turn
(slots, last action, paused), so the gateway can judge understanding and brief agents
without a second request.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.assistant.tracker_store import RECENT

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Loket-Token"


class LoketInput(InputChannel):
    """POST /webhooks/loket/webhook {sender, message, metadata} -> replies and parse data."""

    @classmethod
    def name(cls) -> str:
        return "loket"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LoketInput:
        token = (credentials or {}).get("token") or ""
        if not token:
            raise ValueError("the loket channel needs a token in credentials.yml")
        return cls(str(token))

    def __init__(self, token: str) -> None:
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("loket_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(TOKEN_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return response.json({"error": "bad token"}, status=401)
            body = request.json or {}
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not isinstance(text, str) or not text:
                return response.json({"error": "sender and message are required"}, status=400)
            metadata = body.get("metadata") or {}
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    sender,
                    input_channel=str(metadata.get("channel") or self.name()),
                    metadata=metadata,
                )
            )
            # The tracker the turn just saved, or (another tracker store) read back.
            tracker = RECENT.take(sender) or await request.app.ctx.agent.tracker_store.retrieve(
                sender
            )
            return response.json(_turn(collector.messages, tracker))

        return webhook


def _turn(messages: Any, tracker: Any) -> dict[str, Any]:
    parse: dict[str, Any] = {}
    slots: dict[str, Any] = {}
    latest_action = None
    paused = False
    actions = []
    if tracker is not None:
        # The actions this message set off: what the bot actually did with it.
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
                actions.append(event.action_name)
        actions.reverse()
        latest = tracker.latest_message
        if latest is not None:
            data = latest.parse_data or {}
            parse = {
                "intent": data.get("intent") or {},
                "intent_ranking": data.get("intent_ranking") or [],
                "entities": [
                    {"entity": e.get("entity"), "value": e.get("value")}
                    for e in data.get("entities") or []
                ],
            }
        slots = {k: v for k, v in tracker.current_slot_values().items() if v is not None}
        latest_action = tracker.latest_action_name
        paused = tracker.is_paused()
    return {
        "messages": messages,
        "parse": parse,
        "slots": slots,
        "latest_action": latest_action,
        "paused": paused,
        "actions": actions,
    }
