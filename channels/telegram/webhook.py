"""Telegram's webhook: verify the secret token, persist the update, only then answer 200."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, InvalidToken

from bot.core.errors import ConfigError
from channels.telegram.convert import ALLOWED_UPDATES, parse_update
from channels.telegram.updates import UpdateIntake

log = logging.getLogger(__name__)

PATH = "/channels/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # Telegram's updates are a few kB; anything near this is not one
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webhook_secret(token: str, configured: str) -> str:
    """The secret Telegram sends with every update: LOKET_TELEGRAM_SECRET, else derived from
    the bot token so that every replica computes the same one."""
    if configured:
        if not _SECRET.fullmatch(configured):
            raise ConfigError(
                "LOKET_TELEGRAM_SECRET must be 1-256 characters: letters, digits, _ or -"
            )
        return configured
    return hmac.new(token.encode(), b"loket-telegram-webhook", hashlib.sha256).hexdigest()


def webhook_url(base_url: str) -> str:
    return base_url.rstrip("/") + PATH


async def _read_body(request: web.Request) -> bytes:
    """The body, refusing more than MAX_BODY bytes even without a Content-Length."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def handler(intake: UpdateIntake, secret: str) -> Handler:
    """The POST handler; errors from `accept` propagate to the app's middleware (503)."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.StreamResponse:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: request without the right secret token refused")
            return web.json_response({"error": "wrong or missing secret token"}, status=403)
        if (request.content_length or 0) > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(
                max_size=MAX_BODY, actual_size=request.content_length or 0
            )
        update = parse_update(await _read_body(request))
        await intake.handle(update)
        return web.json_response({"ok": True})

    return receive


async def register(bot: Bot, base_url: str, secret: str) -> None:
    """Point Telegram at this gateway. A refused URL or token is a configuration error;
    network errors propagate (the caller retries)."""
    try:
        await bot.set_webhook(
            webhook_url(base_url), secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )
    except InvalidToken:
        raise ConfigError("LOKET_TELEGRAM_TOKEN was rejected by Telegram") from None
    except BadRequest as exc:
        raise ConfigError(
            f"Telegram refused LOKET_TELEGRAM_WEBHOOK_URL={base_url}: {exc.message} "
            "(it must be a public https URL on port 443, 80, 88 or 8443)"
        ) from None
    log.info("telegram webhook registered at %s", webhook_url(base_url))
