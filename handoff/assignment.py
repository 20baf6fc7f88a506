"""Auto-assignment (optional, LOKET_AUTO_ASSIGN=round-robin): a new handoff goes straight to the
next agent online, in name order after the one who got the last, skipping agents who switched
auto-assignment off. Nobody online: it stays in the queue for whoever claims it.

The pick and the round-robin cursor are one Lua script, so replicas never give two handoffs
to the same agent out of turn; the assignment itself is the ordinary claim transition (marked
"round robin" in the transcript), so a claim that lands first simply wins.
"""

from __future__ import annotations

import logging

from bot.core.messages import ConversationKey
from handoff import keys
from handoff.errors import TransitionRefused
from handoff.handoffs import Handoffs
from handoff.presence import ONLINE_TTL_MS
from handoff.store import Store, now_ms

log = logging.getLogger(__name__)

# KEYS: online agents, cursor; ARGV: oldest heartbeat still online, agent key prefix
_PICK = """
local online = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
table.sort(online)
local last = redis.call('GET', KEYS[2]) or ''
local first, after = nil, nil
for _, name in ipairs(online) do
  local found = redis.call('HMGET', ARGV[2] .. name, 'role', 'auto_assign')
  if (found[1] == 'agent' or found[1] == 'admin') and found[2] ~= '0' then
    if not first then first = name end
    if not after and name > last then after = name end
  end
end
local pick = after or first
if pick then redis.call('SET', KEYS[2], pick) end
return pick or ''
"""


class Assigner:
    """Round robin among the agents online."""

    def __init__(self, store: Store, handoffs: Handoffs) -> None:
        self._store = store
        self._handoffs = handoffs
        self._pick = store.redis.register_script(_PICK)

    async def assign(self, conversation: ConversationKey) -> str:
        """Give a waiting conversation to the next agent online; who got it, or "" (nobody
        online, or someone claimed it first)."""
        prefix = keys.agent("\x00").split("\x00")[0]
        async with self._store.guard():
            pick = str(await self._pick(
                keys=[keys.agents_online(), keys.assign_cursor()],
                args=[now_ms() - ONLINE_TTL_MS, prefix],
            ))  # fmt: skip
        if not pick:
            return ""
        try:
            await self._handoffs.claim(conversation, pick, auto=True)
        except TransitionRefused:
            return ""
        log.info("%s: assigned to %s (round robin)", conversation.id, pick)
        return pick
