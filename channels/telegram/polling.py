"""Long polling with getUpdates, for running without a public URL (a developer's laptop).

The offset moves past an update only after `accept` persisted it; Telegram forgets updates
below the offset of the next getUpdates call, so a crash before that re-delivers (and
`accept` deduplicates by update id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from channels.telegram.convert import ALLOWED_UPDATES
from channels.telegram.errors import retry_after_seconds
from channels.telegram.updates import UpdateIntake

log = logging.getLogger(__name__)


class Poller:
    """The getUpdates loop; `run` is the app's background task and ends only when cancelled."""

    def __init__(
        self,
        bot: Bot,
        intake: UpdateIntake,
        *,
        timeout: int = 30,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        self._bot = bot
        self._intake = intake
        self._timeout = timeout
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._failures = 0
        self.offset: int | None = None  # the next update id to ask for
        self._confirmed: int | None = None  # the offset Telegram has been told

    async def run(self) -> None:
        try:
            await self._delete_webhook()
            log.info("telegram: polling for updates")
            while True:
                updates = await self._fetch()
                if updates is not None:
                    await self._process(updates)
        except asyncio.CancelledError:
            await self._confirm()
            raise

    async def _pause(self, reason: str, seconds: float | None = None) -> None:
        self._failures += 1
        wait = seconds or min(self._backoff * 2 ** (self._failures - 1), self._max_backoff)
        log.warning("telegram polling: %s; retrying in %.1f s", reason, wait)
        await asyncio.sleep(wait)

    async def _delete_webhook(self) -> None:
        """getUpdates refuses to work while a webhook is set (an earlier webhook deployment)."""
        while True:
            try:
                await self._bot.delete_webhook()
                self._failures = 0
                return
            except RetryAfter as exc:
                await self._pause("rate limited", retry_after_seconds(exc))
            except TelegramError as exc:
                await self._pause(f"deleteWebhook failed: {_safe(exc)}")

    async def _fetch(self) -> tuple[Update, ...] | None:
        try:
            updates = await self._bot.get_updates(
                offset=self.offset, timeout=self._timeout, allowed_updates=list(ALLOWED_UPDATES)
            )
        except RetryAfter as exc:
            await self._pause("rate limited", retry_after_seconds(exc))
            return None
        except Conflict as exc:
            # Another process polls with this token, or someone set a webhook.
            await self._pause(f"conflict: {exc.message}")
            return None
        except TelegramError as exc:
            await self._pause(f"getUpdates failed: {_safe(exc)}")
            return None
        self._confirmed = self.offset
        self._failures = 0
        return updates

    async def _process(self, updates: tuple[Update, ...]) -> None:
        for update in updates:
            if self.offset is not None and update.update_id < self.offset:
                continue  # already handled; Telegram repeats unconfirmed updates
            try:
                await self._intake.handle(update)
            except Exception as exc:
                # Storage is down (or a bug): keep the offset at this update and try again.
                log.exception("telegram update %s not accepted", update.update_id)
                await self._pause(f"accept failed: {type(exc).__name__}")
                return
            self.offset = update.update_id + 1

    async def _confirm(self) -> None:
        """Tell Telegram about the last accepted update so a restart does not fetch it again."""
        if self.offset is None or self.offset == self._confirmed:
            return
        with contextlib.suppress(TelegramError, asyncio.TimeoutError):
            await asyncio.wait_for(self._bot.get_updates(offset=self.offset, timeout=0), 2)
            self._confirmed = self.offset


def _safe(exc: TelegramError) -> str:
    if isinstance(exc, InvalidToken):
        return "the bot token was rejected (check LOKET_TELEGRAM_TOKEN)"
    return exc.message
