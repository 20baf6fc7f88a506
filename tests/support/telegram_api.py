"""A local Telegram Bot API server for tests, speaking the real wire format.

`POST /bot<token>/<method>` with JSON, form or query parameters answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}` as
Telegram does. It keeps an update queue for getUpdates (offset confirms, timeout long-polls),
a webhook registration it can deliver to, files for getFile and `/file/bot<token>/<path>`,
records every call, and can be told to fail a method N times.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
_INT_FIELDS = {"offset", "limit", "timeout", "message_id", "max_connections", "cache_time"}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "link_preview_options"}
_BOOL_FIELDS = {"drop_pending_updates", "show_alert", "disable_notification"}
_SECRET_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_BLOCKED = "Forbidden: bot was blocked by the user"
_CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                 "upload_voice", "upload_document", "choose_sticker", "find_location",
                 "record_video_note", "upload_video_note"}  # fmt: skip


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    status: int
    description: str
    retry_after: int | None = None


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.failure = Failure(status, description, retry_after)


@dataclass
class FakeTelegram:
    token: str = TOKEN
    calls: list[ApiCall] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)  # unconfirmed updates
    webhook: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (path, bytes)
    blocked: set[int] = field(default_factory=set)  # chats that blocked the bot
    missing: set[int] = field(default_factory=set)  # chats that do not exist
    sent: list[dict[str, Any]] = field(default_factory=list)  # messages the bot sent
    queries: set[str] = field(default_factory=set)  # callback query ids still answerable
    expired: set[str] = field(default_factory=set)  # file paths whose download link expired
    url: str = ""

    def __post_init__(self) -> None:
        self._failures: dict[str, list[Failure | None]] = {}  # None: answer this call normally
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(500)
        self._arrived = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None

    # -- scripting -------------------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; gives it the next update_id unless it has one."""
        update.setdefault("update_id", next(self._update_ids))
        query = update.get("callback_query")
        if query:
            self.queries.add(query["id"])
        self.pending.append(update)
        self._arrived.set()
        return int(update["update_id"])

    def fail(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer `times` calls of `method` with this error, once `after` more have succeeded."""
        self._failures.setdefault(method, []).extend(
            [None] * after + [Failure(status, description, retry_after)] * times
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def add_file(self, file_id: str, path: str, content: bytes) -> None:
        self.files[file_id] = (path, content)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POST `update` to the registered webhook as Telegram does; the HTTP status."""
        assert self.webhook is not None, "no webhook registered"
        update.setdefault("update_id", next(self._update_ids))
        if update.get("callback_query"):
            self.queries.add(update["callback_query"]["id"])
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as resp,
        ):
            return resp.status

    # -- server ----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1") -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{port}"
        return self.url

    async def close(self) -> None:
        self._closing = True
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
            return raw
        if request.can_read_body:
            raw.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _INT_FIELDS:
                params[key] = int(value)
            elif key in _JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in _BOOL_FIELDS:
                params[key] = value in ("true", "True", "1")
            else:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(Failure(401, "Unauthorized"))
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(ApiCall(method, params))
        scripted = self._failures.get(method)
        failure = scripted.pop(0) if scripted else None
        if failure is not None:
            return _error(failure)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(Failure(404, "Not Found"))
        try:
            result = await handler(params)
        except ApiError as exc:
            return _error(exc.failure)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(Failure(401, "Unauthorized"))
        for path, content in self.files.values():
            if path == request.match_info["path"] and path not in self.expired:
                return web.Response(body=content, content_type="application/octet-stream")
        return _error(Failure(404, "Not Found"))

    # -- methods ---------------------------------------------------------------------------
    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": 123456, "is_bot": True, "first_name": "Loket", "username": "loket_test_bot"}

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token", "")
        if secret and (len(secret) > 256 or not set(secret) <= _SECRET_CHARS):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if not params.get("url"):
            self.webhook = None
        elif not str(params["url"]).startswith(("https://", "http://127.0.0.1")):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        else:
            self.webhook = params
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.pending.clear()
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")  # fmt: skip
        offset = params.get("offset")
        if offset is not None:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        deadline = time.monotonic() + params.get("timeout", 0)
        while not self.pending and not self._closing and time.monotonic() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
        return list(self.pending[: params.get("limit", 100)])

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        if chat_id in self.blocked:
            raise ApiError(403, _BLOCKED)
        if chat_id in self.missing:
            raise ApiError(400, "Bad Request: chat not found")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private", "first_name": "Budi"},
                   "text": text}  # fmt: skip
        if markup:
            message["reply_markup"] = markup
        self.sent.append(message)
        return message

    async def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        chat_id = int(params["chat_id"])
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        if chat_id in self.blocked:
            raise ApiError(403, _BLOCKED)
        if chat_id in self.missing:
            raise ApiError(400, "Bad Request: chat not found")
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if params.get("callback_query_id") not in self.queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                "or query ID is invalid")  # fmt: skip
        self.queries.discard(params["callback_query_id"])
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id[:8]}",
                "file_size": len(content), "file_path": path}  # fmt: skip


