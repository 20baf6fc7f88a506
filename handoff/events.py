"""The inbox's event stream: which conversation changed and how, for open inboxes to follow.

Every event is written here: by `publish` from Python, and by `LUA_PUBLISH` spliced into the
Lua scripts whose change must appear in the same atomic step (a handoff's transition, a bot
line posted while people own the conversation, a delivery state). Events carry ids and states,
never customer text; the inbox (handoff/inbox/events.py) serves them as Server-Sent Events.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from handoff import keys
from handoff.store import Store, now_ms

MAXLEN = 10_000  # approximately: a live page needs only the recent past


class Event(str, enum.Enum):
    # the handoff transitions (handoff/status.py), one event each
    REQUEST = "request"
    CLAIM = "claim"
    TRANSFER = "transfer"
    HAND_BACK = "hand_back"
    CLOSE = "close"
    MESSAGE = "message"  # the customer wrote in a conversation people own
    REPLY = "reply"  # an agent replied
    NOTE = "note"  # an agent added a private note
    POSTED = "posted"  # a bot line (a paid token, a notice) while people own the conversation
    DELIVERY = "delivery"  # a message's delivery state changed


# Defines `publish(kind, conversation_id, ts, data_json)` inside a Lua script whose KEYS hold
# keys.inbox_events() at the index given to `lua_publish`.
def lua_publish(events_key_index: int) -> str:
    return f"""
local function publish(kind, cid, ts, data)
  redis.call('XADD', KEYS[{events_key_index}], 'MAXLEN', '~', {MAXLEN}, '*',
    'type', kind, 'conversation', cid, 'ts', ts, 'data', data)
end
"""


async def publish(
    store: Store, kind: Event, conversation_id: str, data: Mapping[str, Any], *, ts: int = 0
) -> str:
    """Append one event; returns its stream id (which pages send back as Last-Event-ID)."""
    fields = {
        "type": kind.value,
        "conversation": conversation_id,
        "ts": ts or now_ms(),
        "data": json.dumps(dict(data), ensure_ascii=False),
    }
    async with store.guard():
        entry_id = await store.redis.xadd(
            keys.inbox_events(),
            fields,  # type: ignore[arg-type]
            maxlen=MAXLEN,
            approximate=True,
        )
    return str(entry_id)
