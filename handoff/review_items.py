"""The trainers' review list, kept in Redis: every customer message the bot did not understand
(found in the transcripts by handoff/review.py) or that an agent labelled ("the customer meant:
check_transaction"), with the trainer's decision, grouped by similar text.

An item's id is derived from its conversation and transcript line, so finding the same miss
twice stores it once. Scanning is incremental (the conversations active since the last scan)
and happens when the list is read, and for one conversation right after the bot handed it over
for not understanding (not understood, frustrated, looping): that handoff's record then keeps
the ids of the items it produced (`review_items`), and every item keeps its conversation and
line, so each leads to the other.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.core.messages import ConversationKey
from bot.core.reasons import ABOUT_UNDERSTANDING
from bot.core.similar import closeness, near_key
from handoff import keys
from handoff.review import Miss, guesses_of, misses_in
from handoff.store import Store, now_ms
from handoff.transcript import Entry, Role, Transcript

OPEN, LABELLED, DISMISSED = "open", "labelled", "dismissed"
STATUSES = (OPEN, LABELLED, DISMISSED)
AGENT_LABEL = "agent_label"  # the `why` of an item an agent made, not the bot's failure
FIRST_SCAN_MS = 30 * 24 * 3600 * 1000  # how far back the very first scan looks
RESCAN_MS = 5 * 60 * 1000  # each scan starts this much before the last one ended
SIMILAR = 0.7  # character-trigram overlap at which two texts are one group ("brp" / "berapa")
MAX_ITEMS = 5000  # read for one list

# KEYS: the item, the list of items, the conversation's handoff history.
# ARGV: item id, ts, fields JSON (written only if the item is new), handoff id or "", and
# whether the bot's own failure may replace an agent's label as the reason it is listed.
_UPSERT = """
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  for k, v in pairs(cjson.decode(ARGV[3])) do redis.call('HSET', KEYS[1], k, v) end
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
  created = 1
elseif ARGV[5] == '1' and redis.call('HGET', KEYS[1], 'why') == 'agent_label' then
  local fields = cjson.decode(ARGV[3])
  redis.call('HSET', KEYS[1], 'why', fields['why'], 'guesses', fields['guesses'])
end
if ARGV[4] ~= '' then
  local raw = redis.call('HGET', KEYS[3], ARGV[4])
  if raw then
    redis.call('HSET', KEYS[1], 'handoff', ARGV[4])
    local record = cjson.decode(raw)
    local list = record['review_items']
    if type(list) ~= 'table' then list = {} end
    for _, v in ipairs(list) do if v == ARGV[1] then return created end end
    table.insert(list, ARGV[1])
    record['review_items'] = list
    redis.call('HSET', KEYS[3], ARGV[4], cjson.encode(record))
  end
