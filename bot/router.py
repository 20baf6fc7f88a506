"""The router: every inbound message goes through here, is recorded, and reaches the bot."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.errors import BotUnavailable
from bot.messages import Inbound, Turn
from handoff import Conversations, Entry, Role, Transcript

log = logging.getLogger(__name__)


class Bot(Protocol):
    async def send(self, inbound: Inbound) -> Turn: ...


class Router:
    """Records each message in the transcript, asks the bot, records and returns its replies."""

    def __init__(
        self, conversations: Conversations, transcript: Transcript, bot: Bot, *, timeout: float
    ) -> None:
        self._conversations = conversations
        self._transcript = transcript
        self._bot = bot
        self._timeout = timeout

    async def handle(self, inbound: Inbound) -> Turn:
        conversation = inbound.conversation
        # The lock outlives the bot's timeout a little so a slow turn never overlaps the next.
        async with self._conversations.turn(
            conversation, ttl=self._timeout + 5, wait=self._timeout + 5
        ):
            meta = {"message_id": inbound.message_id} if inbound.message_id else {}
            await self._transcript.append(
                conversation,
                [Entry(Role.CUSTOMER, inbound.text, payload=inbound.payload, meta=meta)],
            )
            try:
                turn = await self._bot.send(inbound)
            except BotUnavailable as exc:
                log.warning("%s: bot unavailable: %s", conversation.id, exc)
                await self._transcript.append(
                    conversation, [Entry(Role.SYSTEM, "The bot could not be reached.")]
                )
                raise
            intent = turn.understanding.intent
            await self._transcript.append(
                conversation,
                [
                    Entry(
                        Role.BOT,
                        reply.text,
                        buttons=reply.buttons,
                        intent=intent.name if intent else None,
                        confidence=intent.confidence if intent else None,
                    )
                    for reply in turn.replies
                ],
            )
            log.info(
                "%s: intent=%s confidence=%.2f replies=%d",
                conversation.id,
                intent.name if intent else None,
                intent.confidence if intent else 0.0,
                len(turn.replies),
            )
            return turn
