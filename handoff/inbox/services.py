"""What the inbox needs from the rest of the gateway, handed over by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.channel import Media
from bot.core.examples import ExampleBook
from bot.core.hours import zone_label
from bot.core.messages import ConversationKey
from bot.core.templates import TemplateSpec
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs, Outcome
from handoff.outbox import Outbox
from handoff.store import Store
from handoff.transcript import Transcript


class HandBack(Protocol):
    """The router's hand back (Handoffs.hand_back in tests): `only_assignee` makes it atomic
    that an assigned conversation is still with the agent who pressed the button."""

    async def __call__(
        self, conversation: ConversationKey, by: str, *, only_assignee: str = ""
    ) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class InboxSettings:
    """How the team works, as the inbox shows it (the API's "team"): the service's time zone
    (for every time on the page), minutes a customer may wait before the SLA clock turns red
    (0: no clock), whether new handoffs are auto-assigned, and whether closing asks the
    customer the satisfaction question (handoff/csat.py)."""

    timezone: str = "Asia/Jakarta"
    sla_minutes: int = 10
    auto_assign: bool = False
    csat: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "zone": zone_label(self.timezone),
                "sla_minutes": self.sla_minutes, "auto_assign": self.auto_assign}  # fmt: skip


async def _no_signal(conversation: ConversationKey) -> None:
    """A channel without a typing signal."""


async def _no_receipt(conversation: ConversationKey, message_id: str) -> None:
    """A channel without read receipts."""


def _no_templates(channel: str) -> tuple[TemplateSpec, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class InboxServices:
    store: Store
    conversations: Conversations
    handoffs: Handoffs
    transcript: Transcript
    outbox: Outbox
    hand_back: HandBack  # the router's: Rasa resumes
    reply_window: Callable[[str], float | None]  # channel -> seconds, or None (no window)
    fetch_media: Callable[[str, str], Awaitable[Media]]  # (channel, ref) -> the attachment
    # The customer's channel: "typing…", read receipts (by the channel's message id), and the
    # approved templates it may send after the reply window closed.
    typing: Callable[[ConversationKey], Awaitable[None]] = _no_signal
    mark_read: Callable[[ConversationKey, str], Awaitable[None]] = _no_receipt
    templates: Callable[[str], tuple[TemplateSpec, ...]] = _no_templates
    settings: InboxSettings = field(default_factory=InboxSettings)
    # (peer, X-Forwarded-For) -> the client's address, through trusted proxies only
    address_of: Callable[[str | None, str | None], str] = lambda peer, _: peer or ""
    session_idle_s: int = 8 * 3600  # LOKET_INBOX_IDLE_MINUTES
    examples: ExampleBook | None = None  # nlu_data/, where trainers' labels are written
