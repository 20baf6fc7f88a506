"""The outbox: bot and agent messages recorded in the transcript and queued for delivery at once.

One Lua script appends the line to the transcript, records its delivery as queued and puts it
on the outbox stream, so a message is never in the transcript without being on its way (or the
other way round). Delivery states only move forward (a late "sent" never hides a "read"), and
every change is published on the inbox's event stream for the agent who wrote it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.channel import STATE_RANK, DeliveryState
from bot.core.messages import ConversationKey, Outbound, Template
from bot.core.metrics import Metrics
from handoff import events, keys
from handoff.errors import HandoffError
from handoff.store import Store, now_ms
from handoff.transcript import Entry, Role

log = logging.getLogger(__name__)

SENT_TTL_S = 7 * 24 * 3600  # receipts may arrive days later (read receipts)
ANSWER_TTL_S = 48 * 3600  # as long as a channel's message id is recognised as seen

_POST = (
    events.lua_publish(7)
    + """
local cid, ts, direct = ARGV[1], ARGV[2], ARGV[3]
if ARGV[6] ~= '' then  -- post once: the key says it was posted before
  if not redis.call('SET', KEYS[6], cid, 'NX', 'EX', ARGV[6]) then return false end
end
redis.call('HSETNX', KEYS[4], 'created_at', ts)
redis.call('HSET', KEYS[4], 'channel', ARGV[4], 'chat_id', ARGV[5])
redis.call('ZADD', KEYS[5], ts, cid)
local ids = {}
for i = 8, #ARGV do
  local fields = cjson.decode(ARGV[i])
  local flat = {}
  for _, pair in ipairs(fields) do
    table.insert(flat, pair[1]); table.insert(flat, pair[2])
  end
  local id = redis.call('XADD', KEYS[1], '*', unpack(flat))
  ids[#ids + 1] = id
  if direct == '1' then
    redis.call('HSET', KEYS[2], id, cjson.encode({state='sent', ts=tonumber(ts), attempts=0}))
  else
    redis.call('HSET', KEYS[2], id, cjson.encode({state='queued', ts=tonumber(ts), attempts=0}))
    redis.call('XADD', KEYS[3], '*', 'conversation', cid, 'entry', id)
  end
end
local status = redis.call('HGET', KEYS[4], 'status')
if ARGV[7] == '1' and (status == 'waiting' or status == 'assigned') then
  -- a bot line (a pushed token, a notice) while people own it: agents' pages show it at once
  publish('posted', cid, ts, cjson.encode({entry_ids = ids}))
end
return ids
"""
)

# ARGV: entry id, new record JSON, new rank, rank of every state JSON, force, event JSON, ts
_MARK = (
    events.lua_publish(2)
    + """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current and ARGV[5] ~= '1' then return 0 end
if current and ARGV[5] ~= '1' then
  local ranks = cjson.decode(ARGV[4])
  local old = cjson.decode(current)
  if (ranks[old.state] or 0) > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
publish('delivery', ARGV[8], ARGV[7], ARGV[6])
return 1
"""
)


def template_of(entry: Entry) -> Template | None:
    """The approved template a transcript line carries (meta "template"), if any."""
    found = entry.meta.get("template")
    if not isinstance(found, dict):
        return None
    params = tuple(str(p) for p in found.get("params") or ())
    return Template(str(found.get("name", "")), str(found.get("language", "")), params)


def template_meta(template: Template) -> dict[str, object]:
    """How a template is kept in its transcript line's meta (read back by `template_of`)."""
    return {"name": template.name, "language": template.language, "params": list(template.params)}


class NotRetryable(HandoffError):
    """Raised when an agent asks to retry a message that has not failed (or does not exist);
    `state` is the message's delivery state ("unknown" when there is none)."""

    def __init__(self, state: str) -> None:
        super().__init__(f"only a failed message can be retried; this one is {state}")
        self.state = state


@dataclass(frozen=True, slots=True)
class Delivery:
    """How far one transcript line got on its way to the customer."""

    entry_id: str
    state: DeliveryState
    reason: str = ""
    attempts: int = 0
    ts: int = 0
    message_ids: tuple[str, ...] = ()
    # Parts of a long message the channel accepted so far: a retry, an agent's retry or a
    # worker taking over after a crash sends only the rest.
    parts_sent: int = 0
    code: str = ""  # a FailureCode the inbox explains in the agent's language, else ""

    def to_json(self) -> str:
        return json.dumps(
            {"state": self.state.value, "reason": self.reason, "attempts": self.attempts,
             "ts": self.ts, "message_ids": list(self.message_ids), "parts_sent": self.parts_sent,
             "code": self.code},
            ensure_ascii=False,
        )  # fmt: skip

    @classmethod
    def from_json(cls, entry_id: str, raw: str) -> Delivery:
        data = json.loads(raw)
        return cls(
            entry_id=entry_id,
            state=DeliveryState(data.get("state", "queued")),
            reason=str(data.get("reason") or ""),
            attempts=int(data.get("attempts") or 0),
            ts=int(data.get("ts") or 0),
            message_ids=tuple(data.get("message_ids") or ()),
            parts_sent=int(data.get("parts_sent") or 0),
            code=str(data.get("code") or ""),
        )

    def as_json(self) -> dict[str, object]:
        return {"entry_id": self.entry_id, **json.loads(self.to_json())}


class Outbox:
    def __init__(
        self,
        store: Store,
        *,
        direct: frozenset[str] = frozenset({"webchat"}),
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics or Metrics()
        self._direct = direct
        self._post = store.redis.register_script(_POST)
        self._mark = store.redis.register_script(_MARK)

    async def post(self, conversation: ConversationKey, entries: Sequence[Entry]) -> list[str]:
        """Append bot or agent lines to the transcript and queue them for delivery, atomically;
        returns their transcript ids."""
        if not entries:
            return []
        return await self._run_post(conversation, entries) or []

    async def post_once(
        self, conversation: ConversationKey, entries: Sequence[Entry], *, once: str, ttl: int
    ) -> list[str] | None:
        """`post`, unless the key `once` (kept `ttl` s) says it was posted before: then None.
        Key and lines are written by the same script: a crash leaves both or neither."""
        return await self._run_post(conversation, entries, once=once, ttl=ttl)

    async def post_answer(
        self,
        conversation: ConversationKey,
        entries: Sequence[Entry],
        *,
        message_id: str | None,
        part: str = "",
    ) -> list[str] | None:
        """`post` the router's answer to the channel message `message_id`, once: when a crash
        makes the router handle that message again, the lines are not posted again (None).
        Without a message id (the web chat), a plain `post`."""
        if not message_id or not entries:
            return await self.post(conversation, entries)
        once = keys.answer(conversation.id, message_id, part)
        return await self.post_once(conversation, entries, once=once, ttl=ANSWER_TTL_S)

    async def answered(self, conversation: ConversationKey, message_id: str) -> bool:
        """Whether the answer to this channel message was posted (its turn got that far)."""
        async with self._store.guard():
            return bool(await self._store.redis.exists(keys.answer(conversation.id, message_id)))

    async def _run_post(
        self,
        conversation: ConversationKey,
        entries: Sequence[Entry],
        *,
        once: str = "",
        ttl: int = 0,
    ) -> list[str] | None:
        ts = now_ms()
        cid = conversation.id
        direct = "1" if conversation.channel in self._direct else "0"
        fields = []
        for entry in entries:
            f = entry.to_fields()
            f["ts"] = str(ts)
            fields.append(json.dumps(list(f.items()), ensure_ascii=False))
        script_keys = [
            keys.transcript(cid), keys.deliveries(cid), keys.outbox(), keys.conversation(cid),
            keys.conversations_by_activity(), once or keys.conversation(cid), keys.inbox_events(),
        ]  # fmt: skip
        args: list[str | int] = [cid, ts, direct, conversation.channel, conversation.chat_id,
                str(ttl) if once else "",
                "1" if any(e.role is Role.BOT for e in entries) else "0", *fields]  # fmt: skip
        async with self._store.guard():
            ids = await self._post(keys=script_keys, args=args)
        if ids is None:
            return None  # posted before
        for entry in entries:
            self._metrics.messages_out.labels(conversation.channel, entry.role.value).inc()
        return [str(i) for i in ids]

    async def outbound(self, conversation: ConversationKey, entry_id: str) -> Outbound | None:
        """The message a queued line carries, read back from the transcript."""
        async with self._store.guard():
            rows = await self._store.redis.xrange(
                keys.transcript(conversation.id), min=entry_id, max=entry_id
            )
        if not rows:
            return None
        entry = Entry.from_fields(rows[0][0], rows[0][1])
        return Outbound(conversation, entry.text, entry.buttons, template_of(entry))

    async def delivery(self, conversation: ConversationKey, entry_id: str) -> Delivery | None:
        async with self._store.guard():
            raw = await self._store.redis.hget(keys.deliveries(conversation.id), entry_id)
        return Delivery.from_json(entry_id, raw) if raw else None

    async def deliveries(self, conversation: ConversationKey) -> dict[str, Delivery]:
        async with self._store.guard():
            rows = await self._store.redis.hgetall(keys.deliveries(conversation.id))
        return {entry_id: Delivery.from_json(entry_id, raw) for entry_id, raw in rows.items()}

    async def mark(
        self, conversation: ConversationKey, delivery: Delivery, *, force: bool = False
    ) -> bool:
        """Record a delivery state unless a later one is already known; publish the change."""
        ranks = {state.value: rank for state, rank in STATE_RANK.items()}
        event = {"entry_id": delivery.entry_id, "state": delivery.state.value,
                 "reason": delivery.reason, "attempts": delivery.attempts}  # fmt: skip
        async with self._store.guard():
            changed = await self._mark(
                keys=[keys.deliveries(conversation.id), keys.inbox_events()],
                args=[
                    delivery.entry_id, delivery.to_json(), STATE_RANK[delivery.state],
                    json.dumps(ranks), "1" if force else "0", json.dumps(event, ensure_ascii=False),
                    delivery.ts or now_ms(), conversation.id,
                ],
            )  # fmt: skip
            if changed and delivery.state is DeliveryState.SENT:
                pipe = self._store.redis.pipeline(transaction=False)
                for message_id in delivery.message_ids:
                    pipe.set(
                        keys.sent_message(conversation.channel, message_id),
                        f"{conversation.id} {delivery.entry_id}",
                        ex=SENT_TTL_S,
                    )
                await pipe.execute()
        return bool(changed)

    async def receipt(
        self, channel: str, message_id: str, state: DeliveryState, reason: str = ""
    ) -> None:
        """A channel's delivery report for one of its message ids (WhatsApp statuses)."""
        async with self._store.guard():
            found = await self._store.redis.get(keys.sent_message(channel, message_id))
        if not found:
            log.debug("%s: receipt for unknown message %s ignored", channel, message_id)
            return
        cid, _, entry_id = found.partition(" ")
        conversation = ConversationKey.parse(cid)
        current = await self.delivery(conversation, entry_id)
        if current is None:
            return
        await self.mark(
            conversation,
            Delivery(entry_id, state, reason, current.attempts, now_ms(), current.message_ids,
                     current.parts_sent),
        )  # fmt: skip

    async def retry(self, conversation: ConversationKey, entry_id: str) -> None:
        """Put a failed message back on its way (an agent pressed "retry"). The parts of a long
        message that did reach the customer are not sent again."""
        current = await self.delivery(conversation, entry_id)
        if current is None or current.state is not DeliveryState.FAILED:
            raise NotRetryable(current.state.value if current else "unknown")
        queued = Delivery(
            entry_id, DeliveryState.QUEUED, ts=now_ms(), message_ids=current.message_ids,
            parts_sent=current.parts_sent,
        )  # fmt: skip
        await self.mark(conversation, queued, force=True)
        async with self._store.guard():
            await self._store.redis.xadd(
                keys.outbox(), {"conversation": conversation.id, "entry": entry_id}
            )
