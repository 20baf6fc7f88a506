"""Pure converters between Telegram's Bot API objects and Loket's channel-neutral messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from bot.core.errors import BadMessage
from bot.core.messages import (
    Attachment,
    Button,
    ConversationKey,
    Inbound,
    Outbound,
    clean_payload,
    clean_text,
)
from bot.core.wire import read_json
from channels.telegram.text import split_text

CHANNEL = "telegram"
# Update types the bot asks Telegram for; everything else is answered 200 and ignored.
ALLOWED_UPDATES = ("message", "callback_query")
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
# callback_data of a button whose payload does not fit: "~" + its title; pressing it comes
# back as if the customer had typed the title.
TITLE_MARK = "~"
# Bot commands the dialogue model understands, as the intent payload Rasa expects.
COMMANDS = {"start": "/greet", "help": "/help"}


def parse_update(raw: bytes) -> Update:
    """A webhook body as a PTB `Update`, or BadMessage when it is not one."""
    data = read_json(raw)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise BadMessage("the body is not a Telegram update (no integer update_id)")
    try:
        return Update.de_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadMessage("the body is not a well-formed Telegram update") from None


def inbound_from_update(update: Update) -> Inbound | None:
    """The customer's message in `update`, or None for updates Loket does not handle (other
    update types, group chats, service messages). Raises BadMessage for unusable content."""
    message_id = str(update.update_id)
    if update.callback_query is not None:
        return _from_callback(update.callback_query, message_id)
    if update.message is not None:
        return _from_message(update.message, message_id)
    return None


def _key(chat: Chat) -> ConversationKey | None:
    # Only one-to-one chats: in a group, several customers would share one transcript.
    if chat.type != Chat.PRIVATE:
        return None
    return ConversationKey(CHANNEL, str(chat.id))


def _metadata(user: User | None) -> dict[str, Any]:
    if user is None:
        return {}
    found = {"name": user.full_name, "username": user.username, "language": user.language_code}
    return {k: v for k, v in found.items() if v}


def _from_message(message: Message, message_id: str) -> Inbound | None:
    key = _key(message.chat)
    if key is None:
        return None
    meta = _metadata(message.from_user)
    if message.text is not None:
        text = clean_text(message.text)
        return Inbound(key, text, payload=_command(text), message_id=message_id, metadata=meta)
    attachment = attachment_of(message)
    if attachment is None:
        return None
    return Inbound(key, attachment.label, message_id=message_id, metadata=meta,
                   attachment=attachment)  # fmt: skip


def _command(text: str) -> str | None:
    """The intent payload of a bot command ("/start", "/start@LoketBot ref"), else None."""
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return COMMANDS.get(name)


def _caption(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        return clean_text(raw)
    except BadMessage:
        return ""


def _coordinates(latitude: float, longitude: float) -> str:
    return f"{round(latitude, 6)},{round(longitude, 6)}"


def attachment_of(message: Message) -> Attachment | None:
    """What a non-text message carries; `ref` is the file id for getFile."""
    caption = _caption(message.caption)
    if message.photo:
        return Attachment("photo", message.photo[-1].file_id, caption)  # the largest size
    if message.voice is not None:
        return Attachment("voice", message.voice.file_id, caption)
    if message.audio is not None:
        audio = message.audio
        name = " - ".join(p for p in (audio.performer, audio.title) if p)
        return Attachment("audio", audio.file_id, caption or _caption(name or audio.file_name))
    # An animation (GIF) message also carries `document`; look at it first.
    for video in (message.animation, message.video, message.video_note):
        if video is not None:
            return Attachment("video", video.file_id, caption)
    if message.document is not None:
        doc = message.document
        return Attachment("document", doc.file_id, caption or _caption(doc.file_name))
    if message.sticker is not None:
        return Attachment("sticker", message.sticker.file_id, _caption(message.sticker.emoji))
    if message.venue is not None:
        place = message.venue
        where = _coordinates(place.location.latitude, place.location.longitude)
        return Attachment("location", "", f"{where} {_caption(place.title)}".strip())
    if message.location is not None:
        where = _coordinates(message.location.latitude, message.location.longitude)
        return Attachment("location", "", where)
    if message.contact is not None:
        c = message.contact
        parts = (c.first_name, c.last_name or "", c.phone_number)
        return Attachment("contact", "", _caption(" ".join(p for p in parts if p)))
    return None


def _from_callback(query: CallbackQuery, message_id: str) -> Inbound | None:
    message = query.message
    if message is None or query.data is None:
        return None  # a button of an inline-mode message or a game: not ours
    key = _key(message.chat)
    if key is None:
        return None
    meta = _metadata(query.from_user)
    title = _button_title(message, query.data)
    if query.data.startswith(TITLE_MARK):
        text = clean_text(title or query.data[len(TITLE_MARK) :])
        return Inbound(key, text, message_id=message_id, metadata=meta)
    payload = clean_payload(query.data)
    text = clean_text(title) if title and title.strip() else payload
    return Inbound(key, text, payload=payload, message_id=message_id, metadata=meta)


def _button_title(message: object, data: str) -> str | None:
    """The title of the pressed button, read from the keyboard of the message it sits on."""
    markup = getattr(message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore")


def callback_data(button: Button) -> str:
    """What pressing `button` sends back: the payload when it fits in 64 bytes, else the
    title marked with "~" (so the press reads as if the customer had typed the title)."""
    payload = button.payload
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(TITLE_MARK):
        return payload
    return TITLE_MARK + _truncate_utf8(button.title, MAX_CALLBACK_BYTES - len(TITLE_MARK))


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: titles stay readable on a phone."""
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(b.title, callback_data=callback_data(b))] for b in buttons]
    return InlineKeyboardMarkup(rows)


def chat_id_of(key: ConversationKey) -> int | str:
    """Telegram's chat id: an integer, or an "@channel" name."""
    chat = key.chat_id
    return int(chat) if chat.lstrip("-").isdigit() else chat


def send_requests(outbound: Outbound) -> list[Mapping[str, Any]]:
    """The sendMessage calls that deliver `outbound`: long texts split, buttons on the last."""
    parts = split_text(outbound.text)
    if not parts:
        raise BadMessage("the message is empty")
    chat_id = chat_id_of(outbound.conversation)
    markup = keyboard(outbound.buttons)
    requests: list[Mapping[str, Any]] = [{"chat_id": chat_id, "text": part} for part in parts]
    if markup is not None:
        requests[-1] = {**requests[-1], "reply_markup": markup}
    return requests
