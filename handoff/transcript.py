"""A conversation's transcript: every message in order, kept in one Redis stream."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.messages import Button, ConversationKey
from handoff import index, keys
from handoff.store import Store, now_ms

MAX_NAME = 100  # a customer's display name, as their channel gives it


class Role(str, enum.Enum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"
    NOTE = "note"  # an agent's private note: never shown or sent to the customer


@dataclass(frozen=True, slots=True)
class Entry:
    """One transcript line. `id` is the stream id, which also orders entries."""

    role: Role
    text: str
    ts: int = 0  # ms since epoch; set when appended
    id: str = ""
    buttons: tuple[Button, ...] = ()
    payload: str | None = None
    intent: str | None = None
    confidence: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_fields(self) -> dict[str, str]:
        fields = {"role": self.role.value, "text": self.text, "ts": str(self.ts)}
        if self.buttons:
            fields["buttons"] = json.dumps([[b.title, b.payload] for b in self.buttons])
        if self.payload is not None:
            fields["payload"] = self.payload
        if self.intent is not None:
            fields["intent"] = self.intent
        if self.confidence is not None:
            fields["confidence"] = f"{self.confidence:.4f}"
        if self.meta:
            fields["meta"] = json.dumps(self.meta, ensure_ascii=False)
        return fields

    @classmethod
    def from_fields(cls, entry_id: str, fields: Mapping[str, str]) -> Entry:
        confidence = fields.get("confidence")
        return cls(
            id=entry_id,
            role=Role(fields["role"]),
            text=fields.get("text", ""),
            ts=int(fields.get("ts", 0)),
            buttons=tuple(Button(t, p) for t, p in json.loads(fields.get("buttons", "[]"))),
            payload=fields.get("payload"),
            intent=fields.get("intent"),
            confidence=float(confidence) if confidence is not None else None,
            meta=json.loads(fields.get("meta", "{}")),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role.value,
            "text": self.text,
            "ts": self.ts,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "payload": self.payload,
            "intent": self.intent,
            "confidence": self.confidence,
            "meta": dict(self.meta),
        }


class Transcript:
    """Appends to and reads conversations' transcripts."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def append(
        self, conversation: ConversationKey, entries: Sequence[Entry], *, name: str = ""
    ) -> list[str]:
        """Append entries atomically (one MULTI) and return their stream ids. The words of the
        customer's lines go into the search index in the same step; `name` is the customer's
        name on their channel, when the message said it."""
        if not entries:
            return []
        ts = now_ms()
        cid = conversation.id
        customer = [e.text for e in entries if e.role is Role.CUSTOMER]
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.hsetnx(keys.conversation(cid), "created_at", ts)
            mapping: dict[str | bytes, str] = {
                "channel": conversation.channel,
                "chat_id": conversation.chat_id,
            }
            if customer:
                mapping["last_customer_at"] = str(ts)  # opens the reply window (bot/core/window.py)
            if name:
                mapping["name"] = name[:MAX_NAME]
            pipe.hset(keys.conversation(cid), mapping=mapping)
            for entry in entries:
                fields = entry.to_fields()
                fields["ts"] = str(ts)
                pipe.xadd(keys.transcript(cid), fields)  # type: ignore[arg-type]
            pipe.zadd(keys.conversations_by_activity(), {cid: ts})
            for key in index.word_keys(customer):
                pipe.zadd(key, {cid: ts})
            results = await pipe.execute()
        return [str(r) for r in results[2 : 2 + len(entries)]]

    async def customer_line(
        self, conversation: ConversationKey, message_id: str, *, within: int = 10
    ) -> str | None:
        """The id of the customer line carrying this channel message id among the last
        `within` entries: a turn run again after a failure finds its message recorded."""
        async with self._store.guard():
            rows = await self._store.redis.xrevrange(keys.transcript(conversation.id), count=within)
        for entry_id, fields in rows:
            entry = Entry.from_fields(entry_id, fields)
            if entry.role is Role.CUSTOMER and entry.meta.get("message_id") == message_id:
                return str(entry_id)
        return None

    async def read(
        self, conversation: ConversationKey, *, after: str = "-", limit: int | None = None
    ) -> list[Entry]:
        """Entries in order; `after` is an exclusive stream id (use the last id you saw)."""
        start = "-" if after in ("", "-") else f"({after}"
        async with self._store.guard():
            rows = await self._store.redis.xrange(
                keys.transcript(conversation.id), min=start, max="+", count=limit
            )
        return [Entry.from_fields(entry_id, fields) for entry_id, fields in rows]

    async def last_customer_at(self, conversation: ConversationKey) -> int:
        """When the customer last wrote (ms since epoch), 0 if never."""
        async with self._store.guard():
            raw = await self._store.redis.hget(
                keys.conversation(conversation.id), "last_customer_at"
            )
        return int(raw or 0)

    async def length(self, conversation: ConversationKey) -> int:
        async with self._store.guard():
            return int(await self._store.redis.xlen(keys.transcript(conversation.id)))
