"""The Telegram `Sender`: one delivery attempt per call, failures classified for the worker."""

from __future__ import annotations

import logging
import mimetypes
import posixpath
import re

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.core.channel import Media, MediaUnavailable, PartSent, SendFailed, Sent
from bot.core.errors import BadMessage
from bot.core.messages import ConversationKey, Outbound
from bot.core.templates import TemplateSpec
from channels.telegram.convert import CHANNEL, chat_id_of, send_requests
from channels.telegram.errors import send_failed

log = logging.getLogger(__name__)

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramSender:
    """Sends bot and agent messages through the Bot API; fetches customers' files."""

    channel = CHANNEL
    reply_window: float | None = None  # Telegram lets a bot answer at any time
    templates: tuple[TemplateSpec, ...] = ()  # nor has it templates: a template goes as text

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(
        self, outbound: Outbound, *, skip: int = 0, part_sent: PartSent | None = None
    ) -> Sent:
        """Send `outbound`, split when longer than Telegram allows, from part `skip + 1` on;
        each part Telegram accepts is reported to `part_sent` before the next is sent (the
        last one is in what this returns)."""
        cid = outbound.conversation.id
        try:
            requests = send_requests(outbound)
        except BadMessage as exc:
            raise SendFailed(str(exc), permanent=True) from exc
        ids: list[str] = []
        for number, kwargs in enumerate(requests[skip:], start=skip + 1):
            try:
                message = await self._bot.send_message(**kwargs)
            except TelegramError as exc:
                failure = send_failed(exc)
                log.warning("%s: part %d/%d not sent: %s", cid, number, len(requests),
                            failure.reason)  # fmt: skip
                raise failure from exc
            ids.append(str(message.message_id))
            if part_sent is not None and number < len(requests):
                await part_sent(number, ids[-1])
        log.info("%s: sent %d message(s)", cid, len(ids))
        return Sent(tuple(ids))

    async def typing(self, conversation: ConversationKey) -> None:
        """ "typing…" under the chat's name, for up to 5 s or until the next message arrives."""
        try:
            await self._bot.send_chat_action(chat_id_of(conversation), ChatAction.TYPING)
        except TelegramError as exc:
            raise send_failed(exc) from exc

    async def mark_read(self, conversation: ConversationKey, message_id: str) -> None:
        """Nothing: Telegram shows customers no read receipts from bots."""

    async def fetch_media(self, ref: str) -> Media:
        """Download a customer's file by its file id (getFile, then the file URL)."""
        if not _FILE_ID.fullmatch(ref):
            raise MediaUnavailable("not a Telegram file id")
        try:
            file = await self._bot.get_file(ref)
        except TelegramError as exc:
            raise MediaUnavailable(f"Telegram cannot hand over this file: {exc.message}") from exc
        path = file.file_path or ""
        # A local Bot API server in --local mode answers with a path on its own disk; PTB
        # would then read that path from ours. Only download from the file URL.
        if not path.startswith(self._bot.base_file_url + "/"):
            raise MediaUnavailable("Telegram gave no downloadable path for this file")
        try:
            content = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            raise MediaUnavailable(f"downloading the file failed: {exc.message}") from exc
        name = posixpath.basename(path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Media(content, content_type, name)
