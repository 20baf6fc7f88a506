"""The inbox's JSON API: every view authenticates, reads its input, calls the desk, answers JSON.

Errors are `{"error": "...", "code": "...", "params": {...}}` with 400/401/403/404/409/413/429
(see `respond_error`); `code` is stable (handoff/inbox/errors.py), the page translates it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core.errors import BadMessage, EmptyText, MessageTooLong
from bot.core.messages import ConversationKey
from bot.core.reasons import labels as reason_labels
from bot.core.wire import read_json
from handoff.inbox.auth import Caller, authenticate, still_signed_in
from handoff.inbox.canned import snippet_from_body
from handoff.inbox.errors import (
    Conflict,
    Forbidden,
    InboxError,
    Invalid,
    MediaUnavailable,
    NotFound,
    NotSignedIn,
    TooLarge,
    TooManyAttempts,
)
from handoff.inbox.finder import query_from
from handoff.inbox.parts import PARTS

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
STATUS: tuple[tuple[type[InboxError], int], ...] = (
    (Invalid, 400), (NotSignedIn, 401), (Forbidden, 403), (NotFound, 404),
    (MediaUnavailable, 404), (Conflict, 409), (TooLarge, 413), (TooManyAttempts, 429),
)  # fmt: skip
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

View = Callable[[web.Request, Caller], Awaitable[web.StreamResponse]]


def _code(exc: Exception) -> tuple[str, dict[str, Any]]:
    """The stable code of an error (and its params) that the page translates."""
    if isinstance(exc, InboxError):
        return exc.code, dict(exc.params)
    if isinstance(exc, EmptyText):
        return "text_empty", {}
    if isinstance(exc, MessageTooLong):
        return "text_too_long", {"detail": str(exc)}
    return "text_invalid", {"detail": str(exc)}


def respond_error(exc: Exception) -> web.Response:
    code, params = _code(exc)
    body: dict[str, Any] = {"error": str(exc), "code": code, "params": params}
    status, headers = 400, dict(NO_STORE)
    for kind, http_status in STATUS:
        if isinstance(exc, kind):
            status = http_status
    if isinstance(exc, MessageTooLong):
        status = 413
    if isinstance(exc, Conflict) and exc.assignee:
        body["assignee"] = exc.assignee
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    return web.json_response(body, status=status, headers=headers)


def guarded(view: View) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Authenticate, run the view, turn the inbox's errors into JSON answers."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            caller = await authenticate(request)
            return await view(request, caller)
        except (InboxError, BadMessage) as exc:
            if isinstance(exc, (NotSignedIn, Forbidden)):
                log.info("%s %s refused: %s", request.method, request.path, exc)
            return respond_error(exc)

    return handler


def answer(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=NO_STORE)


async def body_of(request: web.Request) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_BODY:
        raise TooLarge("body_too_large", limit=MAX_BODY)
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise TooLarge("body_too_large", limit=MAX_BODY)
    try:
        body = read_json(raw) if raw.strip() else {}
    except BadMessage:
        raise Invalid("bad_json") from None
    if not isinstance(body, dict):
        raise Invalid("not_object")
    return body


def conversation_of(request: web.Request, name: str = "id") -> ConversationKey:
    try:
        return ConversationKey.parse(request.match_info[name])
    except BadMessage as exc:
        raise NotFound("no_conversation", id=request.match_info[name]) from exc


async def me(request: web.Request, caller: Caller) -> web.StreamResponse:
    csrf = caller.session.csrf if caller.session else None
    team = request.app[PARTS].settings
    return answer({**caller.agent.as_json(), "csrf": csrf,
                   "preferences": caller.agent.preferences(), "team": team.as_json()})  # fmt: skip


async def preferences(request: web.Request, caller: Caller) -> web.StreamResponse:
    body = await body_of(request)
    agent = await request.app[PARTS].accounts.set_preferences(
        caller.agent.name, language=body.get("language"), auto_assign=body.get("auto_assign")
    )
    return answer({"preferences": agent.preferences()})


async def reasons(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Every handoff reason's label by language: the page keeps no copy of its own."""
    return answer({"reasons": reason_labels()})


async def queue(request: web.Request, caller: Caller) -> web.StreamResponse:
    return answer(await request.app[PARTS].desk.queue(caller.agent))


async def mine(request: web.Request, caller: Caller) -> web.StreamResponse:
    return answer(await request.app[PARTS].desk.mine(caller.agent))


async def conversation(request: web.Request, caller: Caller) -> web.StreamResponse:
    desk = request.app[PARTS].desk
    return answer(await desk.conversation(caller.agent, conversation_of(request)))


async def claim(request: web.Request, caller: Caller) -> web.StreamResponse:
    desk = request.app[PARTS].desk
    return answer(await desk.claim(caller.agent, conversation_of(request)))


async def reply(request: web.Request, caller: Caller) -> web.StreamResponse:
    body = await body_of(request)
    desk = request.app[PARTS].desk
    return answer(await desk.reply(caller.agent, conversation_of(request), body.get("text")), 201)


