"""The trainers' review in the inbox: what the bot did not understand, grouped by similar text,
labelled (an intent, out of scope, or dismissed) from the page; and agents' "the customer
meant" on a customer's line, which joins the same list.

Trainers and admins review and label; any signed-in account may suggest what a line meant.
A label writes one example into nlu_data/ through the composition root's ExampleBook (file
work runs in a thread, off the event loop) and records the decision on every item it covers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.core.errors import ExampleRefused
from bot.core.examples import ExampleBook
from bot.core.reasons import ABOUT_UNDERSTANDING, NOT_UNDERSTOOD_INTENTS
from handoff.inbox.accounts import Agent, AgentRole
from handoff.inbox.api import answer, body_of, conversation_of
from handoff.inbox.auth import Caller
from handoff.inbox.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.inbox.finder import day_bound
from handoff.inbox.parts import PARTS, Parts
from handoff.review_items import (
    AGENT_LABEL,
    DISMISSED,
    LABELLED,
    STATUSES,
    Item,
    ReviewFilter,
    customer_line,
)
from handoff.store import now_ms

log = logging.getLogger(__name__)

MAX_IDS = 500  # items one label or dismissal may cover
MAX_GROUPS = 200  # groups one answer lists
DEFAULT_DAYS = 30
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ENTRY = re.compile(r"\d{1,20}-\d{1,20}")
# Why a message is on the list: the bot's guess, the handoff it led to, or an agent's label.
WHYS = (*sorted(NOT_UNDERSTOOD_INTENTS), *sorted(r.value for r in ABOUT_UNDERSTANDING),
        AGENT_LABEL)  # fmt: skip


def _trainer(agent: Agent) -> None:
    if agent.role not in (AgentRole.TRAINER, AgentRole.ADMIN):
        raise Forbidden("trainers_only")


def _examples(parts: Parts) -> ExampleBook:
    if parts.examples is None:
        raise Conflict("no_examples")
    return parts.examples


def filter_from(params: Any, timezone: str) -> ReviewFilter:
    """The list's filters from the query: `from`, `to` (dates on the service's clock; the
    last 30 days by default), `channel`, `reason`, `status` (open, labelled, dismissed, all)."""
    zone = ZoneInfo(timezone)
    since_raw, until_raw = params.get("from", "").strip(), params.get("to", "").strip()
    since = day_bound(since_raw, "from", zone, end=False) if since_raw else (
        now_ms() - DEFAULT_DAYS * 86_400_000
    )  # fmt: skip
    until = day_bound(until_raw, "to", zone, end=True) if until_raw else None
    channel = params.get("channel", "").strip()
    if channel and not _CHANNEL.fullmatch(channel):
        raise Invalid("bad_filter", name="channel", choices="webchat, telegram, whatsapp")
    reason = params.get("reason", "").strip()
    if reason and reason not in WHYS:
        raise Invalid("bad_filter", name="reason", choices=", ".join(WHYS))
    status = params.get("status", "open").strip() or "open"
    if status not in (*STATUSES, "all"):
        raise Invalid("bad_filter", name="status", choices=", ".join((*STATUSES, "all")))
    return ReviewFilter(since, until, channel, reason, "" if status == "all" else status)


async def review(request: web.Request, caller: Caller) -> web.StreamResponse:
    _trainer(caller.agent)
    parts = request.app[PARTS]
    shown = filter_from(request.query, parts.settings.timezone)
    await parts.review.scan()
    groups = await parts.review.groups(shown)
    return answer({
        "groups": [g.as_json() for g in groups[:MAX_GROUPS]],
        "total_groups": len(groups), "total_items": sum(len(g.items) for g in groups),
        "reasons": list(WHYS), "statuses": list(STATUSES),
    })  # fmt: skip


async def intents(request: web.Request, caller: Caller) -> web.StreamResponse:
    """The intents and entities a label may name (the domain's)."""
    parts = request.app[PARTS]
    if parts.examples is None:
        return answer({"intents": [], "entities": [], "writable": False})
    book = parts.examples
    return answer({"intents": list(book.intents()), "entities": list(book.entities()),
                   "writable": True})  # fmt: skip


async def _items(parts: Parts, body: dict[str, Any]) -> list[Item]:
    ids = body.get("items")
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS
            or not all(isinstance(i, str) and len(i) <= 64 for i in ids)):  # fmt: skip
        raise Invalid("review_items", limit=MAX_IDS)
    found = await parts.review.get(ids)
    missing = set(ids) - {i.id for i in found}
    if missing:
        raise NotFound("no_review_item", id=sorted(missing)[0])
    return found


