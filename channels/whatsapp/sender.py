"""WhatsAppSender: delivers Loket's messages through the Cloud API and fetches customers' media."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import mimetypes
import re
from types import TracebackType
from typing import Any

import aiohttp

from bot.core.channel import Media, MediaUnavailable, PartSent, SendFailed, Sent
from bot.core.messages import ConversationKey, Outbound
from bot.core.templates import TemplateSpec
from channels.whatsapp.convert import CHANNEL, outbound_requests, read_request
from channels.whatsapp.errors import ApiError, send_failed

log = logging.getLogger(__name__)

MEDIA_MAX = 100 * 1024 * 1024  # WhatsApp's largest attachment (documents)
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def _retry_after(headers: Any) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def digest_matches(expected: str, content: bytes) -> bool:
    """Whether `content` has the SHA-256 Meta reported, hex or base64 encoded (its webhooks use
    base64, the media endpoint hex); a hash in neither form is not checked."""
    digest = hashlib.sha256(content).digest()
    if _HEX_DIGEST.fullmatch(expected):
        return expected.lower() == digest.hex()
    if len(expected) == 44 and expected.endswith("="):
        return expected in (
            base64.b64encode(digest).decode(),
            base64.urlsafe_b64encode(digest).decode(),
        )
    return True


class WhatsAppSender:
    """The WhatsApp channel's `bot.core.channel.Sender`. Open it (`start` or `async with`) before
    use; it owns one HTTP session."""

    channel = CHANNEL
    reply_window: float | None = 24 * 3600.0

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        token: str,
        *,
        timeout: float = 20.0,
        templates: tuple[TemplateSpec, ...] = (),
    ) -> None:
        self.templates = templates
        self._api = api_url.rstrip("/")
        self._phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WhatsAppSender:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def send(
        self, outbound: Outbound, *, skip: int = 0, part_sent: PartSent | None = None
    ) -> Sent:
        """Send every request `outbound` needs, in order, from part `skip + 1` on; each part
        WhatsApp accepts is reported to `part_sent` before the next is sent, the last one in what
        this returns (WhatsApp has no idempotency key: a part reported is never sent again)."""
        requests = outbound_requests(outbound)
        if not requests:
            raise SendFailed("nothing to send: the message is empty", permanent=True)
        ids = []
        remaining = requests[skip:]
        for number, request in enumerate(remaining, start=skip + 1):
            wamid = await self._post(request)
            if wamid:
                ids.append(wamid)
            if part_sent is not None and number < len(requests):
                await part_sent(number, wamid)
        log.info("%s: sent %d WhatsApp message(s)", outbound.conversation.id, len(remaining))
        return Sent(tuple(ids))

    async def typing(self, conversation: ConversationKey) -> None:
        """Nothing: the Cloud API shows a typing indicator only together with a read mark."""

    async def mark_read(self, conversation: ConversationKey, message_id: str) -> None:
        """Mark the customer's message `message_id` (a wamid) and every earlier one read."""
        await self._request(read_request(message_id))

    async def _post(self, request: dict[str, Any]) -> str:
        body = await self._request(request)
        messages = body.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id", ""))
        log.warning("the WhatsApp API accepted a message but returned no message id")
        return ""

    async def _request(self, request: dict[str, Any]) -> dict[str, Any]:
        """POST one request to the number's /messages endpoint; its JSON answer."""
        url = f"{self._api}/{self._phone_number_id}/messages"
        try:
            async with self._open().post(url, json=request) as response:
                body = await _json(response)
                if response.status >= 400 or not isinstance(body, dict):
                    error = ApiError.from_response(response.status, body)
                    raise send_failed(error, _retry_after(response.headers))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise SendFailed(f"cannot reach the WhatsApp API: {exc!r}", permanent=False) from exc
        return body

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise SendFailed("the WhatsApp sender is not started", permanent=False)
        return self._session

    async def fetch_media(self, ref: str) -> Media:
        """A customer's attachment: look the media id up, then download it (both with the
        token). The download URL is valid for a few minutes, so it is never stored."""
        if not _MEDIA_ID.fullmatch(ref):
            raise MediaUnavailable(f"not a WhatsApp media id: {ref!r}")
        try:
            session = self._open()
        except SendFailed as exc:
            raise MediaUnavailable(exc.reason) from None
        try:
            async with session.get(f"{self._api}/{ref}") as response:
                info = await _json(response)
                if response.status != 200 or not isinstance(info, dict) or not info.get("url"):
                    error = ApiError.from_response(response.status, info)
                    raise MediaUnavailable(f"WhatsApp has no media {ref}: {error.message}")
            content = await self._download(session, str(info["url"]))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise MediaUnavailable(f"cannot reach the WhatsApp API: {exc!r}") from exc
        if not digest_matches(str(info.get("sha256") or ""), content):
            raise MediaUnavailable(f"media {ref} arrived damaged (sha256 mismatch)")
        content_type = str(info.get("mime_type") or "application/octet-stream")
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
        return Media(content, content_type, f"{ref}{extension}")

    async def _download(self, session: aiohttp.ClientSession, url: str) -> bytes:
        if not url.startswith(("https://", "http://")):
            raise MediaUnavailable("the media URL is not an http(s) URL")
        async with session.get(url) as response:
            if response.status != 200:
                raise MediaUnavailable(f"the media download answered HTTP {response.status}")
            if (response.content_length or 0) > MEDIA_MAX:
                raise MediaUnavailable("the media is larger than 100 MB")
            chunks, size = [], 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MEDIA_MAX:
                    raise MediaUnavailable("the media is larger than 100 MB")
                chunks.append(chunk)
            return b"".join(chunks)