async def note(request: web.Request, caller: Caller) -> web.StreamResponse:
    body = await body_of(request)
    desk = request.app[PARTS].desk
    return answer(await desk.note(caller.agent, conversation_of(request), body.get("text")), 201)


async def transfer(request: web.Request, caller: Caller) -> web.StreamResponse:
    body = await body_of(request)
    desk = request.app[PARTS].desk
    return answer(await desk.transfer(caller.agent, conversation_of(request), body.get("to")))


async def hand_back(request: web.Request, caller: Caller) -> web.StreamResponse:
    desk = request.app[PARTS].desk
    return answer(await desk.hand_back(caller.agent, conversation_of(request)))


async def close(request: web.Request, caller: Caller) -> web.StreamResponse:
    body = await body_of(request)
    desk = request.app[PARTS].desk
    key = conversation_of(request)
    return answer(await desk.close(caller.agent, key, body.get("resolution"), body.get("text")))


async def template(request: web.Request, caller: Caller) -> web.StreamResponse:
    body = await body_of(request)
    outreach = request.app[PARTS].outreach
    key = conversation_of(request)
    return answer(await outreach.send_template(caller.agent, key, body.get("template")), 201)


async def typing(request: web.Request, caller: Caller) -> web.StreamResponse:
    outreach = request.app[PARTS].outreach
    return answer(await outreach.typing(caller.agent, conversation_of(request)))


async def contact(request: web.Request, caller: Caller) -> web.StreamResponse:
    finder = request.app[PARTS].finder
    return answer(await finder.story(caller.agent, conversation_of(request)))


async def search(request: web.Request, caller: Caller) -> web.StreamResponse:
    parts = request.app[PARTS]
    query = query_from(request.query, parts.settings.timezone)
    return answer(await parts.finder.search(caller.agent, query))


async def retry(request: web.Request, caller: Caller) -> web.StreamResponse:
    desk = request.app[PARTS].desk
    key = conversation_of(request)
    return answer(await desk.retry(caller.agent, key, request.match_info["entry"]))


async def canned(request: web.Request, caller: Caller) -> web.StreamResponse:
    snippets = await request.app[PARTS].canned.all()
    return answer({"canned": [s.as_json() for s in snippets]})


async def put_canned(request: web.Request, caller: Caller) -> web.StreamResponse:
    if not caller.agent.is_admin:
        raise Forbidden("admins_only")
    snippet = snippet_from_body(request.match_info["key"], await body_of(request))
    await request.app[PARTS].canned.put(snippet)
    return answer(snippet.as_json())


async def delete_canned(request: web.Request, caller: Caller) -> web.StreamResponse:
    if not caller.agent.is_admin:
        raise Forbidden("admins_only")
    await request.app[PARTS].canned.delete(request.match_info["key"])
    return web.Response(status=204, headers=NO_STORE)


async def agents(request: web.Request, caller: Caller) -> web.StreamResponse:
    return answer({"agents": await request.app[PARTS].desk.agents()})


async def events(request: web.Request, caller: Caller) -> web.StreamResponse:
    return await request.app[PARTS].live.serve(
        request, caller.agent, lambda: still_signed_in(request, caller)
    )


# Media types a browser may show inline; anything else is offered as a download.
INLINE = ("image/jpeg", "image/png", "image/gif", "image/webp", "audio/", "video/")


async def media(request: web.Request, caller: Caller) -> web.StreamResponse:
    key = conversation_of(request, "conversation")
    found = await request.app[PARTS].desk.media(caller.agent, key, request.match_info["entry"])
    inline = found.content_type.startswith(INLINE)
    name = "".join(c for c in found.filename if c.isalnum() or c in "._-")[:80] or "attachment"
    return web.Response(
        body=found.content,
        content_type=found.content_type if inline else "application/octet-stream",
        headers={
            **NO_STORE,
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


CONV = "/inbox/api/conversations/{id}"
ROUTES: tuple[tuple[str, str, View], ...] = (
    ("GET", "/inbox/api/me", me),
    ("PUT", "/inbox/api/me/preferences", preferences),
    ("GET", "/inbox/api/search", search),
    ("GET", "/inbox/api/reasons", reasons),
    ("GET", "/inbox/api/queue", queue),
    ("GET", "/inbox/api/mine", mine),
    ("GET", CONV, conversation),
    ("POST", f"{CONV}/claim", claim),
    ("POST", f"{CONV}/reply", reply),
    ("POST", f"{CONV}/notes", note),
    ("POST", f"{CONV}/transfer", transfer),
    ("POST", f"{CONV}/hand-back", hand_back),
    ("POST", f"{CONV}/close", close),
    ("POST", f"{CONV}/deliveries/{{entry}}/retry", retry),
    ("POST", f"{CONV}/template", template),
    ("POST", f"{CONV}/typing", typing),
    ("GET", f"{CONV}/contact", contact),
    ("GET", "/inbox/api/canned", canned),
    ("PUT", "/inbox/api/canned/{key}", put_canned),
    ("DELETE", "/inbox/api/canned/{key}", delete_canned),
    ("GET", "/inbox/api/agents", agents),
    ("GET", "/inbox/api/events", events),
    ("GET", "/inbox/api/media/{conversation}/{entry}", media),
)