def _error(failure: Failure) -> web.Response:
    body: dict[str, Any] = {
        "ok": False, "error_code": failure.status, "description": failure.description
    }  # fmt: skip
    if failure.retry_after is not None:
        body["parameters"] = {"retry_after": failure.retry_after}
    return web.json_response(body, status=failure.status)


# -- builders of updates as Telegram sends them ----------------------------------------------
_ids = itertools.count(1)
CHAT = 777001  # a private chat's id equals the customer's user id


def user(user_id: int = CHAT, first_name: str = "Budi") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": "Santoso",
            "username": "budi_s", "language_code": "id"}  # fmt: skip


def message(chat_id: int = CHAT, chat_type: str = "private", **content: Any) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Budi"
    else:
        chat["title"] = "Warga RT 05"
    return {"message_id": next(_ids), "date": int(time.time()), "chat": chat,
            "from": user(abs(chat_id)), **content}  # fmt: skip


def message_update(text: str | None = "halo", chat_id: int = CHAT, **kw: Any) -> dict[str, Any]:
    content = {"text": text} if text is not None else {}
    return {"message": message(chat_id, **content, **kw)}


def photo(file_id: str = "AgACAgPhoto", caption: str | None = None) -> dict[str, Any]:
    sizes = [
        {"file_id": f"{file_id}_s", "file_unique_id": "s1", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": "s2", "width": 1280, "height": 960},
    ]
    return {"photo": sizes, **({"caption": caption} if caption else {})}


def keyboard(*buttons: tuple[str, str]) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": t, "callback_data": d}] for t, d in buttons]}


def callback_update(
    data: str, chat_id: int = CHAT, buttons: tuple[tuple[str, str], ...] = (), query_id: str = ""
) -> dict[str, Any]:
    """A button press on a bot message that carried `buttons` (title, callback_data)."""
    shown = message(chat_id, text="Pilih nominal:")
    shown["from"] = {"id": 123456, "is_bot": True, "first_name": "Loket"}
    if buttons:
        shown["reply_markup"] = keyboard(*buttons)
    return {"callback_query": {"id": query_id or f"q{next(_ids)}", "from": user(chat_id),
                               "chat_instance": "ci1", "data": data, "message": shown}}  # fmt: skip


class Recorder:
    """A recording `Accept` (our own interface): new ids True, seen ids False; can fail."""

    def __init__(self, api: FakeTelegram | None = None) -> None:
        self.seen: list[Any] = []  # Inbound
        self.error: Exception | None = None
        self.api_calls_at_accept: list[int] = []  # how many API calls had happened
        self._api = api

    async def __call__(self, inbound: Any) -> bool:
        if self.error is not None:
            raise self.error
        self.api_calls_at_accept.append(len(self._api.calls) if self._api else 0)
        new = all(seen.message_id != inbound.message_id for seen in self.seen)
        self.seen.append(inbound)
        return new


async def no_receipt(channel: str, message_id: str, state: Any, reason: str) -> None:
    raise AssertionError("Telegram has no delivery receipts")