end
return created
"""


def item_id(conversation: str, entry: str) -> str:
    return hashlib.sha256(f"{conversation}/{entry}".encode()).hexdigest()[:16]


def conversation_link(conversation: str) -> str:
    """Where the inbox opens a conversation."""
    return f"/inbox#conversation={conversation}"


@dataclass(frozen=True, slots=True)
class Item:
    """One message for trainers, and what became of it."""

    id: str
    conversation: str
    entry: str
    text: str
    ts: int
    channel: str
    language: str
    why: str
    guesses: tuple[tuple[str, float], ...] = ()
    handoff: str = ""
    status: str = OPEN
    intent: str = ""  # the trainer's label (out_of_scope included)
    example: str = ""  # the example as written into nlu_data/, with entity marks
    path: str = ""
    line: int = 0
    by: str = ""
    decided_at: int = 0
    suggested: str = ""  # an agent's "the customer meant"
    suggested_by: str = ""
    suggested_at: int = 0

    @classmethod
    def from_hash(cls, fields: Mapping[str, str]) -> Item:
        guesses = tuple((str(n), float(c)) for n, c in json.loads(fields.get("guesses", "[]")))
        return cls(
            id=fields["id"], conversation=fields["conversation"], entry=fields.get("entry", ""),
            text=fields.get("text", ""), ts=int(fields.get("ts", 0)),
            channel=fields.get("channel", ""), language=fields.get("language", ""),
            why=fields.get("why", ""), guesses=guesses, handoff=fields.get("handoff", ""),
            status=fields.get("status", OPEN), intent=fields.get("intent", ""),
            example=fields.get("example", ""), path=fields.get("path", ""),
            line=int(fields.get("line", 0)), by=fields.get("by", ""),
            decided_at=int(fields.get("decided_at", 0)), suggested=fields.get("suggested", ""),
            suggested_by=fields.get("suggested_by", ""),
            suggested_at=int(fields.get("suggested_at", 0)),
        )  # fmt: skip

    def to_hash(self) -> dict[str, str]:
        fields = {
            "id": self.id, "conversation": self.conversation, "entry": self.entry,
            "text": self.text, "ts": str(self.ts), "channel": self.channel,
            "language": self.language, "why": self.why, "status": self.status,
            "guesses": json.dumps([list(g) for g in self.guesses], ensure_ascii=False),
        }  # fmt: skip
        if self.handoff:
            fields["handoff"] = self.handoff
        return fields

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "conversation": self.conversation, "entry": self.entry,
            "link": conversation_link(self.conversation), "text": self.text, "ts": self.ts,
            "channel": self.channel, "language": self.language, "why": self.why,
            "guesses": [{"intent": n, "confidence": c} for n, c in self.guesses],
            "handoff": self.handoff or None, "status": self.status,
            "intent": self.intent or None, "example": self.example or None,
            "written_to": f"{self.path}:{self.line}" if self.path else None,
            "by": self.by or None, "decided_at": self.decided_at or None,
            "suggested": self.suggested or None, "suggested_by": self.suggested_by or None,
        }  # fmt: skip


@dataclass(slots=True)
class Group:
    """Items whose texts are alike, the newest first."""

    key: str
    items: list[Item] = field(default_factory=list)

    def as_json(self, shown: int = 20) -> dict[str, Any]:
        items = self.items
        texts = Counter(i.text for i in items)
        scores: dict[str, list[float]] = {}
        for item in items:
            for name, confidence in item.guesses:
                scores.setdefault(name, []).append(confidence)
        # The bot's two best guesses over the group: the intents it named most, by mean
        # confidence.
        best = sorted(scores.items(), key=lambda kv: (-len(kv[1]), -sum(kv[1]) / len(kv[1])))
        suggested = Counter(i.suggested for i in items if i.suggested)
        return {
            "key": self.key,
            "text": texts.most_common(1)[0][0],
            "count": len(items),
            "last_seen": max(i.ts for i in items),
            "languages": dict(Counter(i.language for i in items)),
            "channels": dict(Counter(i.channel for i in items)),
            "reasons": sorted({i.why for i in items}),
            "guesses": [
                {"intent": n, "confidence": round(sum(c) / len(c), 4)} for n, c in best[:2]
            ],
            "suggested": [
                {
                    "intent": n,
                    "count": k,
                    "by": sorted({i.suggested_by for i in items if i.suggested == n}),
                }
                for n, k in suggested.most_common()
            ],
            "statuses": dict(Counter(i.status for i in items)),
            "items": [i.as_json() for i in items[:shown]],
            "ids": [i.id for i in items],
        }


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """What the list shows: messages between two times (ms), on one channel, for one reason,
    in one status ("" for any)."""

    since_ms: int = 0
    until_ms: int | None = None
    channel: str = ""
    reason: str = ""
    status: str = OPEN

    def keeps(self, item: Item) -> bool:
        return (
            (not self.channel or item.channel == self.channel)
            and (not self.reason or item.why == self.reason)
            and (not self.status or item.status == self.status)
        )


def group(items: Iterable[Item]) -> list[Group]:
    """Alike texts together (the same words without fillers and numbers, or most of the same
    letters); the biggest groups first, then the most recent."""
    groups: list[Group] = []
    by_key: dict[str, Group] = {}
    for item in sorted(items, key=lambda i: -i.ts):
        key = near_key(item.text)
        found = by_key.get(key)
        if found is None:
            found = next((g for g in groups if closeness(g.key, key) >= SIMILAR), None)
        if found is None:
            found = Group(key)
            groups.append(found)
        by_key[key] = found
        found.items.append(item)
    return sorted(groups, key=lambda g: (-len(g.items), -g.items[0].ts))


class ReviewItems:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._transcript = Transcript(store)
        self._upsert = store.redis.register_script(_UPSERT)

    async def scan(self, *, max_conversations: int = 5000) -> int:
        """Add the misses of conversations active since the last scan; how many were new."""
        started = now_ms()
        redis = self._store.redis
        async with self._store.guard():
            last = await redis.get(keys.review_scanned())
            since = int(last) - RESCAN_MS if last else started - FIRST_SCAN_MS
            ids = await redis.zrevrangebyscore(
                keys.conversations_by_activity(), "+inf", since, start=0, num=max_conversations
            )
        added = 0
        for cid in ids:
            added += await self.scan_conversation(ConversationKey.parse(cid))
        async with self._store.guard():
            await redis.set(keys.review_scanned(), started)
        return added

    async def scan_conversation(self, conversation: ConversationKey) -> int:
        """Store the misses of one transcript, each linked to the handoff it led to."""
        cid = conversation.id
        entries = await self._transcript.read(conversation)
        misses = misses_in(cid, entries)
        if not misses:
            return 0
        redis = self._store.redis
        async with self._store.guard():
            language = await redis.hget(keys.conversation(cid), "language") or "id"
            history = await redis.hgetall(keys.handoff_history(cid))
        handoffs = sorted(
            (int(record.get("at", 0)), hid)
            for hid, record in ((h, json.loads(raw)) for h, raw in history.items())
            if record.get("reason") in ABOUT_UNDERSTANDING
        )
        added = 0
        for miss in misses:
            led_to = next((hid for at, hid in handoffs if at >= miss.ts), "")
            item = _item_of(miss, conversation, language)
            added += await self._store_item(item, led_to, bot_missed=True)
        return added

    async def _store_item(self, item: Item, handoff_id: str, *, bot_missed: bool = False) -> int:
        """Store `item` unless it exists; link it to `handoff_id`. `bot_missed`: the bot's
        failure, which is listed as the reason even if an agent labelled the line first."""
        fields = json.dumps(item.to_hash(), ensure_ascii=False)
        script_keys = [keys.review_item(item.id), keys.review_items(),
                       keys.handoff_history(item.conversation)]  # fmt: skip
        async with self._store.guard():
            created = await self._upsert(
                keys=script_keys, args=[item.id, item.ts, fields, handoff_id, int(bot_missed)]
            )
        return int(created)

    async def get(self, ids: Iterable[str]) -> list[Item]:
        """The items that exist among `ids`, in that order."""
        wanted = list(dict.fromkeys(ids))
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=False)
            for one in wanted:
                pipe.hgetall(keys.review_item(one))
            rows = await pipe.execute()
        return [Item.from_hash(row) for row in rows if row]

    async def items(self, shown: ReviewFilter) -> list[Item]:
        until = "+inf" if shown.until_ms is None else shown.until_ms
        async with self._store.guard():
            ids = await self._store.redis.zrevrangebyscore(
                keys.review_items(), until, shown.since_ms, start=0, num=MAX_ITEMS
            )
        return [item for item in await self.get(ids) if shown.keeps(item)]

    async def groups(self, shown: ReviewFilter) -> list[Group]:
        return group(await self.items(shown))

    async def decide(self, items: list[Item], *, status: str, by: str, **label: Any) -> list[Item]:
        """Record the trainer's decision (labelled with intent, example, path, line; or
        dismissed) on every item; the updated items."""
        at = now_ms()
        decided = [replace(i, status=status, by=by, decided_at=at, **label) for i in items]
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            for item in decided:
                pipe.hset(keys.review_item(item.id), mapping={
                    "status": status, "by": by, "decided_at": str(at),
                    "intent": item.intent, "example": item.example, "path": item.path,
                    "line": str(item.line),
                })  # fmt: skip
            await pipe.execute()
        return decided

    async def suggest(
        self, conversation: ConversationKey, entry: Entry, after: Entry | None, intent: str, by: str
    ) -> Item:
        """An agent says what customer line `entry` meant; `after` is the bot's answer to it.
        The line joins the review list (or its item gets the suggestion)."""
        language = ""
        async with self._store.guard():
            language = await self._store.redis.hget(
                keys.conversation(conversation.id), "language"
            ) or "id"  # fmt: skip
        item = Item(
            id=item_id(conversation.id, entry.id), conversation=conversation.id, entry=entry.id,
            text=entry.text, ts=entry.ts, channel=conversation.channel, language=language,
            why=AGENT_LABEL, guesses=guesses_of(after) if after is not None else (),
        )  # fmt: skip
        await self._store_item(item, "")
        at = now_ms()
        async with self._store.guard():
            await self._store.redis.hset(keys.review_item(item.id), mapping={
                "suggested": intent, "suggested_by": by, "suggested_at": str(at),
            })  # fmt: skip
        (stored,) = await self.get([item.id])
        return stored


def _item_of(miss: Miss, conversation: ConversationKey, language: str) -> Item:
    return Item(
        id=item_id(conversation.id, miss.entry), conversation=conversation.id, entry=miss.entry,
        text=miss.text, ts=miss.ts, channel=conversation.channel, language=language,
        why=miss.why, guesses=miss.guesses,
    )  # fmt: skip


def customer_line(entries: list[Entry], entry_id: str) -> tuple[Entry, Entry | None] | None:
    """The customer line `entry_id` and the bot line that answered it, if any."""
    for k, entry in enumerate(entries):
        if entry.id == entry_id:
            if entry.role is not Role.CUSTOMER:
                return None
            answer = next((e for e in entries[k + 1 :] if e.role is Role.BOT), None)
            if answer is not None and any(
                e.role is Role.CUSTOMER for e in entries[k + 1 : entries.index(answer)]
            ):
                answer = None
            return entry, answer
    return None
