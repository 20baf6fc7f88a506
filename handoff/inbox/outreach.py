"""Reaching the customer beyond a reply: an approved template to reopen a WhatsApp conversation
after its 24-hour window closed, the "typing…" signal while an agent writes (Telegram), and
read receipts when an agent opens what the customer wrote (WhatsApp's blue ticks).

Read receipts are sent in the background (an owned set of tasks, ended with the app), so
opening a conversation never waits on the channel; a failed one is tried again on the next open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from bot.core.channel import SendFailed
from bot.core.messages import ConversationKey, Template
from handoff import keys
from handoff.contacts import Contacts
from handoff.events import Event, publish
from handoff.inbox.accounts import Agent
from handoff.inbox.errors import Invalid, NotFound
from handoff.inbox.rules import may_write
from handoff.inbox.services import InboxServices
from handoff.outbox import template_meta
from handoff.transcript import Entry, Role

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4  # Telegram shows "typing…" for up to 5 s per signal
READ_MARK_TTL_S = 30 * 24 * 3600  # WhatsApp takes read marks up to 30 days after receipt


class Outreach:
    def __init__(self, services: InboxServices, contacts: Contacts) -> None:
        self._s = services
        self._redis = services.store.redis
        self._contacts = contacts
        self._tasks: set[asyncio.Task[None]] = set()

    def templates(self, channel: str) -> list[dict[str, object]]:
        """The approved templates the agent may send on this channel."""
        return [t.as_json() for t in self._s.templates(channel)]

    async def send_template(self, agent: Agent, key: ConversationKey, wanted: object) -> Any:
        """Send an approved template (by "name:language"), its variables filled from the
        contact; recorded in the transcript like a reply, with its own delivery state."""
        may_write(agent, await self._s.conversations.state(key))
        spec = next((t for t in self._s.templates(key.channel) if t.key == wanted), None)
        if spec is None:
            raise NotFound("no_template", key=str(wanted)[:80], channel=key.channel)
        values = (await self._contacts.contact(key)).variables()
        missing = [v for v in spec.variables if not values.get(v)]
        if missing:
            raise Invalid("template_variable", name=missing[0])
        template = Template(spec.name, spec.language, tuple(values[v] for v in spec.variables))
        shown = f"[template {spec.key}]" + (f" {' · '.join(template.params)}"
                                           if template.params else "")  # fmt: skip
        meta = {"agent": agent.name, "template": template_meta(template)}
        [entry_id] = await self._s.outbox.post(key, [Entry(Role.AGENT, shown, meta=meta)])
        event = {"entry_id": entry_id, "agent": agent.name, "template": spec.key}
        await publish(self._s.store, Event.REPLY, key.id, event)
        delivery = await self._s.outbox.delivery(key, entry_id)
        return {"entry_id": entry_id, "delivery": delivery.as_json() if delivery else None}

    async def typing(self, agent: Agent, key: ConversationKey) -> dict[str, bool]:
        """Show the customer "typing…"; at most one signal per conversation every few seconds
        whoever types. `sent` says whether this call sent one."""
        may_write(agent, await self._s.conversations.state(key))
        async with self._s.store.guard():
            fresh = await self._redis.set(keys.typing_sent(key.id), agent.name, nx=True,
                                          ex=TYPING_EVERY_S)  # fmt: skip
        if not fresh:
            return {"sent": False}
        try:
            await self._s.typing(key)
        except SendFailed as exc:
            log.info("%s: typing signal not sent: %s", key.id, exc.reason)
            return {"sent": False}
        return {"sent": True}

    def opened(self, agent: Agent, key: ConversationKey, entries: Sequence[Entry]) -> None:
        """An agent opened the conversation: mark the customer's newest message read on their
        channel, once (in the background)."""
        if not agent.works_queue:
            return
        last = next((e for e in reversed(entries) if e.role is Role.CUSTOMER), None)
        message_id = str((last.meta.get("message_id") or "") if last else "")
        if not message_id:
            return
        task = asyncio.create_task(self._mark_read(key, message_id), name=f"read {key.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _mark_read(self, key: ConversationKey, message_id: str) -> None:
        marker = keys.read_marked(key.id)
        try:
            async with self._s.store.guard():
                if await self._redis.get(marker) == message_id:
                    return
                await self._redis.set(marker, message_id, ex=READ_MARK_TTL_S)
            await self._s.mark_read(key, message_id)
        except SendFailed as exc:
            log.warning("%s: could not mark message %s read: %s", key.id, message_id, exc.reason)
            with contextlib.suppress(Exception):
                await self._redis.delete(marker)  # try again on the next open
        except Exception:
            log.exception("%s: marking message %s read failed", key.id, message_id)

    async def close(self) -> None:
        """Wait briefly for read receipts under way, then cancel the rest (app shutdown)."""
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=2)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