def _refused(exc: ExampleRefused) -> Conflict:
    code = exc.code if exc.code.startswith("example_") else f"example_{exc.code}"
    return Conflict(code, **exc.params)


async def label(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Write the example (`example`, with entity marks; the first item's text by default) under
    `intent` and mark every item labelled; a refusal answers 409 with the reason."""
    _trainer(caller.agent)
    parts = request.app[PARTS]
    body = await body_of(request)
    book = _examples(parts)
    items = await _items(parts, body)
    intent = body.get("intent")
    if not isinstance(intent, str) or not intent:
        raise Invalid("label_intent")
    example = body.get("example", items[0].text)
    if not isinstance(example, str):
        raise Invalid("label_intent")
    try:
        placed = await asyncio.to_thread(book.add, intent, example)
    except ExampleRefused as exc:
        log.info("%s: label %s refused: %s", caller.agent.name, intent, exc.code)
        raise _refused(exc) from None
    decided = await parts.review.decide(
        items, status=LABELLED, by=caller.agent.name, intent=placed.intent,
        example=placed.text, path=placed.path, line=placed.line,
    )  # fmt: skip
    log.info("%s labelled %d item(s) %s: %s:%d", caller.agent.name, len(decided), placed.intent,
             placed.path, placed.line)  # fmt: skip
    return answer({"placed": placed.as_json(), "items": [i.as_json() for i in decided]}, 201)


async def dismiss(request: web.Request, caller: Caller) -> web.StreamResponse:
    _trainer(caller.agent)
    parts = request.app[PARTS]
    items = await _items(parts, await body_of(request))
    decided = await parts.review.decide(items, status=DISMISSED, by=caller.agent.name)
    return answer({"items": [i.as_json() for i in decided]})


async def meant(request: web.Request, caller: Caller) -> web.StreamResponse:
    """An agent's "the customer meant: INTENT" on a customer line: into the review list."""
    parts = request.app[PARTS]
    key = conversation_of(request)
    body = await body_of(request)
    entry_id, intent = body.get("entry"), body.get("intent")
    if not isinstance(entry_id, str) or not _ENTRY.fullmatch(entry_id):
        raise NotFound("no_message", entry=str(entry_id)[:40], id=key.id)
    known = _examples(parts).intents()
    if not isinstance(intent, str) or intent not in known:
        raise Invalid("label_intent")
    entries = await parts.transcript.read(key)
    found = customer_line(entries, entry_id)
    if found is None:
        if any(e.id == entry_id for e in entries):
            raise Invalid("not_customer_line", entry=entry_id, id=key.id)
        raise NotFound("no_message", entry=entry_id, id=key.id)
    item = await parts.review.suggest(key, found[0], found[1], intent, caller.agent.name)
    log.info("%s: %s says %s meant %s", key.id, caller.agent.name, entry_id, intent)
    return answer({"item": item.as_json()}, 201)


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/inbox/api/review", review),
    ("GET", "/inbox/api/review/intents", intents),
    ("POST", "/inbox/api/review/label", label),
    ("POST", "/inbox/api/review/dismiss", dismiss),
    ("POST", "/inbox/api/conversations/{id}/meant", meant),
)
