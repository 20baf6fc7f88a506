"""Finding conversations and the customer behind one: the search box and filters, and the
contact panel (their numbers, other conversations and every handoff of theirs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.messages import ConversationKey
from bot.core.reasons import Reason
from handoff import index, keys
from handoff.contacts import Contacts
from handoff.inbox.accounts import NAME, Agent
from handoff.inbox.desk import Desk
from handoff.inbox.errors import Invalid, NotFound
from handoff.inbox.services import InboxServices
from handoff.search import LIMIT, Query, Search
from handoff.status import Status
from handoff.store import now_ms
from handoff.transcript import Entry, Role

MAX_QUERY = 200  # characters of one search field
SNIPPET_SCAN = 200  # newest transcript lines looked at for the line that matched
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
_FILTERS: dict[str, tuple[str, ...]] = {
    "status": tuple(s.value for s in Status),
    "reason": tuple(r.value for r in Reason),
}


def _day(raw: str, name: str, zone: ZoneInfo, *, end: bool) -> int:
    """ms since the epoch of the start (or end) of a day in the service's time zone."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid("bad_date", name=name) from None
    moment = datetime.combine(day, time.min, zone) + (timedelta(days=1) if end else timedelta())
    return int(moment.timestamp() * 1000) - (1 if end else 0)


day_bound = _day  # a date's first or last millisecond, for the other lists' filters


def query_from(params: Mapping[str, str], timezone: str) -> Query:
    """A Query from the search form's fields (`q`, `meter`, `ticket`, `transaction`, `agent`,
    `status`, `reason`, `channel`, `from`, `to` as dates, `limit`); raises Invalid naming the
    field that is wrong."""
    found: dict[str, Any] = {}
    for name in ("q", "meter", "ticket", "transaction"):
        value = params.get(name, "").strip()
        if len(value) > MAX_QUERY:
            raise Invalid("query_too_long", limit=MAX_QUERY)
        found["text" if name == "q" else name] = value
    for name, choices in _FILTERS.items():
        value = params.get(name, "").strip()
        if value and value not in choices:
            raise Invalid("bad_filter", name=name, choices=", ".join(choices))
        found[name] = value
    agent = params.get("agent", "").strip()
    if agent and not NAME.fullmatch(agent):
        raise Invalid("agent_name")
    channel = params.get("channel", "").strip()
    if channel and not _CHANNEL.fullmatch(channel):
        raise Invalid("bad_filter", name="channel", choices="webchat, telegram, whatsapp")
    zone = ZoneInfo(timezone)
    since = params.get("from", "").strip()
    until = params.get("to", "").strip()
    try:
        limit = int(params.get("limit") or LIMIT)
    except ValueError:
        raise Invalid("bad_filter", name="limit", choices="1-100") from None
    if not 1 <= limit <= 100:
        raise Invalid("bad_filter", name="limit", choices="1-100")
    return Query(
        agent=agent, channel=channel, limit=limit,
        since=_day(since, "from", zone, end=False) if since else 0,
        until=_day(until, "to", zone, end=True) if until else 0,
        **found,
    )  # fmt: skip


def _matches(entry: Entry, words: list[str]) -> bool:
    folded = index.fold(entry.text)
    return all(w in folded for w in words)


class Finder:
    def __init__(
        self,
        services: InboxServices,
        desk: Desk,
        search: Search,
        contacts: Contacts,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._s = services
        self._redis = services.store.redis
        self._desk = desk
        self._search = search
        self._contacts = contacts
        self._clock = clock

    async def search(self, agent: Agent, query: Query) -> dict[str, Any]:
        """Matching conversations, most recently active first; for words, the customer's
        newest line that has them all."""
        found = await self._search.find(query)
        cards = await self._desk.cards(agent, found.ids)
        looked_for = [
            *query.words,
            *(index.ref_value(v) for v in (query.meter, query.ticket, query.transaction) if v),
        ]
        if looked_for and cards:
            async with self._s.store.guard():
                pipe = self._redis.pipeline(transaction=False)
                for card in cards:
                    pipe.xrevrange(keys.transcript(card["id"]), count=SNIPPET_SCAN)
                rows = await pipe.execute()
            for card, lines in zip(cards, rows, strict=True):
                entries = (Entry.from_fields(i, f) for i, f in lines)
                hit = next((e for e in entries if e.role is Role.CUSTOMER
                            and _matches(e, looked_for)), None)  # fmt: skip
                card["snippet"] = {"entry_id": hit.id, "text": hit.text[:300], "ts": hit.ts} \
                    if hit else None  # fmt: skip
        return {"now": self._clock(), "conversations": cards, "more": found.more}

    async def story(self, agent: Agent, key: ConversationKey) -> dict[str, Any]:
        """The customer behind the conversation: their contact, other conversations and
        handoffs (how many this week)."""
        if not await self._s.conversations.exists(key):
            raise NotFound("no_conversation", id=key.id)
        return {"now": self._clock(), **await self._contacts.story(key, self._clock())}
