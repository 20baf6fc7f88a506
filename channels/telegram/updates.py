"""Handling one Telegram update: convert, persist through `accept`, then answer a button press.

Shared by the webhook and the polling loop, so both persist before they acknowledge.
"""

from __future__ import annotations

import logging

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.core.channel import Accept
from bot.core.errors import BadMessage
from channels.telegram.convert import inbound_from_update

log = logging.getLogger(__name__)


class UpdateIntake:
    """Turns updates into `accept` calls. Errors from `accept` propagate: the caller must then
    not acknowledge the update, so Telegram delivers it again."""

    def __init__(self, bot: Bot, accept: Accept) -> None:
        self._bot = bot
        self._accept = accept

    async def handle(self, update: Update) -> bool:
        """True when the update was new and persisted; False when ignored or a duplicate."""
        try:
            inbound = inbound_from_update(update)
        except BadMessage as exc:
            log.info("telegram update %s ignored: %s", update.update_id, exc)
            inbound = None
        else:
            if inbound is None:
                log.debug("telegram update %s ignored: no private chat message", update.update_id)
        added = False
        if inbound is not None:
            added = await self._accept(inbound)
            if not added:
                log.info("%s: update %s seen before", inbound.conversation.id, update.update_id)
        if update.callback_query is not None:
            await self._answer(update.callback_query.id)
        return added

    async def _answer(self, query_id: str) -> None:
        """Stop the button's spinner on the customer's phone; best effort."""
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.warning("telegram callback query not answered: %s", exc.message)
