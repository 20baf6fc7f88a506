"""The web chat channel: a page at /chat for trying the bot with no external account.

It is public, so it is a gate's business (bot/gateway/webchat.py) who may open a conversation,
read it or write to it and how often; this edge only reads the request (the conversation's
secret from the `X-Loket-Chat-Secret` header, never from the URL), converts the body and
renders the answer, with strict security headers on every response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from bot.core.errors import BadMessage
from bot.core.ids import is_stream_id
from bot.core.messages import ConversationKey, Inbound, Turn, clean_payload, clean_text
from bot.core.wire import read_json_object

CHANNEL = "webchat"
STATIC = Path(__file__).parent / "static"
ASSETS = {"chat.js": "application/javascript", "chat.css": "text/css"}
SECRET_HEADER = "X-Loket-Chat-Secret"
MAX_BODY = 64 * 1024  # a message is at most 4096 characters; nothing bigger is one

AddressOf = Callable[[str | None, str | None], str]  # (peer, X-Forwarded-For) -> client


class Gate(Protocol):
    """What the web chat needs from the gateway (bot/gateway/webchat.py's WebChatGate)."""

    async def open(self, chat_id: str | None, client: str) -> tuple[str, str]: ...
    async def post(self, inbound: Inbound, secret: str | None, client: str) -> Turn: ...
    async def history(
        self, key: ConversationKey, secret: str | None, after: str
    ) -> Sequence[Mapping[str, Any]]: ...


def security_headers(frame_ancestors: str = "'none'") -> dict[str, str]:
    """Headers of every /chat response: scripts and styles only from this server, framed
    only by `frame_ancestors` (LOKET_WEBCHAT_FRAME_ANCESTORS), never sniffed or cached."""
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'; frame-ancestors {frame_ancestors}; base-uri 'none'; "
            "form-action 'self'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    return headers


def _json(raw: bytes) -> dict[str, Any]:
    return read_json_object(raw) if raw.strip() else {}


def _chat_id(value: object) -> str:
    if not isinstance(value, str):
        raise BadMessage("chat_id is required")
    return ConversationKey(CHANNEL, value).chat_id


def inbound_from_body(raw: bytes) -> Inbound:
    """Parse a POST /chat/api/messages body: {"chat_id", "text"} or {"chat_id", "payload"}."""
    body = _json(raw)
    conversation = ConversationKey(CHANNEL, _chat_id(body.get("chat_id")))
    if body.get("payload") is not None:
        payload = clean_payload(body["payload"])
        title = body.get("text")
        text = clean_text(title) if isinstance(title, str) and title.strip() else payload
        return Inbound(conversation, text, payload=payload)
    return Inbound(conversation, clean_text(body.get("text")))


def chat_id_from_body(raw: bytes) -> str | None:
    """Parse a POST /chat/api/conversations body: {} or {"chat_id"} (an id of your own)."""
    chat_id = _json(raw).get("chat_id")
    return None if chat_id is None else _chat_id(chat_id)


def turn_to_json(turn: Turn) -> dict[str, Any]:
    return {
        "replies": [
            {
                "text": reply.text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons],
            }
            for reply in turn.replies
        ]
    }


async def _body(request: web.Request) -> bytes:
    """The body, refused with 413 past MAX_BODY bytes whatever Content-Length claimed.

    A body up to the app's own cap (`request.client_max_size`) is read to its end first, so
    the client gets the 413 rather than a connection closed under it while still sending."""
    if (request.content_length or 0) > request.client_max_size:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY, request.content_length or 0)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > request.client_max_size:
            raise web.HTTPRequestEntityTooLarge(MAX_BODY, size)
        if size <= MAX_BODY:
            chunks.append(chunk)
    if size > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY, size)
    return b"".join(chunks)


def setup(
    app: web.Application, gate: Callable[[], Gate], address_of: AddressOf,
    frame_ancestors: str = "'none'",
) -> None:  # fmt: skip
    """Add the chat page and its JSON API to `app`. `gate` is called per request (it exists
    once the app's resources do)."""
    headers = security_headers(frame_ancestors)

    async def secure(request: web.Request, response: web.StreamResponse) -> None:
        # Every answer under /chat, the errors the app's middleware writes included.
        if request.path == "/chat" or request.path.startswith("/chat/"):
            for name, value in headers.items():
                response.headers.setdefault(name, value)

    def client(request: web.Request) -> str:
        return address_of(request.remote, request.headers.get("X-Forwarded-For"))

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "chat.html")

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers={"Content-Type": ASSETS[name]})

    async def open_conversation(request: web.Request) -> web.Response:
        wanted = chat_id_from_body(await _body(request))
        chat_id, secret = await gate().open(wanted, client(request))
        return web.json_response({"chat_id": chat_id, "secret": secret}, status=201)

    async def post_message(request: web.Request) -> web.Response:
        inbound = inbound_from_body(await _body(request))
        turn = await gate().post(inbound, request.headers.get(SECRET_HEADER), client(request))
        return web.json_response(turn_to_json(turn))

    async def get_messages(request: web.Request) -> web.Response:
        conversation = ConversationKey(CHANNEL, request.query.get("chat_id", ""))
        after = request.query.get("after", "")
        if after and not is_stream_id(after):
            raise BadMessage("after must be the id of a message already seen")
        lines = await gate().history(conversation, request.headers.get(SECRET_HEADER), after)
        return web.json_response({"messages": list(lines)})

    app.on_response_prepare.append(secure)  # type: ignore[arg-type]  # aiohttp's Signal typing
    app.router.add_get("/chat", page)
    app.router.add_get("/chat/static/{name}", asset)
    app.router.add_post("/chat/api/conversations", open_conversation)
    app.router.add_post("/chat/api/messages", post_message)
    app.router.add_get("/chat/api/messages", get_messages)
