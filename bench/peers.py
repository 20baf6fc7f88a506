"""Local stand-ins for the channels' APIs, for benchmarks and drills: Telegram's Bot API and the
WhatsApp Cloud API, each on a free port of this machine, speaking the wire format the gateway's
senders use (and nothing more), and noting when each message arrived.

Either can be told to refuse every send for a while — 429 with a retry delay, or a 5xx — as the
real APIs do under load or during an incident; a refused send is not recorded as arrived.
The builders at the end make the webhook bodies each platform posts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.ops.processes import free_port
from channels.whatsapp.signature import HEADER, sign

TELEGRAM_TOKEN = "123456:BENCH-token_abcdefghijklmnopqrstuvwxyz"
TELEGRAM_SECRET = "bench-telegram-secret"
WHATSAPP_TOKEN = "bench-whatsapp-token"
WHATSAPP_APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
GRAPH_VERSION = "v21.0"


@dataclass(frozen=True, slots=True)
class Arrival:
    """One message the API accepted: for which chat, its text, when (time.perf_counter())."""

    channel: str
    chat: str
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """How the API answers sends while refusing: an HTTP status, and for rate limits how many
    seconds to wait (Telegram's `retry_after`, WhatsApp's Retry-After header)."""

    status: int
    retry_after: int | None = None


class ChannelApi:
    """What both stand-ins share: the arrivals, the refusal switch and the server's lifecycle."""

    channel = ""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.refused = 0  # sends answered with an error while refusing
        self.url = ""
        self._refusal: Refusal | None = None
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self._last: dict[str, float] = {}  # chat -> when its latest message arrived
        self._changed: dict[str, asyncio.Event] = {}

    def refuse(self, status: int, retry_after: int | None = None) -> None:
        """Answer every send with this error until `accept()`."""
        self._refusal = Refusal(status, retry_after)

    def accept(self) -> None:
        self._refusal = None

    def _arrived(self, chat: str, text: str) -> None:
        now = time.perf_counter()
        self.arrivals.append(Arrival(self.channel, chat, text, now))
        self._last[chat] = now
        if chat in self._changed:
            self._changed[chat].set()

    async def reply_after(self, chat: str, since: float, timeout: float) -> bool:
        """Wait until a message for `chat` arrives at or after `since` (time.perf_counter());
        False if none did within `timeout` seconds. One waiter per chat: a customer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        event = self._changed.setdefault(chat, asyncio.Event())
        while self._last.get(chat, float("-inf")) < since:
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                return False
        return True

    def routes(self, app: web.Application) -> str:
        """Add the API's routes; the base URL path the gateway is configured with."""
        raise NotImplementedError

    async def start(self) -> ChannelApi:
        app = web.Application()
        path = self.routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}{path}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class TelegramApi(ChannelApi):
    """getMe, setWebhook, deleteWebhook and sendMessage of the Bot API, JSON or form encoded."""

    channel = "telegram"

    def __init__(self, token: str = TELEGRAM_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.webhook: dict[str, Any] | None = None  # what the gateway registered

    def routes(self, app: web.Application) -> str:
        app.router.add_post("/bot{token}/{method}", self._api)
        return ""

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _telegram_error(401, "Unauthorized")
        if request.content_type == "application/json":
            params: dict[str, Any] = await request.json()
        else:
            params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        method = request.match_info["method"]
        if method == "getMe":
            return _telegram_ok(
                {"id": 123456, "is_bot": True, "first_name": "Loket", "username": "loket_bench_bot"}
            )
        if method == "setWebhook":
            self.webhook = params if params.get("url") else None
            return _telegram_ok(True)
        if method == "deleteWebhook":
            self.webhook = None
            return _telegram_ok(True)
        if method != "sendMessage":
            return _telegram_error(404, "Not Found")
        if self._refusal is not None:
            self.refused += 1
            r = self._refusal
            if r.status == 429:
                return _telegram_error(
                    429,
                    f"Too Many Requests: retry after {r.retry_after}",
                    retry_after=r.retry_after or 1,
                )
            return _telegram_error(r.status, "Internal Server Error")
        chat, text = str(params.get("chat_id", "")), str(params.get("text", ""))
        if not text.strip():
            return _telegram_error(400, "Bad Request: message text is empty")
        self._arrived(chat, text)
        chat_object = {"id": int(chat), "type": "private"}
        result = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat_object}
        return _telegram_ok({**result, "text": text})


def _telegram_ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _telegram_error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


class WhatsAppApi(ChannelApi):
    """POST /<version>/<phone number id>/messages of the Cloud API, behind the bearer token."""

    channel = "whatsapp"

    def __init__(self, token: str = WHATSAPP_TOKEN) -> None:
        super().__init__()
        self.token = token

    def routes(self, app: web.Application) -> str:
        app.router.add_post(f"/{GRAPH_VERSION}/{{number}}/messages", self._messages)
        return f"/{GRAPH_VERSION}"

    async def _messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _graph_error(401, 190, "Error validating access token")
        body = await request.json()
        if self._refusal is not None:
            self.refused += 1
            r = self._refusal
            if r.status == 429:  # Meta answers its throughput limit with 400 and code 130429
                headers = {"Retry-After": str(r.retry_after)} if r.retry_after else {}
                return _graph_error(400, 130429, "Rate limit hit", headers)
            return _graph_error(r.status, 131000, "Something went wrong")
        kind = body.get("type")
        text = body["text"]["body"] if kind == "text" else body["interactive"]["body"]["text"]
        self._arrived(str(body.get("to", "")), text)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": f"wamid.bench{next(self._ids):012d}"}],
            }
        )


def _graph_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "BenchTrace",
        }
    }
    return web.json_response(body, status=status, headers=headers)


# Webhook bodies, as each platform posts them.


def telegram_update(update_id: int, chat_id: int, text: str) -> bytes:
    sender = {"id": chat_id, "is_bot": False, "first_name": "Pelanggan", "language_code": "id"}
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "text": text,
        "from": sender,
        "chat": {"id": chat_id, "type": "private", "first_name": "Pelanggan"},
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def telegram_headers(secret: str = TELEGRAM_SECRET) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}


def whatsapp_webhook(wa_id: str, wamid: str, text: str) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Pelanggan"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def whatsapp_headers(body: bytes, app_secret: str = WHATSAPP_APP_SECRET) -> dict[str, str]:
    return {HEADER: sign(app_secret, body), "Content-Type": "application/json"}


def channel_env(
    telegram: TelegramApi | None, whatsapp: WhatsAppApi | None, gateway_url: str
) -> dict[str, str]:
    """The gateway's environment for these stand-ins: Telegram by webhook, WhatsApp."""
    env: dict[str, str] = {}
    if telegram is not None:
        env.update(
            {
                "LOKET_TELEGRAM_TOKEN": telegram.token,
                "LOKET_TELEGRAM_API_URL": telegram.url,
                "LOKET_TELEGRAM_WEBHOOK_URL": gateway_url,
                "LOKET_TELEGRAM_SECRET": TELEGRAM_SECRET,
            }
        )
    if whatsapp is not None:
        env.update(
            {
                "LOKET_WHATSAPP_TOKEN": whatsapp.token,
                "LOKET_WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
                "LOKET_WHATSAPP_VERIFY_TOKEN": "bench-verify",
                "LOKET_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                "LOKET_WHATSAPP_API_URL": whatsapp.url,
            }
        )
    return env
