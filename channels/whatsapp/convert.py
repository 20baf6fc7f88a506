"""Cloud API JSON to and from Loket's types: webhook bodies in, message requests out.

Pure functions, one per direction; nothing past this module sees WhatsApp's JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.channel import DeliveryState
from bot.core.errors import BadMessage
from bot.core.messages import (
    Attachment,
    Button,
    ConversationKey,
    Inbound,
    Outbound,
    Template,
    clean_payload,
    clean_text,
)
from channels.whatsapp.errors import failure_reason
from channels.whatsapp.layout import Json, message_requests

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
# Webhook media types and the attachment kinds of bot.core.messages.
MEDIA_KINDS = {
    "image": "photo",
    "audio": "audio",
    "voice": "voice",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
}
STATES = {
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "failed": DeliveryState.FAILED,
}

__all__ = [
    "CHANNEL", "StatusUpdate", "Update", "outbound_requests", "read_request", "read_update",
    "template_request",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A delivery receipt: WhatsApp's id of a message we sent (wamid) and its new state."""

    message_id: str
    state: DeliveryState
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Update:
    """What one webhook POST carries for Loket; everything else in it is ignored."""

    messages: tuple[Inbound, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


def read_update(body: Mapping[str, Any], phone_number_id: str = "") -> Update:
    """The messages and statuses in a webhook body. Changes of other fields, other business
    numbers (when `phone_number_id` is given) and message types Loket does not map are left
    out, so the webhook can acknowledge them and Meta does not retry."""
    messages: list[Inbound] = []
    statuses: list[StatusUpdate] = []
    for value in _values(body):
        number = _dict(value.get("metadata")).get("phone_number_id")
        if phone_number_id and number and str(number) != phone_number_id:
            log.info("webhook for another phone number id %s ignored", number)
            continue
        names = _profile_names(value)
        for raw in _dicts(value.get("messages")):
            inbound = _inbound(raw, names)
            if inbound is not None:
                messages.append(inbound)
        for raw in _dicts(value.get("statuses")):
            status = _status(raw)
            if status is not None:
                statuses.append(status)
    return Update(tuple(messages), tuple(statuses))


def _values(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if body.get("object") not in (None, "whatsapp_business_account"):
        return
    for entry in _dicts(body.get("entry")):
        for change in _dicts(entry.get("changes")):
            if change.get("field", "messages") == "messages":
                yield _dict(change.get("value"))


def _dict(raw: object) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _dicts(raw: object) -> Iterator[Mapping[str, Any]]:
    if isinstance(raw, list):
        yield from (item for item in raw if isinstance(item, Mapping))


def _profile_names(value: Mapping[str, Any]) -> dict[str, str]:
    names = {}
    for contact in _dicts(value.get("contacts")):
        name = _dict(contact.get("profile")).get("name")
        if isinstance(name, str) and contact.get("wa_id"):
            names[str(contact["wa_id"])] = name
    return names


def _soft(raw: object) -> str:
    """Optional text (a caption): cleaned, or empty when there is none."""
    try:
        return clean_text(raw)
    except BadMessage:
        return ""


def _inbound(raw: Mapping[str, Any], names: Mapping[str, str]) -> Inbound | None:
    wamid, sender, kind = raw.get("id"), raw.get("from"), raw.get("type")
    if not isinstance(wamid, str) or not wamid or not isinstance(sender, str):
        log.warning("webhook message without id or sender ignored")
        return None
    try:
        conversation = ConversationKey(CHANNEL, sender)
        content = _content(str(kind), raw)
    except BadMessage as exc:
        log.warning("whatsapp:%s: message %s not accepted: %s", sender, wamid, exc)
        return None
    if content is None:
        log.info("whatsapp:%s: message %s of type %s ignored", sender, wamid, kind)
        return None
    text, payload, attachment = content
    metadata: dict[str, Any] = {"type": kind}
    if sender in names:
        metadata["name"] = names[sender]
    if (
        isinstance(raw.get("timestamp"), str)
        and raw["timestamp"].isascii()
        and raw["timestamp"].isdigit()
    ):
        metadata["timestamp"] = int(raw["timestamp"])
    replied_to = _dict(raw.get("context")).get("id")
    if isinstance(replied_to, str):
        metadata["in_reply_to"] = replied_to
    return Inbound(conversation, text, payload, wamid, metadata, attachment)


Content = tuple[str, "str | None", "Attachment | None"]


def _content(kind: str, raw: Mapping[str, Any]) -> Content | None:
    body = _dict(raw.get(kind))
    if kind == "text":
        return clean_text(body.get("body")), None, None
    if kind == "interactive":
        reply = _dict(body.get(str(body.get("type"))))
        if body.get("type") not in ("button_reply", "list_reply"):
            return None
        return _choice(reply.get("id"), reply.get("title"))
    if kind == "button":  # a template's quick-reply button
        return _choice(body.get("payload") or body.get("text"), body.get("text"))
    if kind in MEDIA_KINDS:
        media_id = body.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise BadMessage(f"{kind} without a media id")
        name = "voice" if kind == "audio" and body.get("voice") else MEDIA_KINDS[kind]
        caption = _soft(body.get("caption")) or _soft(body.get("filename"))
        return _attached(Attachment(name, media_id, caption))
    if kind == "location":
        return _attached(Attachment("location", "", _place(body)))
    if kind == "contacts":
        cards = [_card(card) for card in _dicts(raw.get("contacts"))]
        return _attached(Attachment("contact", "", "; ".join(c for c in cards if c)))
    return None  # reactions, orders, system notices, "unsupported": nothing for the bot


def _choice(payload: object, title: object) -> Content:
    clean = clean_payload(payload)
    return _soft(title) or clean, clean, None


def _attached(attachment: Attachment) -> Content:
    return attachment.label, None, attachment


def _place(body: Mapping[str, Any]) -> str:
    words = [_soft(body.get("name")), _soft(body.get("address"))]
    lat, lon = body.get("latitude"), body.get("longitude")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        words.append(f"({lat}, {lon})")
    return " ".join(w for w in words if w)


def _card(card: Mapping[str, Any]) -> str:
    name = _soft(_dict(card.get("name")).get("formatted_name"))
    phones = [_soft(p.get("phone")) for p in _dicts(card.get("phones"))]
    return " ".join(w for w in [name, *phones] if w)


def _status(raw: Mapping[str, Any]) -> StatusUpdate | None:
    wamid, state = raw.get("id"), STATES.get(str(raw.get("status")))
    if not isinstance(wamid, str) or not wamid or state is None:
        return None
    reason = ""
    if state is DeliveryState.FAILED:
        error = next(_dicts(raw.get("errors")), {})
        details = _dict(error.get("error_data")).get("details")
        message = details or error.get("message") or error.get("title") or "no reason given"
        code = error.get("code")
        reason = failure_reason(code if isinstance(code, int) else None, str(message))
    return StatusUpdate(wamid, state, reason)


def outbound_requests(outbound: Outbound) -> list[Json]:
    """The Cloud API message requests that deliver `outbound`, in order."""
    if outbound.template is not None:
        return [template_request(outbound.conversation.chat_id, outbound.template)]
    buttons = _unique(outbound.buttons)
    return message_requests(outbound.conversation.chat_id, outbound.text.strip(), buttons)


def template_request(to: str, template: Template) -> Json:
    """An approved template message; its body's {{1}}, {{2}} … take `template.params`."""
    body: Json = {"name": template.name, "language": {"code": template.language}}
    if template.params:
        parameters = [{"type": "text", "text": p} for p in template.params]
        body["components"] = [{"type": "body", "parameters": parameters}]
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template", "template": body}  # fmt: skip


def read_request(message_id: str) -> Json:
    """Marks a customer's message, and every earlier one, read (the blue ticks)."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}


def _unique(buttons: tuple[Button, ...]) -> list[Button]:
    """WhatsApp refuses two buttons with the same id: keep the first of each payload."""
    seen: set[str] = set()
    kept = []
    for button in buttons:
        if button.payload and button.payload not in seen:
            seen.add(button.payload)
            kept.append(button)
    return kept
