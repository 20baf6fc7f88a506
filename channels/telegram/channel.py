"""Wiring the Telegram channel into the gateway: the Bot client, webhook or polling, the sender."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.core.channel import Accept, Receipt, Sender
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from channels.telegram import webhook
from channels.telegram.errors import retry_after_seconds
from channels.telegram.polling import Poller
from channels.telegram.sender import TelegramSender
from channels.telegram.updates import UpdateIntake

log = logging.getLogger(__name__)

REGISTER_BACKOFF = (1.0, 60.0)  # first and longest wait between webhook registration attempts


def make_bot(settings: Settings) -> Bot:
    """The Bot API client. Opts into PTB's timedelta durations (the next major version's
    type): without it PTB 22 itself emits a deprecation warning on every RetryAfter."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    api = settings.telegram_api_url.rstrip("/")
    return Bot(settings.telegram_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")


def install(
    app: web.Application, settings: Settings, accept: Accept, receipt: Receipt
) -> Sender | None:
    """Add Telegram to `app` when LOKET_TELEGRAM_TOKEN is set: the webhook route (when
    LOKET_TELEGRAM_WEBHOOK_URL is set) or a polling task, owned by `app.cleanup_ctx`.
    Telegram sends no delivery receipts, so `receipt` is not used."""
    if not settings.telegram_token:
        return None
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.getLogger("httpx").level, logging.WARNING))
    bot = make_bot(settings)
    intake = UpdateIntake(bot, accept)
    if settings.telegram_webhook_url:
        secret = webhook.webhook_secret(settings.telegram_token, settings.telegram_secret)
        app.router.add_post(webhook.PATH, webhook.handler(intake, secret))
        base = settings.telegram_webhook_url

        async def background() -> None:
            await _register_until_done(bot, base, secret)

        app.cleanup_ctx.append(_lifecycle(bot, lambda: webhook.register(bot, base, secret),
                                          background))  # fmt: skip
    else:
        app.cleanup_ctx.append(_lifecycle(bot, None, Poller(bot, intake).run))
    return TelegramSender(bot)


def _lifecycle(
    bot: Bot,
    first: Callable[[], Awaitable[None]] | None,
    background: Callable[[], Coroutine[Any, Any, None]],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Start: check the token (getMe), run `first` once; when that cannot reach Telegram, or
    always when `first` is None, run `background` as an owned task until shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task: asyncio.Task[None] | None = None
        in_background = first is None
        try:
            await bot.initialize()
            if first is not None:
                await first()
        except InvalidToken:
            await bot.shutdown()
            raise ConfigError("LOKET_TELEGRAM_TOKEN was rejected by Telegram") from None
        except ConfigError:
            await bot.shutdown()
            raise
        except TelegramError as exc:
            log.warning("telegram: cannot reach the Bot API at start (%s); retrying in the "
                        "background", exc.message)  # fmt: skip
            in_background = True
        if in_background:
            task = asyncio.create_task(background(), name="telegram")
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("telegram: the background task had failed")
            await bot.shutdown()

    return ctx


async def _register_until_done(bot: Bot, base_url: str, secret: str) -> None:
    """Webhook registration retried until Telegram answers; a refusal is logged and ends it."""
    wait, longest = REGISTER_BACKOFF
    while True:
        try:
            await bot.initialize()
            await webhook.register(bot, base_url, secret)
            return
        except ConfigError as exc:
            log.error("telegram: %s", exc)
            return
        except InvalidToken:
            log.error("telegram: LOKET_TELEGRAM_TOKEN was rejected by Telegram")
            return
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
        except TelegramError as exc:
            log.warning("telegram: webhook registration failed (%s); retrying in %.0f s",
                        exc.message, wait)  # fmt: skip
        await asyncio.sleep(wait)
        wait = min(wait * 2, longest)
