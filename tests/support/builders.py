"""Small builders for test data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.core.channel import Media, MediaUnavailable, PartSent, SendFailed, Sent
from bot.core.messages import (
    Button,
    ConversationKey,
    Inbound,
    IntentScore,
    Outbound,
    Turn,
    Understanding,
)
from bot.core.templates import TemplateSpec

_ids = itertools.count(1)


def make_key(chat_id: str | None = None, channel: str = "webchat") -> ConversationKey:
    return ConversationKey(channel, chat_id or f"chat{next(_ids)}")


def make_inbound(text: str = "halo", key: ConversationKey | None = None, **kw: object) -> Inbound:
    return Inbound(key or make_key(), text, **kw)  # type: ignore[arg-type]


def make_turn(
    key: ConversationKey, *texts: str, intent: str = "greet", confidence: float = 0.97
) -> Turn:
    return Turn(
        replies=tuple(Outbound(key, t, (Button("Ya", "/affirm"),)) for t in texts),
        understanding=Understanding(IntentScore(intent, confidence)),
    )


def rasa_answer(*texts: str, intent: str = "greet", confidence: float = 0.9) -> dict[str, object]:
    """A body as the loket Rasa channel returns it."""
    return {
        "messages": [{"recipient_id": "x", "text": t} for t in texts],
        "parse": {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                {"name": "goodbye", "confidence": 1 - confidence},
            ],
            "entities": [],
        },
        "slots": {"language": "id"},
        "latest_action": "action_listen",
        "paused": False,
    }


@dataclass
class RecordingSender:
    """Our own Sender interface, recording what it sends; `failures` are raised first, in order."""

    channel: str = "telegram"
    reply_window: float | None = None
    failures: list[SendFailed] = field(default_factory=list)
    sent: list[Outbound] = field(default_factory=list)
    templates: tuple[TemplateSpec, ...] = ()
    signals: list[tuple[str, str]] = field(default_factory=list)  # ("typing"|"read", id)

    async def send(
        self, outbound: Outbound, *, skip: int = 0, part_sent: PartSent | None = None
    ) -> Sent:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(outbound)
        return Sent((f"{self.channel}-{len(self.sent)}",))

    async def fetch_media(self, ref: str) -> Media:
        raise MediaUnavailable(f"no media {ref}")

    async def typing(self, conversation: ConversationKey) -> None:
        self.signals.append(("typing", conversation.id))

    async def mark_read(self, conversation: ConversationKey, message_id: str) -> None:
        self.signals.append(("read", message_id))
