"""What agents see and do: the queue, their own conversations, one conversation in full, and
the actions on it (claim, reply, note, transfer, hand back, close, retry a delivery).
Who may do what is decided in `rules.py`; templates, typing and read receipts in `outreach.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from bot.core.channel import Media
from bot.core.channel import MediaUnavailable as ChannelMediaUnavailable
from bot.core.ids import is_stream_id
from bot.core.messages import ConversationKey, clean_text
from bot.core.window import reply_window
from handoff import csat, events, keys
from handoff.conversations import State
from handoff.errors import TransitionRefused
from handoff.events import Event
from handoff.handoffs import Handoff
from handoff.inbox.accounts import Accounts, Agent
from handoff.inbox.errors import Conflict, Forbidden, Invalid, MediaUnavailable, NotFound
from handoff.inbox.outreach import Outreach
from handoff.inbox.rules import conflict, may_note, may_resolve, may_transfer, may_write
from handoff.inbox.services import InboxServices
from handoff.outbox import NotRetryable
from handoff.presence import Presence
from handoff.status import Status
from handoff.store import now_ms
from handoff.transcript import Entry, Role

RESOLUTIONS = ("solved", "no-reply", "duplicate", "spam", "other")
MAX_RESOLUTION_TEXT = 200
UNREAD_SCAN = 200  # transcript lines looked at per conversation for its unread count


def _only(agent: Agent) -> str:
    """Whose conversation an agent may resolve: their own (admins: anyone's)."""
    return "" if agent.is_admin else agent.name


def _card(h: Handoff, unread: int, name: str = "") -> dict[str, Any]:
    key = ConversationKey.parse(h.conversation_id)
    return {
        "id": h.conversation_id, "channel": key.channel, "chat_id": key.chat_id,
        "status": h.status.value, "reason": h.reason, "language": h.language,
        "created_at": h.created_at, "assignee": h.assignee, "summary": h.summary.one_line(),
        "brief": h.summary.brief(), "unread": unread, "name": name,
    }  # fmt: skip


def bare_card(key: ConversationKey, fields: dict[str, str]) -> dict[str, Any]:
    """The card of a conversation that was never handed over (the bot answered it all)."""
    return {
        "id": key.id, "channel": key.channel, "chat_id": key.chat_id,
        "status": fields.get("status") or "bot", "reason": "",
        "language": fields.get("language") or "id", "created_at": 0, "assignee": "",
        "summary": "", "unread": 0, "name": fields.get("name") or fields.get("account") or "",
    }  # fmt: skip


class Desk:
    def __init__(
        self,
        services: InboxServices,
        accounts: Accounts,
        presence: Presence,
        outreach: Outreach,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._s = services
        self._outreach = outreach
        self._redis = services.store.redis
        self._accounts = accounts
        self._presence = presence
        self._clock = clock
        self._surveys = csat.Surveys(services.store, services.outbox)

    # --- reading -----------------------------------------------------------------------------

    async def queue(self, agent: Agent) -> dict[str, Any]:
        """Waiting conversations, oldest first."""
        found = await self._handoffs(await self._s.handoffs.waiting())
        waiting = [h for h in found if h.status is Status.WAITING]
        return {"now": self._clock(), "conversations": await self._cards(agent, waiting)}

    async def mine(self, agent: Agent) -> dict[str, Any]:
        """Conversations assigned to the agent, longest-waiting first."""
        async with self._s.store.guard():
            ids = sorted(await self._redis.smembers(keys.agent_conversations(agent.name)))
        found = await self._handoffs(ids)
        mine = [h for h in found if h.status is Status.ASSIGNED and h.assignee == agent.name]
        stale = set(ids) - {h.conversation_id for h in mine}
        if stale:  # lists written by an earlier version, or a conversation no longer kept
            async with self._s.store.guard():
                await self._redis.srem(keys.agent_conversations(agent.name), *stale)
        mine.sort(key=lambda h: h.created_at)
        return {"now": self._clock(), "conversations": await self._cards(agent, mine)}

    async def _handoffs(self, ids: list[str]) -> list[Handoff]:
        found = await asyncio.gather(
            *(self._s.handoffs.get(ConversationKey.parse(cid)) for cid in ids)
        )
        return [h for h in found if h is not None]

    async def _cards(self, agent: Agent, handoffs: list[Handoff]) -> list[dict[str, Any]]:
        if not handoffs:
            return []
        ids = [h.conversation_id for h in handoffs]
        async with self._s.store.guard():
            seen = await self._redis.hmget(keys.agent_seen(agent.name), ids)
            pipe = self._redis.pipeline(transaction=False)
            for cid, last in zip(ids, seen, strict=True):
                pipe.xrange(keys.transcript(cid), min=f"({last}" if last else "-", max="+",
                            count=UNREAD_SCAN)  # fmt: skip
                pipe.hmget(keys.conversation(cid), ["name", "account"])
            rows = await pipe.execute()
        unread = [sum(1 for _, f in r if f.get("role") == Role.CUSTOMER.value) for r in rows[::2]]
        names = [name or account or "" for name, account in rows[1::2]]
        return [_card(h, n, who) for h, n, who in zip(handoffs, unread, names, strict=True)]

    async def cards(self, agent: Agent, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Cards of any conversations, in the given order (search results)."""
        found = await self._handoffs(list(ids))
        with_handoff = {h.conversation_id: h for h in found}
        cards = {c["id"]: c for c in await self._cards(agent, found)}
        async with self._s.store.guard():
            pipe = self._redis.pipeline(transaction=False)
            for cid in ids:
                pipe.hgetall(keys.conversation(cid))
            rows = await pipe.execute()
        answer = []
        for cid, fields in zip(ids, rows, strict=True):
            if cid in with_handoff:
                answer.append({**cards[cid], "status": fields.get("status") or "bot"})
            elif fields:
                answer.append(bare_card(ConversationKey.parse(cid), fields))
        return answer

    async def conversation(self, agent: Agent, key: ConversationKey) -> dict[str, Any]:
        """The full transcript with delivery states, the handoff's summary, the reply window."""
        handoff = await self._s.handoffs.get(key)
        entries = await self._s.transcript.read(key)
        if not entries and handoff is None:
            raise NotFound("no_conversation", id=key.id)
        deliveries = await self._s.outbox.deliveries(key)
        async with self._s.store.guard():
            resolution, name, account = await self._redis.hmget(
                keys.conversation(key.id), ["resolution", "name", "account"]
            )
            if entries:
                await self._redis.hset(keys.agent_seen(agent.name), key.id, entries[-1].id)
        self._outreach.opened(agent, key, entries)
        lines = []
        for e in entries:
            line = e.as_json()
            if e.id in deliveries:
                line["delivery"] = deliveries[e.id].as_json()
            lines.append(line)
        state = await self._s.conversations.state(key)
        answer: dict[str, Any] = {
            "now": self._clock(),
            "conversation": {
                **(_card(handoff, 0) if handoff else {"id": key.id, "channel": key.channel,
                                                       "chat_id": key.chat_id}),
                "status": state.status.value, "assignee": state.assignee,
                "detail": handoff.detail if handoff else "", "resolution": resolution or "",
                "name": name or account or "",
            },
            "summary": None,
            "entries": lines,
            "reply_window": await self._window(key),
            "templates": self._outreach.templates(key.channel),
            "can": self._abilities(agent, state),
        }  # fmt: skip
        if handoff is not None:
            answer["summary"] = handoff.summary.as_json()
        return answer

    async def _window(self, key: ConversationKey) -> dict[str, Any] | None:
        window = reply_window(
            self._s.reply_window(key.channel), await self._s.transcript.last_customer_at(key)
        )
        return window.as_json(self._clock()) if window else None

    def _abilities(self, agent: Agent, state: State) -> dict[str, bool]:
        def ok(check: Callable[[Agent, State], None]) -> bool:
            try:
                check(agent, state)
            except (Forbidden, Conflict):
                return False
            return True

        return {
            "claim": agent.works_queue and state.status is Status.WAITING,
            "reply": ok(may_write), "note": ok(may_note), "transfer": ok(may_transfer),
            "hand_back": ok(may_resolve), "close": ok(may_resolve),
        }  # fmt: skip

    async def agents(self) -> list[dict[str, Any]]:
        online = set(await self._presence.online(self._clock()))
        return [{**a.as_json(), "online": a.name in online} for a in await self._accounts.all()]

    async def media(self, agent: Agent, key: ConversationKey, entry_id: str) -> Media:
        entry = await self._entry(key, entry_id)
        attachment = entry.meta.get("attachment") if entry.role is Role.CUSTOMER else None
        if not isinstance(attachment, dict) or not attachment.get("ref"):
            raise NotFound("no_attachment")
        try:
            return await self._s.fetch_media(key.channel, str(attachment["ref"]))
        except ChannelMediaUnavailable as exc:
            raise MediaUnavailable("media_gone", detail=str(exc)) from exc

    async def _entry(self, key: ConversationKey, entry_id: str) -> Entry:
        if not is_stream_id(entry_id):
            raise NotFound("no_message", entry=entry_id[:40], id=key.id)
        for entry in await self._s.transcript.read(key):
            if entry.id == entry_id:
                return entry
        raise NotFound("no_message", entry=entry_id, id=key.id)

    # --- acting ------------------------------------------------------------------------------

    async def _state(self, key: ConversationKey) -> State:
        if not await self._s.conversations.exists(key):
            raise NotFound("no_conversation", id=key.id)
        return await self._s.conversations.state(key)

    async def claim(self, agent: Agent, key: ConversationKey) -> dict[str, Any]:
        if not agent.works_queue:
            raise Forbidden("trainer_read_only")
        await self._state(key)
        try:
            outcome = await self._s.handoffs.claim(key, agent.name)
        except TransitionRefused as exc:
            raise conflict(exc, agent) from None
        return {"status": outcome.status.value, "assignee": outcome.assignee}

    async def reply(self, agent: Agent, key: ConversationKey, text: object) -> dict[str, Any]:
        cleaned = clean_text(text)
        may_write(agent, await self._state(key))
        [entry_id] = await self._s.outbox.post(
            key, [Entry(Role.AGENT, cleaned, meta={"agent": agent.name})]
        )
        await self._publish(Event.REPLY, key, {"entry_id": entry_id, "agent": agent.name})
        delivery = await self._s.outbox.delivery(key, entry_id)
        return {"entry_id": entry_id, "delivery": delivery.as_json() if delivery else None}

    async def note(self, agent: Agent, key: ConversationKey, text: object) -> dict[str, Any]:
        cleaned = clean_text(text)
        may_note(agent, await self._state(key))
        [entry_id] = await self._s.transcript.append(
            key, [Entry(Role.NOTE, cleaned, meta={"agent": agent.name})]
        )
        await self._publish(Event.NOTE, key, {"entry_id": entry_id, "agent": agent.name})
        return {"entry_id": entry_id}

    async def transfer(self, agent: Agent, key: ConversationKey, to: object) -> dict[str, Any]:
        if not isinstance(to, str) or not to:
            raise Invalid("transfer_to")
        state = await self._state(key)
        may_transfer(agent, state)
        target = await self._accounts.get(to)
        if target is None:
            raise Invalid("no_agent", name=to)
        if not target.works_queue:
            raise Invalid("transfer_trainer", name=to)
        if to == state.assignee:
            raise Invalid("transfer_same", name=to)
        current = state.assignee if agent.is_admin else agent.name
        try:
            outcome = await self._s.handoffs.transfer(key, current, to)
        except TransitionRefused as exc:
            raise conflict(exc, agent) from None
        return {"status": outcome.status.value, "assignee": outcome.assignee}

    async def hand_back(self, agent: Agent, key: ConversationKey) -> dict[str, Any]:
        state = await self._state(key)
        may_resolve(agent, state)
        try:
            outcome = await self._s.hand_back(key, agent.name, only_assignee=_only(agent))
        except TransitionRefused as exc:
            raise conflict(exc, agent) from None
        return {"status": outcome.status.value}

    async def close(
        self, agent: Agent, key: ConversationKey, resolution: object, text: object = ""
    ) -> dict[str, Any]:
        if resolution not in RESOLUTIONS:
            raise Invalid("resolution", choices=", ".join(RESOLUTIONS))
        detail = clean_text(text, limit=MAX_RESOLUTION_TEXT) if text else ""
        state = await self._state(key)
        may_resolve(agent, state)
        try:
            outcome = await self._s.handoffs.close(
                key,
                agent.name,
                f"{resolution}: {detail}" if detail else str(resolution),
                only_assignee=_only(agent),
            )
        except TransitionRefused as exc:
            raise conflict(exc, agent) from None
        survey = await self._survey(key, outcome.handoff_id, str(resolution), state.language)
        return {"status": outcome.status.value, "csat": survey}

    async def _survey(
        self, key: ConversationKey, handoff_id: str, resolution: str, language: str
    ) -> str:
        """Ask the customer the satisfaction question when it makes sense; says what was done
        ("asked") or why not ("off", "resolution", "window_closed")."""
        if not self._s.settings.csat:
            return "off"
        if resolution not in csat.ASKED_AFTER or not handoff_id:
            return "resolution"
        window = await self._window(key)
        if window is not None and window["expired"]:
            return "window_closed"  # only an approved template may go out now
        await self._surveys.ask(key, handoff_id, language)
        return "asked"

    async def retry(self, agent: Agent, key: ConversationKey, entry_id: str) -> dict[str, Any]:
        may_write(agent, await self._state(key))
        await self._entry(key, entry_id)
        try:
            await self._s.outbox.retry(key, entry_id)
        except NotRetryable as exc:
            raise Conflict("not_retryable", state=exc.state) from None
        delivery = await self._s.outbox.delivery(key, entry_id)
        return {"entry_id": entry_id, "delivery": delivery.as_json() if delivery else None}

    async def _publish(self, kind: Event, key: ConversationKey, data: dict[str, Any]) -> None:
        await events.publish(self._s.store, kind, key.id, data, ts=self._clock())
