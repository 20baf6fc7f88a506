"""Channel-neutral message types: what channels hand to the core and get back from it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import BadMessage, EmptyText, MessageTooLong
from bot.core.ids import matches

MAX_TEXT_CHARS = 4096  # Telegram's own limit; no channel accepts more in one message
MAX_PAYLOAD_CHARS = 256
_CHAT_ID = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One customer on one channel; `id` is also Rasa's sender id."""

    channel: str
    chat_id: str

    def __post_init__(self) -> None:
        if not matches(_CHANNEL, self.channel):
            raise BadMessage(f"invalid channel name {self.channel!r}")
        if not matches(_CHAT_ID, self.chat_id):
            raise BadMessage("chat id must be 1-64 letters, digits or _.@+-")

    @property
    def id(self) -> str:
        return f"{self.channel}:{self.chat_id}"

    @classmethod
    def parse(cls, conversation_id: str) -> ConversationKey:
        channel, sep, chat_id = conversation_id.partition(":")
        if not sep:
            raise BadMessage(
                f"conversation id must look like <channel>:<chat id>, got {conversation_id!r}"
            )
        return cls(channel, chat_id)


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the customer; pressing it sends `payload` back."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """Something other than text: `kind` is photo, voice, audio, video, sticker, location,
    document or contact; `ref` is the channel's handle to fetch it (file id, media id)."""

    kind: str
    ref: str = ""
    caption: str = ""

    @property
    def label(self) -> str:
        """How the transcript shows it: "[photo] caption"."""
        return f"[{self.kind}] {self.caption}".strip()


@dataclass(frozen=True, slots=True)
class Inbound:
    """A customer's message: typed text, the payload of a button they pressed, or an
    attachment (then `text` is its label, e.g. "[photo] meter display")."""

    conversation: ConversationKey
    text: str
    payload: str | None = None
    message_id: str | None = None  # the channel's own id, used to deduplicate retries
    metadata: Mapping[str, Any] = field(default_factory=dict)
    attachment: Attachment | None = None

    @property
    def bot_text(self) -> str:
        """What Rasa receives: the button payload when one was pressed, else the text."""
        return self.payload or self.text


@dataclass(frozen=True, slots=True)
class Template:
    """An approved template message (WhatsApp), which may be sent outside the reply window:
    its `name` and `language` as approved, and the values of its body's {{1}}, {{2}} …"""

    name: str
    language: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to the customer: free-form text with the buttons to offer, or an approved
    `template` (then `text` is how the transcript shows it, and channels without templates
    send that text)."""

    conversation: ConversationKey
    text: str
    buttons: tuple[Button, ...] = ()
    template: Template | None = None


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the bot made of one inbound message."""

    intent: IntentScore | None
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True, slots=True)
class HandoffSignal:
    """The bot asks for a person: `reason` is one of the handoff reason codes."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Turn:
    """The bot's answer to one inbound message: replies plus the parse behind them."""

    replies: tuple[Outbound, ...]
    understanding: Understanding
    slots: Mapping[str, Any] = field(default_factory=dict)
    latest_action: str | None = None
    paused: bool = False
    handoff: HandoffSignal | None = None
    actions: tuple[str, ...] = ()  # what the bot did with the message, in order


def clean_text(raw: object, *, limit: int = MAX_TEXT_CHARS) -> str:
    """Normalise customer text, or raise BadMessage saying what is wrong with it."""
    if not isinstance(raw, str):
        raise BadMessage("message text must be a string")
    if len(raw) > limit:
        raise MessageTooLong(f"message is too long: {len(raw)} characters, at most {limit}")
    text = unicodedata.normalize("NFC", raw)
    # Drop control and unassigned/private-use characters but keep newlines and tabs.
    kept = "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )
    kept = kept.strip()
    # Invisible format characters alone (zero-width spaces) are no message either.
    if not any(unicodedata.category(ch) != "Cf" and not ch.isspace() for ch in kept):
        raise EmptyText("message is empty")
    return kept


def clean_payload(raw: object) -> str:
    """A button payload as Rasa expects it (`/intent{...}` or plain text), bounded in size."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadMessage("button payload must be a non-empty string")
    if len(raw) > MAX_PAYLOAD_CHARS:
        raise MessageTooLong(f"button payload is too long: at most {MAX_PAYLOAD_CHARS} characters")
    return raw.strip()
