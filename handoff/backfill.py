"""Building the search indexes and handoff histories for conversations that are older than them.

New messages, turns and transitions write their index entries themselves (handoff/index.py);
this reads what older conversations left — their transcripts (the customer's words, and the
system lines each transition wrote, with what happened in their meta) and their last handoff's
brief (the numbers the bot had collected) — and writes the same entries. It runs once by
itself when a gateway starts on a Redis whose indexes are older than the layout
(`keys.search_built()`), and on demand with `loket inbox reindex`. Running it again changes
nothing: scores only move forward, and a handoff already in a history is left as it is.

What older conversations never stored cannot be rebuilt: a customer's channel name, and the
numbers the bot collected in conversations that were never handed over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.errors import BadMessage
from bot.core.messages import ConversationKey
from handoff import index, keys
from handoff.store import Store
from handoff.transcript import Entry, Role, Transcript

log = logging.getLogger(__name__)

BATCH = 500  # transcript lines read at a time
LOCK_TTL_S = 3600  # one replica backfills; another may try again after this


@dataclass(frozen=True, slots=True)
class Backfilled:
    conversations: int
    handoffs: int  # handoff records written to histories
    words: int  # (word, conversation) index entries written


def _history(entries: list[Entry]) -> dict[str, dict[str, Any]]:
    """Every handoff the transcript's system lines tell of, by handoff id."""
    found: dict[str, dict[str, Any]] = {}
    current = ""
    for entry in entries:
        meta: Mapping[str, Any] = entry.meta
        event = meta.get("event") if entry.role is Role.SYSTEM else None
        if event == "request" and meta.get("handoff_id"):
            current = str(meta["handoff_id"])
            found[current] = {"reason": str(meta.get("reason", "")), "at": entry.ts,
                              "status": "waiting", "language": "", "assignee": ""}  # fmt: skip
        elif event and current:
            record = found[current]
            if event == "claim":
                record.update(status="assigned", assignee=meta.get("agent", ""),
                              claimed_at=entry.ts)  # fmt: skip
            elif event == "transfer":
                record.update(assignee=meta.get("to", ""))
            elif event in ("hand_back", "close"):
                record.update(status="bot" if event == "hand_back" else "closed",
                              ended_at=entry.ts, outcome="closed" if event == "close"
                              else "hand_back", ended_by=meta.get("agent") or meta.get("by", ""),
                              resolution=meta.get("resolution", ""))  # fmt: skip
    return found


class Backfill:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._redis = store.redis
        self._transcript = Transcript(store)

    async def needed(self) -> bool:
        async with self._store.guard():
            return await self._redis.get(keys.search_built()) != index.LAYOUT

    async def run_once(self) -> Backfilled | None:
        """Backfill unless the indexes are current or another replica is at it."""
        if not await self.needed():
            return None
        async with self._store.guard():
            mine = await self._redis.set(keys.search_backfill_lock(), "1", nx=True,
                                         ex=LOCK_TTL_S)  # fmt: skip
        if not mine:
            return None
        try:
            return await self.run()
        except BaseException:
            async with self._store.guard():  # let the next start try again at once
                await self._redis.delete(keys.search_backfill_lock())
            raise

    async def run(self) -> Backfilled:
        conversations = handoffs = words = 0
        async with self._store.guard():
            ids = list(await self._redis.zrange(keys.conversations_by_activity(), 0, -1))
        for cid in ids:
            try:
                key = ConversationKey.parse(cid)
            except BadMessage:
                continue
            written = await self._conversation(key)
            conversations += 1
            handoffs += written[0]
            words += written[1]
        async with self._store.guard():
            await self._redis.set(keys.search_built(), index.LAYOUT)
        log.info("search indexes backfilled: %d conversations, %d handoffs, %d word entries",
                 conversations, handoffs, words)  # fmt: skip
        return Backfilled(conversations, handoffs, words)

    async def _entries(self, key: ConversationKey) -> list[Entry]:
        entries: list[Entry] = []
        after = "-"
        while True:
            batch = await self._transcript.read(key, after=after, limit=BATCH)
            entries += batch
            if len(batch) < BATCH:
                return entries
            after = batch[-1].id

    async def _conversation(self, key: ConversationKey) -> tuple[int, int]:
        cid = key.id
        entries = await self._entries(key)
        newest: dict[str, int] = {}
        for entry in entries:
            if entry.role is Role.CUSTOMER:
                for word_key in index.word_keys([entry.text]):
                    newest[word_key] = max(newest.get(word_key, 0), entry.ts)
        history = _history(entries)
        agents = {  # everyone who had it: claimed it, or had it transferred to them
            str(e.meta.get("agent") if e.meta.get("event") == "claim" else e.meta.get("to"))
            for e in entries
            if e.role is Role.SYSTEM and e.meta.get("event") in ("claim", "transfer")
        } - {"None", ""}
        async with self._store.guard():
            summary = await self._redis.hget(keys.conversation(cid), "summary")
        collected = json.loads(summary).get("collected", {}) if summary else {}
        refs = index.refs(collected if isinstance(collected, dict) else {})
        last = entries[-1].ts if entries else 0
        async with self._store.guard():
            pipe = self._redis.pipeline(transaction=False)
            for word_key, ts in newest.items():
                pipe.zadd(word_key, {cid: ts}, gt=True)
            for record in history.values():
                if record["reason"]:
                    pipe.zadd(keys.search_reason(record["reason"]), {cid: record["at"]}, gt=True)
            for agent in agents:
                pipe.zadd(keys.search_agent(agent), {cid: last}, gt=True)
            for kind, value in refs:
                pipe.hsetnx(keys.conversation_refs(cid), index.ref_member(kind, value), last)
                pipe.zadd(keys.search_ref(kind, value), {cid: last}, gt=True)
            await pipe.execute()
            pipe = self._redis.pipeline(transaction=False)
            for handoff_id, record in history.items():
                pipe.hsetnx(keys.handoff_history(cid), handoff_id, json.dumps(record))
            written = sum(1 for added in await pipe.execute() if added)
        return written, len(newest)
