"""The contract between the core and a channel adapter (Telegram, WhatsApp).

Channels import this module, `bot.core.messages` and `bot.core.errors` — nothing else of ours.
The core gives an adapter two callables (accept an inbound message, record a delivery receipt)
and takes from it a `Sender`, which the delivery worker calls for every message to that channel.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.errors import LoketError
from bot.core.messages import ConversationKey, Inbound, Outbound
from bot.core.templates import TemplateSpec


class DeliveryState(str, enum.Enum):
    QUEUED = "queued"  # persisted, not yet handed to the channel
    SENT = "sent"  # the channel's API accepted it
    DELIVERED = "delivered"  # the channel reported it reached the customer's device
    READ = "read"
    FAILED = "failed"  # given up: `reason` says why (shown to the agent)


# Later states win: a status webhook that arrives out of order never moves a message back.
STATE_RANK = {
    DeliveryState.QUEUED: 0,
    DeliveryState.SENT: 1,
    DeliveryState.DELIVERED: 2,
    DeliveryState.READ: 3,
    DeliveryState.FAILED: 4,
}


@dataclass(frozen=True, slots=True)
class Sent:
    """What the channel's API answered: its own ids of the parts this call sent (a long text
    leaves in parts)."""

    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Media:
    """A customer's attachment fetched from the channel, for an agent to open."""

    content: bytes
    content_type: str
    filename: str = ""


class FailureCode(str, enum.Enum):
    """Delivery failures the inbox explains in the agent's language (its dictionaries'
    "delivery.<code>"); any other failure is shown in the channel's own words."""

    WINDOW_CLOSED = "window_closed"  # outside the reply window: a template reopens it
    BLOCKED = "blocked"  # the customer blocked the bot or deleted the chat
    TEMPLATE_UNKNOWN = "template_unknown"  # not an approved template in this language
    TEMPLATE_PARAMS = "template_params"  # the template expects other parameters
    CHANNEL_MISSING = "channel_missing"  # the channel is not configured on this server


class SendFailed(LoketError):
    """A send the channel refused. `permanent` failures are not retried (the customer blocked
    the bot, the reply window closed); others are retried, after `retry_after` seconds when
    the channel said how long to wait. `code` names a failure the inbox explains in the
    agent's language; `reason` is the channel's own words."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        code: FailureCode | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code


class MediaUnavailable(LoketError):
    """An attachment the channel cannot hand over (expired, unknown, or no such API)."""


# Called after each part of a long message the channel accepted, before the next part is sent:
# (how many parts are sent now, the channel's id of this part or "" when it gave none).
PartSent = Callable[[int, str], Awaitable[None]]


class Sender(Protocol):
    """One channel's way out. Implementations raise SendFailed, never anything else, on failure.

    A long message leaves as several parts. `send` skips the first `skip` parts (sent by an
    earlier attempt) and reports each part but the last to `part_sent` as the channel accepts
    it, so a failure or a crash part-way never makes the customer read a part twice."""

    channel: str
    # Seconds after the customer's last message during which free-form replies are allowed
    # (WhatsApp: 24 h); None when the channel has no such window.
    reply_window: float | None
    # The approved templates this channel may send outside the window (WhatsApp), else ().
    templates: tuple[TemplateSpec, ...]

    async def send(
        self, outbound: Outbound, *, skip: int = 0, part_sent: PartSent | None = None
    ) -> Sent: ...

    async def fetch_media(self, ref: str) -> Media: ...

    async def typing(self, conversation: ConversationKey) -> None:
        """Show the customer that someone is writing (Telegram: a few seconds); channels
        without such a signal do nothing. Raises SendFailed."""

    async def mark_read(self, conversation: ConversationKey, message_id: str) -> None:
        """Tell the customer their message (and those before it) was read, by the channel's id
        of it (WhatsApp's blue ticks); channels without read receipts do nothing. Raises
        SendFailed."""


# Persist an inbound message for processing; False when the channel's message id was seen
# before (a provider retry), True when it is new. When storage is down it raises, and the
# gateway's error middleware answers 503, so the provider retries: let it propagate.
Accept = Callable[[Inbound], Awaitable[bool]]

# Record a delivery receipt from the channel: (channel, channel message id, state, reason).
Receipt = Callable[[str, str, DeliveryState, str], Awaitable[None]]
