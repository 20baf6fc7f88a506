"""Inbound messages accepted from channels: persisted and deduplicated before the webhook answers.

A channel's webhook calls `accept`; one Lua script remembers the channel's message id (48 h, so
a provider's retries within a day are recognised), appends the message to the inbound stream
and its entry id to the conversation's order list. Only then does the webhook answer 2xx.

The router workers of every replica read the one stream; within a replica one conversation's
entries run in order, but consecutive messages may be read by different replicas. So a worker
takes an entry only when it is `due`: at the head of its conversation's order list. An entry
ahead of it that is gone from the stream was finished (entries are deleted when acknowledged),
so `due` drops it from the list: a crash between finishing and `finished` blocks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.core.errors import BadMessage
from bot.core.messages import Attachment, ConversationKey, Inbound
from handoff import keys
from handoff.store import Store

SEEN_TTL_S = 48 * 3600

_ACCEPT = """
if ARGV[1] ~= '' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
end
local flat = {}
for _, pair in ipairs(cjson.decode(ARGV[3])) do
  table.insert(flat, pair[1]); table.insert(flat, pair[2])
end
local id = redis.call('XADD', KEYS[2], '*', unpack(flat))
redis.call('RPUSH', KEYS[3], id)
return 1
"""

_DUE = """
local head = redis.call('LINDEX', KEYS[1], 0)
while head and head ~= ARGV[1] do
  if #redis.call('XRANGE', KEYS[2], head, head) > 0 then return 0 end
  redis.call('LPOP', KEYS[1])
  head = redis.call('LINDEX', KEYS[1], 0)
end
return 1
"""


def to_fields(inbound: Inbound) -> dict[str, str]:
    fields = {"conversation": inbound.conversation.id, "text": inbound.text}
    if inbound.payload is not None:
        fields["payload"] = inbound.payload
    if inbound.message_id:
        fields["message_id"] = inbound.message_id
    if inbound.metadata:
        fields["metadata"] = json.dumps(dict(inbound.metadata), ensure_ascii=False)
    if inbound.attachment is not None:
        a = inbound.attachment
        fields["attachment"] = json.dumps([a.kind, a.ref, a.caption], ensure_ascii=False)
    return fields


def from_fields(fields: Mapping[str, str]) -> Inbound:
    """The stored message; raises BadMessage for an entry this version cannot read."""
    try:
        attachment = None
        if "attachment" in fields:
            kind, ref, caption = json.loads(fields["attachment"])
            attachment = Attachment(kind, ref, caption)
        return Inbound(
            conversation=ConversationKey.parse(fields["conversation"]),
            text=fields["text"],
            payload=fields.get("payload"),
            message_id=fields.get("message_id"),
            metadata=json.loads(fields.get("metadata", "{}")),
            attachment=attachment,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise BadMessage(f"unreadable inbound entry: {exc!r}") from exc


class InboundQueue:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._accept = store.redis.register_script(_ACCEPT)
        self._due = store.redis.register_script(_DUE)

    async def accept(self, inbound: Inbound) -> bool:
        """Persist the message for processing; False when its channel id was accepted before."""
        channel = inbound.conversation.channel
        seen = keys.inbound_seen(channel, inbound.message_id or "-")
        fields = json.dumps(list(to_fields(inbound).items()), ensure_ascii=False)
        async with self._store.guard():
            added = await self._accept(
                keys=[seen, keys.inbound(), keys.inbound_order(inbound.conversation.id)],
                args=[inbound.message_id or "", SEEN_TTL_S, fields],
            )
        return bool(added)

    async def due(self, conversation: ConversationKey, entry_id: str) -> bool:
        """Whether every earlier message of the conversation is through its turn."""
        async with self._store.guard():
            ready = await self._due(
                keys=[keys.inbound_order(conversation.id), keys.inbound()], args=[entry_id]
            )
        return bool(ready)

    async def finished(self, conversation: ConversationKey, entry_id: str) -> None:
        async with self._store.guard():
            await self._store.redis.lrem(keys.inbound_order(conversation.id), 1, entry_id)
