"""The web chat's gate: a conversation's secret and the rate limits, in front of the router.

Anyone on the internet can reach the web chat, and every message is a Rasa turn and a line
kept in Redis, so a visitor opens a conversation (limited per client address), then shows its
secret with every read and message, each limited per conversation and per address.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.messages import ConversationKey, Inbound, Turn
from handoff import Role, Transcript
from handoff.guests import Guests
from handoff.limits import Limit, Limits

CHANNEL = "webchat"
CUSTOMER_VISIBLE = (Role.CUSTOMER, Role.BOT, Role.AGENT)
READS_PER_MINUTE = 120  # the page polls every 3 s (20 a minute)


@dataclass(frozen=True, slots=True)
class ChatLimits:
    """The web chat's rate limits (LOKET_WEBCHAT_* in docs/operating.md)."""

    per_conversation: int = 20  # messages per minute
    per_address: int = 60  # messages per minute from one client address
    new_per_address: int = 20  # new conversations per hour from one client address

    def messages(self) -> tuple[Limit, Limit]:
        return (
            Limit("chat-msg", self.per_conversation, 60, "messages in this conversation"),
            Limit("chat-msg-ip", self.per_address, 60, "messages from your address"),
        )

    def opening(self) -> Limit:
        return Limit("chat-new-ip", self.new_per_address, 3600, "new conversations")

    def reads(self) -> Limit:
        return Limit("chat-read", READS_PER_MINUTE, 60, "reads of this conversation")


class WebChatGate:
    def __init__(
        self,
        guests: Guests,
        limits: Limits,
        transcript: Transcript,
        handle: Callable[[Inbound], Awaitable[Turn]],
        chat_limits: ChatLimits,
    ) -> None:
        self._guests = guests
        self._limits = limits
        self._transcript = transcript
        self._handle = handle
        self._chat = chat_limits

    async def open(self, chat_id: str | None, client: str) -> tuple[str, str]:
        """A new conversation: (chat id, its secret). `chat_id` None picks a random one."""
        key = ConversationKey(CHANNEL, chat_id or f"web-{secrets.token_hex(8)}")
        await self._limits.take((self._chat.opening(), client))
        return key.chat_id, await self._guests.open(key)

    async def post(self, inbound: Inbound, secret: str | None, client: str) -> Turn:
        key = inbound.conversation
        await self._guests.check(key, secret, touch=True)
        per_conversation, per_address = self._chat.messages()
        await self._limits.take((per_conversation, key.id), (per_address, client))
        return await self._handle(inbound)

    async def history(
        self, key: ConversationKey, secret: str | None, after: str
    ) -> Sequence[Mapping[str, Any]]:
        await self._guests.check(key, secret, touch=False)
        await self._limits.take((self._chat.reads(), key.id))
        entries = await self._transcript.read(key, after=after)
        return [
            {"id": e.id, "role": e.role.value, "text": e.text, "ts": e.ts,
             "buttons": [{"title": b.title, "payload": b.payload} for b in e.buttons]}
            for e in entries
            if e.role in CUSTOMER_VISIBLE
        ]  # fmt: skip
