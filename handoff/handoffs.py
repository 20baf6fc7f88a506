"""Handoffs: open one (atomically, at most one at a time), claim, transfer, hand back, close.

Every transition is one Lua script: it checks the status against the transition table,
updates the conversation, the queue, the assignees' lists, the transcript and the inbox's
event stream together, so two agents can never both claim a conversation, a retried request
never opens two, and an agent's "mine" list is never out of step with who owns what.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from bot.core.messages import ConversationKey
from handoff import events, keys
from handoff.errors import TransitionRefused
from handoff.events import Event
from handoff.status import TRANSITIONS, WITH_PEOPLE, Status
from handoff.store import Store, now_ms
from handoff.summary import Summary

_TRANSITION = (
    events.lua_publish(4)
    + """
local status = redis.call('HGET', KEYS[1], 'status') or 'bot'
local assignee = redis.call('HGET', KEYS[1], 'assignee') or ''
local allowed = false
for s in string.gmatch(ARGV[3], '[^,]+') do
  if s == status then allowed = true end
end
if allowed and ARGV[9] ~= '' and status == 'assigned' and assignee ~= ARGV[9] then
  allowed = false
end
if not allowed then
  local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
  local current = redis.call('HGET', KEYS[1], 'handoff_id') or ''
  return {0, status, assignee, rank and (rank + 1) or 0, current}
end
redis.call('HSET', KEYS[1], 'status', ARGV[4])
for k, v in pairs(cjson.decode(ARGV[7])) do redis.call('HSET', KEYS[1], k, v) end
if ARGV[5] == 'add' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
elseif ARGV[5] == 'rem' then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
if ARGV[8] ~= '' then
  redis.call('XADD', KEYS[3], '*',
    'role', 'system', 'text', ARGV[8], 'ts', ARGV[6], 'meta', ARGV[10])
end
publish(ARGV[2], ARGV[1], ARGV[6], ARGV[10])
local now_with = redis.call('HGET', KEYS[1], 'assignee') or ''
if assignee ~= '' then  -- agents' lists: the key is built here (the old assignee is read here)
  redis.call('SREM', ARGV[11] .. assignee .. ARGV[12], ARGV[1])
end
if ARGV[4] == 'assigned' and now_with ~= '' then
  redis.call('SADD', ARGV[11] .. now_with .. ARGV[12], ARGV[1])
end
local handoff_id = redis.call('HGET', KEYS[1], 'handoff_id') or ''
if handoff_id ~= '' then  -- this handoff's record in the conversation's history
  local raw = redis.call('HGET', KEYS[5], handoff_id)
  local record = raw and cjson.decode(raw) or {}
  for k, v in pairs(cjson.decode(ARGV[13])) do record[k] = v end
  redis.call('HSET', KEYS[5], handoff_id, cjson.encode(record))
end
for _, key in ipairs(cjson.decode(ARGV[14])) do  -- search indexes: agents, reasons
  redis.call('ZADD', key, ARGV[6], ARGV[1])
end
redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])  -- a transition is activity too
local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
return {1, ARGV[4], now_with, rank and (rank + 1) or 0, handoff_id}
"""
)

# transition -> what happens to the waiting queue
_QUEUE = {"request": "add", "claim": "rem", "transfer": "keep", "hand_back": "rem", "close": "rem"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of a transition: `changed` is False when it was already so (idempotent)."""

    changed: bool
    status: Status
    assignee: str
    position: int  # 1-based place in the waiting queue, 0 when not waiting
    handoff_id: str


@dataclass(frozen=True, slots=True)
class Handoff:
    conversation_id: str
    handoff_id: str
    status: Status
    reason: str
    detail: str
    language: str
    channel: str
    created_at: int
    assignee: str
    summary: Summary


