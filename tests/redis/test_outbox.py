"""The outbox: transcript line and delivery queued together; states only move forward."""

from __future__ import annotations

import json

import pytest

from bot.core.channel import DeliveryState
from bot.core.messages import Button
from handoff import Entry, Role, Transcript, keys
from handoff.errors import HandoffError
from handoff.outbox import Delivery, Outbox
from handoff.store import Store
from tests.support.builders import make_key


async def test_post_records_the_line_and_queues_it_for_its_channel(store: Store) -> None:
    outbox, key = Outbox(store), make_key(channel="telegram")
    [entry_id] = await outbox.post(
        key, [Entry(Role.BOT, "Halo!", buttons=(Button("Ya", "/affirm"),))]
    )
    [line] = await Transcript(store).read(key)
    assert (line.id, line.text, line.role) == (entry_id, "Halo!", Role.BOT)
    queued = await store.redis.xrange(keys.outbox())
    assert [f for _, f in queued] == [{"conversation": key.id, "entry": entry_id}]
    assert (await outbox.delivery(key, entry_id)).state is DeliveryState.QUEUED  # type: ignore[union-attr]
    outbound = await outbox.outbound(key, entry_id)
    assert outbound is not None and outbound.buttons == (Button("Ya", "/affirm"),)


async def test_web_chat_lines_are_delivered_by_being_in_the_transcript(store: Store) -> None:
    outbox, key = Outbox(store), make_key()
    [entry_id] = await outbox.post(key, [Entry(Role.AGENT, "Saya Ana, saya bantu ya")])
    assert await store.redis.xlen(keys.outbox()) == 0
    assert (await outbox.delivery(key, entry_id)).state is DeliveryState.SENT  # type: ignore[union-attr]


async def test_states_only_move_forward_and_each_change_is_published(store: Store) -> None:
    outbox, key = Outbox(store), make_key(channel="whatsapp")
    [entry_id] = await outbox.post(key, [Entry(Role.AGENT, "hi")])
    sent = Delivery(entry_id, DeliveryState.SENT, attempts=1, message_ids=("wamid.1",))
    assert await outbox.mark(key, sent)
    await outbox.receipt("whatsapp", "wamid.1", DeliveryState.READ)
    await outbox.receipt("whatsapp", "wamid.1", DeliveryState.DELIVERED)  # late, out of order
    await outbox.receipt("whatsapp", "wamid.unknown", DeliveryState.READ)  # not ours: ignored
    final = await outbox.delivery(key, entry_id)
    assert final is not None and final.state is DeliveryState.READ and final.attempts == 1
    events = [
        f for _, f in await store.redis.xrange(keys.inbox_events()) if f["type"] == "delivery"
    ]
    assert [json.loads(e["data"])["state"] for e in events] == ["sent", "read"]


async def test_only_a_failed_message_can_be_retried(store: Store) -> None:
    outbox, key = Outbox(store), make_key(channel="telegram")
    [entry_id] = await outbox.post(key, [Entry(Role.AGENT, "hi")])
    with pytest.raises(HandoffError, match="only a failed message"):
        await outbox.retry(key, entry_id)
    await outbox.mark(key, Delivery(entry_id, DeliveryState.FAILED, "blocked", attempts=8))
    await outbox.retry(key, entry_id)
    again = await outbox.delivery(key, entry_id)
    assert again is not None and again.state is DeliveryState.QUEUED and again.attempts == 0
    assert await store.redis.xlen(keys.outbox()) == 2


async def test_post_once_writes_the_lines_and_its_key_together(store: Store) -> None:
    outbox, key = Outbox(store), make_key(channel="telegram")
    once = "loket:v1:test:once"
    first = await outbox.post_once(key, [Entry(Role.BOT, "token 1234")], once=once, ttl=60)
    again = await outbox.post_once(key, [Entry(Role.BOT, "token 1234")], once=once, ttl=60)
    assert first is not None and len(first) == 1 and again is None
    assert len(await Transcript(store).read(key)) == 1
    assert 0 < await store.redis.ttl(once) <= 60


async def test_lines_posted_while_people_own_the_conversation_reach_live_inboxes(
    store: Store,
) -> None:
    outbox, key = Outbox(store), make_key(channel="telegram")
    await outbox.post(key, [Entry(Role.BOT, "halo")])  # the bot's own conversation: no event
    assert await store.redis.xlen(keys.inbox_events()) == 0
    await store.redis.hset(keys.conversation(key.id), "status", "assigned")
    [entry_id] = await outbox.post(key, [Entry(Role.BOT, "Token Anda: 5821-0934-...")])
    [(_, event)] = await store.redis.xrange(keys.inbox_events())
    assert (event["type"], event["conversation"]) == ("posted", key.id)
    assert json.loads(event["data"]) == {"entry_ids": [entry_id]}
