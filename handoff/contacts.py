"""The customer across conversations: who they are (their channel's name, the account name and
the numbers the bot collected), every handoff of theirs, and their other conversations — on
another channel, or with the same meter number — so an agent sees "the third report this week".

A conversation is one customer on one channel; conversations are linked through the meter
numbers, customer ids, transactions and tickets the bot collected in them (handoff/index.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.messages import ConversationKey
from bot.core.templates import VARIABLES
from handoff import index, keys
from handoff.store import Store

RELATED_MAX = 20  # other conversations shown per contact
RECENT_MS = 7 * 24 * 3600 * 1000  # "handoffs this week"


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    """One handoff of a conversation, as the transitions' script keeps it."""

    conversation_id: str
    handoff_id: str
    reason: str
    at: int
    status: str = ""
    language: str = ""
    brief: Mapping[str, Any] = field(default_factory=dict)  # Summary.brief() at the handoff
    assignee: str = ""
    ended_at: int = 0
    outcome: str = ""  # "closed" or "hand_back" once it ended
    resolution: str = ""
    review_items: tuple[str, ...] = ()  # the trainers' review items it produced

    @classmethod
    def from_json(cls, conversation_id: str, handoff_id: str, raw: str) -> HandoffRecord:
        data: dict[str, Any] = json.loads(raw)
        items = data.get("review_items")
        return cls(
            conversation_id, handoff_id, str(data.get("reason", "")), int(data.get("at") or 0),
            str(data.get("status", "")), str(data.get("language", "")),
            _brief(data.get("brief")), str(data.get("assignee", "")),
            int(data.get("ended_at") or 0), str(data.get("outcome", "")),
            str(data.get("resolution", "")),
            tuple(str(i) for i in items) if isinstance(items, list) else (),
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation_id, "handoff_id": self.handoff_id,
            "reason": self.reason, "at": self.at, "status": self.status,
            "language": self.language, "brief": dict(self.brief), "assignee": self.assignee,
            "ended_at": self.ended_at, "outcome": self.outcome, "resolution": self.resolution,
            "review_items": list(self.review_items),
        }  # fmt: skip


def _brief(raw: object) -> dict[str, Any]:
    """The brief as stored; Lua's JSON writes an empty table as {} where a list was."""
    if not isinstance(raw, dict):
        return {}
    wanted = raw.get("wanted")
    collected = raw.get("collected")
    return {
        "wanted": wanted if isinstance(wanted, list) else [],
        "collected": collected if isinstance(collected, dict) else {},
        "failed_turns": int(raw.get("failed_turns") or 0),
    }


@dataclass(frozen=True, slots=True)
class Contact:
    """Who the customer of one conversation is."""

    conversation: ConversationKey
    name: str = ""  # as their channel shows them (WhatsApp profile, Telegram name)
    account: str = ""  # the account holder's name the utility's provider gave for their meter
    refs: Mapping[str, Sequence[str]] = field(default_factory=dict)  # kind -> values, newest first

    def variables(self) -> dict[str, str]:
        """What {name}, {meter} and {ticket} stand for in canned replies and templates ("" when
        unknown): the newest number of each kind."""
        meters = [*self.refs.get("meter", ()), *self.refs.get("customer", ())]
        found = {
            "name": self.name or self.account.title(),
            "meter": meters[0] if meters else "",
            "ticket": next(iter(self.refs.get("ticket", ())), "").upper(),
        }
        return {k: found[k] for k in VARIABLES}

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.conversation.id, "channel": self.conversation.channel,
            "chat_id": self.conversation.chat_id, "name": self.name, "account": self.account,
            "refs": {k: list(v) for k, v in self.refs.items()}, "variables": self.variables(),
        }  # fmt: skip


class Contacts:
    """Reads contacts, their handoffs and their other conversations."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._redis = store.redis

    async def contact(self, key: ConversationKey) -> Contact:
        async with self._store.guard():
            pipe = self._redis.pipeline(transaction=False)
            pipe.hmget(keys.conversation(key.id), ["name", "account"])
            pipe.hgetall(keys.conversation_refs(key.id))
            (name, account), stored = await pipe.execute()
        newest = sorted(stored.items(), key=lambda kv: -int(kv[1] or 0))
        refs: dict[str, list[str]] = {}
        for member, _ in newest:
            kind, _, value = member.partition(":")
            if kind in index.REF_KINDS and value:
                refs.setdefault(kind, []).append(value)
        return Contact(key, name or "", account or "", refs)

    async def handoffs(self, ids: Sequence[str]) -> list[HandoffRecord]:
        """Every handoff of these conversations, newest first."""
        if not ids:
            return []
        async with self._store.guard():
            pipe = self._redis.pipeline(transaction=False)
            for cid in ids:
                pipe.hgetall(keys.handoff_history(cid))
            found = await pipe.execute()
        records = [
            HandoffRecord.from_json(cid, hid, raw)
            for cid, rows in zip(ids, found, strict=True)
            for hid, raw in rows.items()
        ]
        return sorted(records, key=lambda r: -r.at)

    async def related(self, contact: Contact, limit: int = RELATED_MAX) -> list[str]:
        """Other conversations where the bot collected one of this contact's numbers, most
        recently active first."""
        index_keys = [keys.search_ref(k, v) for k, values in contact.refs.items() for v in values]
        if not index_keys:
            return []
        async with self._store.guard():
            pipe = self._redis.pipeline(transaction=False)
            for key in index_keys:
                pipe.zrevrange(key, 0, limit, withscores=True)
            found = await pipe.execute()
        best: dict[str, float] = {}
        for rows in found:
            for cid, score in rows:
                best[cid] = max(best.get(cid, 0.0), score)
        best.pop(contact.conversation.id, None)
        return sorted(best, key=lambda cid: -best[cid])[:limit]

    async def story(self, key: ConversationKey, now: int) -> dict[str, Any]:
        """The contact, their other conversations, and every handoff of all of them, with how
        many came in the last seven days."""
        contact = await self.contact(key)
        others = await self.related(contact)
        records = await self.handoffs([key.id, *others])
        async with self._store.guard():
            pipe = self._redis.pipeline(transaction=False)
            for cid in others:
                pipe.hmget(keys.conversation(cid), ["status", "name", "account"])
                pipe.zscore(keys.conversations_by_activity(), cid)
            rows = await pipe.execute()
        conversations = []
        for i, cid in enumerate(others):
            (status, name, account), active = rows[2 * i], rows[2 * i + 1]
            other = ConversationKey.parse(cid)
            conversations.append({
                "id": cid, "channel": other.channel, "chat_id": other.chat_id,
                "status": status or "bot", "name": name or account or "",
                "last_activity": int(active or 0),
            })  # fmt: skip
        return {
            "contact": contact.as_json(),
            "conversations": conversations,
            "handoffs": [r.as_json() for r in records],
            "recent": {"days": RECENT_MS // (24 * 3600 * 1000),
                       "handoffs": sum(1 for r in records if r.at >= now - RECENT_MS)},
        }  # fmt: skip