class Handoffs:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._script = store.redis.register_script(_TRANSITION)

    async def _run(
        self,
        conversation: ConversationKey,
        transition: str,
        *,
        ts: int,
        fields: dict[str, Any],
        note: str,
        event: dict[str, Any],
        history: dict[str, Any],
        indexed: tuple[str, ...] = (),
        only_assignee: str = "",
    ) -> Outcome:
        """Run one transition; `history` updates the handoff's record in the conversation's
        history, `indexed` are search index keys that list the conversation from now on."""
        sources, target = TRANSITIONS[transition]
        cid = conversation.id
        args = [
            cid, transition, ",".join(s.value for s in sources), target.value,
            _QUEUE[transition], ts, json.dumps(fields, ensure_ascii=False), note,
            only_assignee, json.dumps({"event": transition, **event}, ensure_ascii=False),
            *keys.AGENT_CONVERSATIONS,
            json.dumps({"status": target.value, **history}, ensure_ascii=False),
            json.dumps(list(indexed)),
        ]  # fmt: skip
        script_keys = [
            keys.conversation(cid), keys.queue(), keys.transcript(cid), keys.inbox_events(),
            keys.handoff_history(cid), keys.conversations_by_activity(),
        ]  # fmt: skip
        async with self._store.guard():
            ok, status, assignee, position, handoff_id = await self._script(
                keys=script_keys, args=args
            )
        return Outcome(bool(ok), Status(status), assignee, int(position), handoff_id)

    async def request(
        self,
        conversation: ConversationKey,
        *,
        reason: str,
        detail: str,
        language: str,
        summary: Summary,
        note: str,
    ) -> Outcome:
        """Open a handoff, or return the one already open (so a retry never opens two)."""
        handoff_id = uuid.uuid4().hex[:12]
        ts = now_ms()
        outcome = await self._run(
            conversation,
            "request",
            ts=ts,
            fields={
                "handoff_id": handoff_id, "reason": reason, "detail": detail,
                "language": language, "summary": summary.to_json(),
                "handoff_at": ts, "assignee": "",
            },
            note=note,
            event={"reason": reason, "handoff_id": handoff_id},
            history={"reason": reason, "language": language, "at": ts,
                     "brief": summary.brief()},
            indexed=(keys.search_reason(reason),),
        )  # fmt: skip
        if not outcome.changed and outcome.status not in WITH_PEOPLE:
            raise TransitionRefused("request", outcome.status.value)
        return outcome

    async def claim(
        self, conversation: ConversationKey, agent: str, *, auto: bool = False
    ) -> Outcome:
        """Take a waiting conversation; exactly one of two racing agents succeeds. `auto`: the
        round robin gave it to `agent` (handoff/assignment.py)."""
        ts = now_ms()
        note = f"Assigned to {agent} (round robin)" if auto else f"Claimed by {agent}"
        return self._check(
            "claim",
            await self._run(conversation, "claim", ts=ts, fields={"assignee": agent}, note=note,
                            event={"agent": agent, "auto": auto},
                            history={"assignee": agent, "claimed_at": ts},
                            indexed=(keys.search_agent(agent),)),
        )  # fmt: skip

    async def transfer(self, conversation: ConversationKey, agent: str, to: str) -> Outcome:
        return self._check(
            "transfer",
            await self._run(conversation, "transfer", ts=now_ms(), fields={"assignee": to},
                            note=f"Transferred from {agent} to {to}",
                            event={"agent": agent, "to": to}, history={"assignee": to},
                            indexed=(keys.search_agent(to),), only_assignee=agent),
        )  # fmt: skip

    async def hand_back(
        self, conversation: ConversationKey, by: str, *, only_assignee: str = ""
    ) -> Outcome:
        """Back to the bot; Rasa resumes with its context kept. With `only_assignee`, an
        assigned conversation is handed back only if it is still with that agent."""
        return self._check(
            "hand_back",
            await self._run(conversation, "hand_back", ts=(ts := now_ms()),
                            fields={"assignee": "", "memory": ""},
                            note=f"Handed back to the bot by {by}", event={"by": by},
                            history={"ended_at": ts, "outcome": "hand_back", "ended_by": by},
                            only_assignee=only_assignee),
        )  # fmt: skip

    async def close(
        self, conversation: ConversationKey, agent: str, resolution: str, *, only_assignee: str = ""
    ) -> Outcome:
        """Close; with `only_assignee`, an assigned conversation only if it is with that agent
        (a transfer that lands first wins)."""
        return self._check(
            "close",
            await self._run(conversation, "close", ts=(ts := now_ms()),
                            fields={"resolution": resolution, "memory": ""},
                            note=f"Closed by {agent}: {resolution}",
                            event={"agent": agent, "resolution": resolution},
                            history={"ended_at": ts, "outcome": "closed", "ended_by": agent,
                                     "resolution": resolution},
                            only_assignee=only_assignee),
        )  # fmt: skip

    @staticmethod
    def _check(transition: str, outcome: Outcome) -> Outcome:
        if not outcome.changed:
            raise TransitionRefused(transition, outcome.status.value, outcome.assignee)
        return outcome

    async def get(self, conversation: ConversationKey) -> Handoff | None:
        async with self._store.guard():
            h = await self._store.redis.hgetall(keys.conversation(conversation.id))
        if not h.get("handoff_id"):
            return None
        return Handoff(
            conversation_id=conversation.id,
            handoff_id=h["handoff_id"],
            status=Status(h.get("status") or "bot"),
            reason=h.get("reason", ""),
            detail=h.get("detail", ""),
            language=h.get("language", "id"),
            channel=h.get("channel", conversation.channel),
            created_at=int(h.get("handoff_at") or 0),
            assignee=h.get("assignee", ""),
            summary=Summary.from_json(h.get("summary")),
        )

    async def customer_wrote(
        self, conversation: ConversationKey, entry_id: str, *, assignee: str = ""
    ) -> None:
        """Tell live inboxes that a customer wrote in a conversation people own (`assignee`:
        whose it is, so their inbox alerts them)."""
        await events.publish(
            self._store, Event.MESSAGE, conversation.id,
            {"entry_id": entry_id, "assignee": assignee},
        )  # fmt: skip

    async def waiting(self, limit: int = 100) -> list[str]:
        """Conversation ids in the queue, oldest first."""
        async with self._store.guard():
            return list(await self._store.redis.zrange(keys.queue(), 0, limit - 1))
