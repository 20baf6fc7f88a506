"""Wiring of the WhatsApp channel into the gateway: settings checked, routes and sender added."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.core.channel import Accept, Receipt, Sender
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from channels.whatsapp import webhook
from channels.whatsapp.sender import WhatsAppSender

log = logging.getLogger(__name__)


def install(
    app: web.Application, settings: Settings, accept: Accept, receipt: Receipt
) -> Sender | None:
    """Add the WhatsApp webhook to `app` and return its sender, or None when no WhatsApp
    number is configured. A half-done configuration fails the start, naming the variable."""
    if not settings.whatsapp_token and not settings.whatsapp_phone_number_id:
        return None
    required = {
        "LOKET_WHATSAPP_TOKEN": settings.whatsapp_token,
        "LOKET_WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id,
        "LOKET_WHATSAPP_APP_SECRET": settings.whatsapp_app_secret,
        "LOKET_WHATSAPP_VERIFY_TOKEN": settings.whatsapp_verify_token,
    }
    for name, value in required.items():
        if not value:
            raise ConfigError(f"{name} must be set to use WhatsApp (see docs/whatsapp.md)")
    config = webhook.WebhookConfig(
        settings.whatsapp_app_secret,
        settings.whatsapp_verify_token,
        settings.whatsapp_phone_number_id,
    )
    webhook.setup(app, config, accept, receipt)
    sender = WhatsAppSender(
        settings.whatsapp_api_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_token,
        templates=settings.whatsapp_templates,
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await sender.start()
        log.info("WhatsApp channel ready: webhook at %s", webhook.PATH)
        yield
        await sender.close()

    app.cleanup_ctx.append(lifecycle)
    return sender
