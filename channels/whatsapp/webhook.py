"""The Cloud API webhook: Meta's verification handshake and signed POSTs of messages and statuses.

A POST is authenticated on its raw bytes, converted, and every message accepted (persisted,
deduplicated by wamid) before the 200 goes out; when storage is down `accept` raises, the
gateway answers 503 and Meta delivers the batch again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from bot.core.channel import Accept, Receipt
from bot.core.wire import read_json_object
from channels.whatsapp import signature
from channels.whatsapp.convert import CHANNEL, read_update
from channels.whatsapp.errors import SignatureInvalid, SignatureMissing

log = logging.getLogger(__name__)

PATH = "/channels/whatsapp/webhook"
MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    app_secret: str
    verify_token: str
    phone_number_id: str = ""  # when set, webhooks for other numbers of the account are ignored


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The raw body, refused with 413 past `limit` bytes whatever Content-Length claimed."""
    if (request.content_length or 0) > limit:
        raise web.HTTPRequestEntityTooLarge(limit, request.content_length or 0)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(limit, size)
        chunks.append(chunk)
    return b"".join(chunks)


def setup(app: web.Application, config: WebhookConfig, accept: Accept, receipt: Receipt) -> None:
    """Add GET and POST /channels/whatsapp/webhook to `app`."""

    async def handshake(request: web.Request) -> web.Response:
        query = request.query
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") == "subscribe"
            and challenge
            and signature.token_matches(config.verify_token, query.get("hub.verify_token", ""))
        ):
            log.info("WhatsApp webhook verified by Meta")
            return web.Response(text=challenge, content_type="text/plain")
        log.warning("WhatsApp webhook handshake refused: wrong hub.verify_token or mode")
        raise web.HTTPForbidden(reason="wrong hub.verify_token")

    async def receive(request: web.Request) -> web.Response:
        raw = await read_body(request)
        try:
            signature.verify(config.app_secret, raw, request.headers.get(signature.HEADER))
        except SignatureMissing as exc:
            raise web.HTTPUnauthorized(reason=str(exc)) from None
        except SignatureInvalid as exc:
            log.warning("WhatsApp webhook with a wrong signature refused")
            raise web.HTTPForbidden(reason=str(exc)) from None
        update = read_update(read_json_object(raw), config.phone_number_id)
        for inbound in update.messages:
            if await accept(inbound):
                log.info("%s: message %s accepted", inbound.conversation.id, inbound.message_id)
        for status in update.statuses:
            await receipt(CHANNEL, status.message_id, status.state, status.reason)
        return web.json_response({"ok": True})

    app.router.add_get(PATH, handshake)
    app.router.add_post(PATH, receive)
