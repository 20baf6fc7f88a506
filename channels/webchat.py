"""The web chat channel: a page at /chat for trying the bot with no external account."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.errors import BadMessage
from bot.core.messages import ConversationKey, Inbound, Turn, clean_payload, clean_text

CHANNEL = "webchat"
STATIC = Path(__file__).parent / "static"
_MESSAGE_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

Send = Callable[[Inbound], Awaitable[Turn]]
History = Callable[[ConversationKey, str], Awaitable[Sequence[Mapping[str, Any]]]]


def inbound_from_body(raw: bytes) -> Inbound:
    """Parse a POST /chat/api/messages body: {"chat_id", "text"} or {"chat_id", "payload"}."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadMessage("the body must be UTF-8 encoded JSON") from None
    except json.JSONDecodeError:
        raise BadMessage("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadMessage("the body must be a JSON object")
    chat_id = body.get("chat_id")
    if not isinstance(chat_id, str):
        raise BadMessage("chat_id is required")
    conversation = ConversationKey(CHANNEL, chat_id)
    if body.get("payload") is not None:
        payload = clean_payload(body["payload"])
        title = body.get("text")
        text = clean_text(title) if isinstance(title, str) and title.strip() else payload
        return Inbound(conversation, text, payload=payload)
    return Inbound(conversation, clean_text(body.get("text")))


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


def setup(app: web.Application, *, send: Send, history: History) -> None:
    """Add the chat page and its JSON API to `app`."""

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "chat.html")

    async def post_message(request: web.Request) -> web.Response:
        inbound = inbound_from_body(await request.read())
        return web.json_response(turn_to_json(await send(inbound)))

    async def get_messages(request: web.Request) -> web.Response:
        conversation = ConversationKey(CHANNEL, request.query.get("chat_id", ""))
        after = request.query.get("after", "")
        if after and not _MESSAGE_ID.match(after):
            raise BadMessage("after must be the id of a message already seen")
        lines = await history(conversation, after)
        return web.json_response({"messages": list(lines)})

    app.router.add_get("/chat", page)
    app.router.add_post("/chat/api/messages", post_message)
    app.router.add_get("/chat/api/messages", get_messages)
