"""The reply window: how long after the customer's last message a channel lets the business
write freely (WhatsApp: 24 hours; Telegram and the web chat: any time).

A channel says how long its window is (`Sender.reply_window`); the transcript records when the
customer last wrote. Delivery refuses a free-form message once the window is closed, naming it,
and the inbox warns the agent before they write one. An approved template message is the one
kind of message allowed outside the window (it is how a business reopens the conversation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.core.messages import Outbound


@dataclass(frozen=True, slots=True)
class ReplyWindow:
    seconds: float  # the channel's window
    last_customer_at: int  # ms since epoch: when the customer last wrote

    @property
    def closes_at(self) -> int:
        return self.last_customer_at + int(self.seconds * 1000)

    def is_open(self, now_ms: int) -> bool:
        return now_ms <= self.closes_at

    def allows(self, outbound: Outbound, now_ms: int) -> bool:
        """Whether `outbound` may go out now: anything while the window is open, and an
        approved template at any time."""
        return outbound.template is not None or self.is_open(now_ms)

    def refusal(self) -> str:
        """Why a free-form message cannot go out now (shown to the agent)."""
        closed = datetime.fromtimestamp(self.closes_at / 1000, timezone.utc)
        return (
            f"the reply window closed at {closed:%Y-%m-%d %H:%M} UTC, {self.seconds / 3600:g} h "
            "after the customer's last message: the customer must write first"
        )

    def as_json(self, now_ms: int) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "last_customer_at": self.last_customer_at,
            "closes_at": self.closes_at,
            "expired": not self.is_open(now_ms),
        }


def reply_window(seconds: float | None, last_customer_at: int) -> ReplyWindow | None:
    """The window of a conversation on a channel with `seconds` of it (None: no window), or
    None when the customer's last message is not known (then the channel decides)."""
    if seconds is None or last_customer_at <= 0:
        return None
    return ReplyWindow(seconds, last_customer_at)
