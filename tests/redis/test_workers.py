"""Inbound and delivery workers against the real Redis: order, retries, crash recovery."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.core.channel import DeliveryState, Sender, SendFailed
from bot.core.messages import ConversationKey, Inbound, Outbound, Template, Turn, Understanding
from bot.core.settings import Settings
from channels.telegram import TelegramSender, make_bot
from channels.telegram.convert import send_requests
from handoff import Entry, LockTimeout, Role, StoreUnavailable, Transcript, keys
from handoff.outbox import Delivery, Outbox
from handoff.store import Store, now_ms
from handoff.streams.consumer import StreamConsumer
from handoff.streams.delivery import MAX_ATTEMPTS, Courier
from handoff.streams.inbound import InboundQueue
from handoff.streams.intake import Intake
from handoff.streams.workers import StreamWorker
from tests.support.builders import RecordingSender, make_inbound, make_key
from tests.support.telegram_api import CHAT, TOKEN, FakeTelegram
from tests.support.waiting import eventually


@contextlib.asynccontextmanager
async def running(worker: StreamWorker) -> AsyncIterator[None]:
    worker.block_ms = 50
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        await worker.stop(grace=1)
        await asyncio.wait_for(task, 5)


class RecordingRouter:
    def __init__(self, fail_first: int = 0, error: Exception | None = None) -> None:
        self.seen: list[Inbound] = []
        self.errors = [error or LockTimeout("busy")] * fail_first

    async def handle(self, inbound: Inbound) -> Turn:
        if self.errors:
            raise self.errors.pop(0)
        await asyncio.sleep(0.01)  # lets other conversations interleave
        self.seen.append(inbound)
        return Turn(replies=(), understanding=Understanding(None))


def make_intake(store: Store, router: RecordingRouter, consumer: str = "gw") -> Intake:
    intake = Intake(store, router.handle, consumer=consumer, turn_timeout=5)
    intake.worker._retry_wait = (0.05, 0.1)
    return intake


async def stream_empty(store: Store, key: str) -> bool:
    return await store.redis.xlen(key) == 0


async def test_a_message_delivered_twice_is_accepted_once(store: Store) -> None:
    intake = make_intake(store, RecordingRouter())
    message = make_inbound("halo", make_key(channel="telegram"), message_id="1001")
    assert await intake.accept(message) is True
    assert await intake.accept(message) is False
    assert await store.redis.xlen(keys.inbound()) == 1
    assert 0 < await store.redis.ttl(keys.inbound_seen("telegram", "1001")) <= 48 * 3600


async def test_each_conversation_is_handled_in_order(store: Store) -> None:
    router = RecordingRouter()
    intake = make_intake(store, router)
    a, b = make_key(channel="telegram"), make_key(channel="telegram")
    for i in range(4):
        await intake.accept(make_inbound(f"a{i}", a, message_id=f"a{i}"))
        await intake.accept(make_inbound(f"b{i}", b, message_id=f"b{i}"))
    async with running(intake.worker):
        await eventually(lambda: stream_empty(store, keys.inbound()))
    assert [m.text for m in router.seen if m.conversation == a] == ["a0", "a1", "a2", "a3"]
    assert [m.text for m in router.seen if m.conversation == b] == ["b0", "b1", "b2", "b3"]


async def test_messages_a_crashed_worker_had_read_are_processed_after_restart(
    store: Store,
) -> None:
    router = RecordingRouter()
    intake = make_intake(store, router)
    key = make_key(channel="whatsapp")
    await intake.accept(make_inbound("token blm masuk", key, message_id="wamid.1"))
    crashed = StreamConsumer(store, keys.inbound(), "router", "gw", min_idle_ms=60_000)
    await crashed.ensure_group()
    assert len(await crashed.read(count=10, block_ms=10)) == 1  # read, then "crashed"
    async with running(make_intake(store, router).worker):  # same gateway, restarted
        await eventually(lambda: stream_empty(store, keys.inbound()))
    assert [m.text for m in router.seen] == ["token blm masuk"]


async def test_another_replica_takes_over_a_dead_workers_entries_once(store: Store) -> None:
    intake = make_intake(store, RecordingRouter())
    await intake.accept(make_inbound("halo", make_key(channel="telegram"), message_id="7"))
    dead = StreamConsumer(store, keys.inbound(), "router", "dead", min_idle_ms=0)
    await dead.ensure_group()
    [entry] = await dead.read(count=1, block_ms=10)
    alive = StreamConsumer(store, keys.inbound(), "router", "alive", min_idle_ms=0)
    assert [e.id for e in await alive.reclaim()] == [entry.id]
    assert await alive.lease(entry.id, 30) is True
    assert await dead.lease(entry.id, 30) is False  # the slow one wakes up: it must not go on
    await alive.done(entry.id)
    assert await dead.lease(entry.id, 30) is False  # finished work is never redone


async def test_a_postponed_turn_runs_again_in_its_place(store: Store) -> None:
    # The turn lock is held (a crashed gateway's), then Redis is away: the message waits in its
    # lane and runs before the conversation's next one, not after a lease expires.
    router = RecordingRouter(fail_first=2, error=StoreUnavailable("Redis is unreachable"))
    router.errors.insert(0, LockTimeout("busy"))
    intake = make_intake(store, router)
    key = make_key(channel="telegram")
    await intake.accept(make_inbound("first", key, message_id="9"))
    await intake.accept(make_inbound("second", key, message_id="10"))
    async with running(intake.worker):
        await eventually(lambda: stream_empty(store, keys.inbound()))
    assert [m.text for m in router.seen] == ["first", "second"]


async def test_a_turn_postponed_while_stopping_stays_queued(store: Store) -> None:
    router = RecordingRouter(fail_first=100)
    intake = make_intake(store, router)
    await intake.accept(make_inbound("halo", make_key(channel="telegram"), message_id="9"))
    async with running(intake.worker):
        await asyncio.sleep(0.3)
    assert router.seen == []
    pending = await store.redis.xpending(keys.inbound(), "router")
    assert pending["pending"] == 1
    assert await store.redis.exists(keys.lease(keys.inbound(), pending["min"])) == 0


async def test_a_restarted_consumer_takes_over_its_own_leases_at_once(
    store: Store, redis_url: str
) -> None:
    runs = [Store.from_url(redis_url, owner="host:8080") for _ in range(2)]  # killed, restarted
    before, after = (StreamConsumer(s, keys.inbound(), "router", "host:8080", min_idle_ms=60_000)
                     for s in runs)  # fmt: skip
    other = StreamConsumer(store, keys.inbound(), "router", "host:80", min_idle_ms=60_000)
    assert await before.lease("1-0", 60) is True  # then killed
    assert await other.lease("1-0", 60) is False  # another replica waits for the lease
    assert await after.lease("1-0", 60) is True  # the same gateway, restarted: at once
    assert await before.lease("1-0", 60) is False
    await after.done("1-0")
    assert await after.lease("1-0", 60) is False  # finished work is never redone
    for run in runs:
        await run.close()


async def test_after_a_kill_the_restarted_gateway_keeps_each_conversation_in_order(
    store: Store,
) -> None:
    router = RecordingRouter()
    key = make_key(channel="whatsapp")
    first = make_intake(store, router)
    for i in range(3):
        await first.accept(make_inbound(f"m{i}", key, message_id=f"wamid.{i}"))
    # The killed gateway had read all three and was in the middle of the first turn.
    killed = StreamConsumer(store, keys.inbound(), "router", "gw", min_idle_ms=60_000)
    await killed.ensure_group()
    entries = await killed.read(count=10, block_ms=10)
    assert await killed.lease(entries[0].id, 60) is True
    async with running(make_intake(store, router).worker):
        await eventually(lambda: stream_empty(store, keys.inbound()), timeout=3)
    assert [m.text for m in router.seen] == ["m0", "m1", "m2"]


async def test_a_restart_recovers_more_pending_entries_than_one_read_holds(store: Store) -> None:
    router = RecordingRouter()
    key = make_key(channel="telegram")
    intake = make_intake(store, router)
    for i in range(7):
        await intake.accept(make_inbound(f"m{i}", key, message_id=str(i)))
    killed = StreamConsumer(store, keys.inbound(), "router", "gw", min_idle_ms=60_000)
    await killed.ensure_group()
    assert len(await killed.read(count=10, block_ms=10)) == 7
    restarted = Intake(store, router.handle, consumer="gw", turn_timeout=5)
    restarted.worker = StreamWorker(
        restarted.worker._consumer, restarted.worker._handle, restarted.worker._lane_of,
        max_pending=3,
    )  # fmt: skip
    async with running(restarted.worker):
        await eventually(lambda: stream_empty(store, keys.inbound()), timeout=3)
    assert [m.text for m in router.seen] == [f"m{i}" for i in range(7)]


class HeldRouter(RecordingRouter):
    """Handles a conversation's first message only once `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started: list[str] = []

    async def handle(self, inbound: Inbound) -> Turn:
        self.started.append(inbound.text)
        if inbound.text.endswith("1"):
            await self.release.wait()
        return await super().handle(inbound)


async def test_a_replica_waits_for_an_earlier_message_another_replica_holds(
    store: Store,
) -> None:
    """Consecutive messages of one chat read by two replicas are still handled in order."""
    router = HeldRouter()
    replica_a, replica_b = make_intake(store, router, "a:1"), make_intake(store, router, "b:1")
    key = make_key(channel="whatsapp")
    for n in (1, 2):
        await replica_a.accept(make_inbound(f"pesan {n}", key, message_id=f"wamid.{n}"))
    reader = StreamConsumer(store, keys.inbound(), "router", "a:1", min_idle_ms=60_000)
    await reader.ensure_group()
    first, second = await reader.read(count=2, block_ms=10)
    held = asyncio.create_task(replica_a._process(first))  # replica A holds message 1 ...
    await eventually(lambda: router.started == ["pesan 1"])
    waiting = asyncio.create_task(replica_b._process(second))  # ... B has message 2
    await asyncio.sleep(0.3)
    assert router.started == ["pesan 1"]  # B has not begun: 1 is not through yet
    router.release.set()
    await asyncio.wait_for(asyncio.gather(held, waiting), 10)
    assert [m.text for m in router.seen] == ["pesan 1", "pesan 2"]
    assert await store.redis.llen(keys.inbound_order(key.id)) == 0


async def test_an_entry_finished_without_its_order_mark_blocks_nothing(store: Store) -> None:
    """A crash between acknowledging an entry and taking it off the order list."""
    queue = InboundQueue(store)
    key = make_key(channel="telegram")
    for n in (1, 2):
        await queue.accept(make_inbound(f"m{n}", key, message_id=f"u{n}"))
    first, second = (i for i, _ in await store.redis.xrange(keys.inbound()))
    assert await queue.due(key, second) is False
    await store.redis.xdel(keys.inbound(), first)  # acknowledged (and deleted), mark left
    assert await queue.due(key, second) is True
    assert await store.redis.lrange(keys.inbound_order(key.id), 0, -1) == [second]


# --- delivery -----------------------------------------------------------------------------


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def deliver(
    store: Store, sender: RecordingSender, *texts: str, channel: str = "telegram"
) -> tuple[Outbox, list[str], Sleeps]:
    outbox, key, sleeps = Outbox(store), make_key(channel=channel), Sleeps()
    ids = await outbox.post(key, [Entry(Role.AGENT, t) for t in texts])
    courier = Courier(store, outbox, {sender.channel: sender}, consumer="gw", sleep=sleeps)
    async with running(courier.worker):
        await eventually(lambda: stream_empty(store, keys.outbox()))
    return outbox, ids, sleeps


async def test_messages_are_sent_in_order_and_marked_sent(store: Store) -> None:
    sender = RecordingSender()
    outbox, ids, _ = await deliver(store, sender, "satu", "dua", "tiga")
    assert [o.text for o in sender.sent] == ["satu", "dua", "tiga"]
    key = sender.sent[0].conversation
    done = await outbox.deliveries(key)
    assert [done[i].state for i in ids] == [DeliveryState.SENT] * 3
    assert done[ids[0]].message_ids == ("telegram-1",)
    assert (
        await store.redis.get(keys.sent_message("telegram", "telegram-1")) == f"{key.id} {ids[0]}"
    )


async def test_rate_limits_are_waited_out_then_sent(store: Store) -> None:
    sender = RecordingSender(failures=[
        SendFailed("Too Many Requests", permanent=False, retry_after=3),
        SendFailed("connection reset", permanent=False),
    ])  # fmt: skip
    outbox, _, sleeps = await deliver(store, sender, "halo")
    assert sleeps == [3, 2.0]
    [delivery] = (await outbox.deliveries(sender.sent[0].conversation)).values()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 3)


async def test_a_permanent_failure_is_recorded_with_its_reason_not_retried(store: Store) -> None:
    sender = RecordingSender(failures=[SendFailed("the customer blocked the bot", permanent=True)])
    _, _, sleeps = await deliver(store, sender, "halo")
    assert sleeps == [] and sender.sent == []
    events = [f for _, f in await store.redis.xrange(keys.inbox_events())]
    assert events[-1]["type"] == "delivery" and "blocked the bot" in events[-1]["data"]


async def test_transient_failures_give_up_after_the_last_attempt(store: Store) -> None:
    sender = RecordingSender(
        failures=[SendFailed("HTTP 502", permanent=False) for _ in range(MAX_ATTEMPTS)]
    )
    _, _, sleeps = await deliver(store, sender, "halo")
    assert sleeps == [1, 2, 4, 8, 16, 32, 60]
    assert sender.sent == [] and sender.failures == []


async def test_a_closed_reply_window_fails_the_message_without_calling_the_channel(
    store: Store,
) -> None:
    sender = RecordingSender(channel="whatsapp", reply_window=24 * 3600.0)
    outbox, key, transcript = Outbox(store), make_key(channel="whatsapp"), Transcript(store)
    await transcript.append(key, [Entry(Role.CUSTOMER, "halo")])
    [fresh] = await outbox.post(key, [Entry(Role.AGENT, "sent while the window is open")])
    courier = Courier(store, outbox, {"whatsapp": sender}, consumer="gw", sleep=Sleeps())
    async with running(courier.worker):
        await eventually(lambda: stream_empty(store, keys.outbox()))
        two_days_ago = now_ms() - 48 * 3600 * 1000
        await store.redis.hset(keys.conversation(key.id), "last_customer_at", two_days_ago)
        [late] = await outbox.post(key, [Entry(Role.AGENT, "too late")])
        reopen = {"name": "loket_reopen", "language": "id", "params": ["Budi"]}
        [template] = await outbox.post(
            key, [Entry(Role.AGENT, "[template loket_reopen:id] Budi", meta={"template": reopen})]
        )
        await eventually(lambda: stream_empty(store, keys.outbox()))
    assert [o.text for o in sender.sent] == ["sent while the window is open",
                                             "[template loket_reopen:id] Budi"]  # fmt: skip
    assert sender.sent[1].template == Template("loket_reopen", "id", ("Budi",))
    done = await outbox.deliveries(key)
    assert done[fresh].state is DeliveryState.SENT and done[template].state is DeliveryState.SENT
    assert done[late].state is DeliveryState.FAILED and done[late].attempts == 0
    assert "reply window closed" in done[late].reason and "must write first" in done[late].reason
    assert done[late].code == "window_closed"  # the inbox explains it in the agent's language


async def test_a_channel_that_is_not_configured_fails_visibly(store: Store) -> None:
    sender = RecordingSender(channel="telegram")
    outbox, key = Outbox(store), make_key(channel="whatsapp")
    [entry_id] = await outbox.post(key, [Entry(Role.AGENT, "halo")])
    courier = Courier(store, outbox, {"telegram": sender}, consumer="gw", sleep=Sleeps())
    async with running(courier.worker):
        await eventually(lambda: stream_empty(store, keys.outbox()))
    failed = await outbox.delivery(key, entry_id)
    assert failed is not None and failed.state is DeliveryState.FAILED
    assert "whatsapp channel is not configured" in failed.reason
    assert failed.code == "channel_missing"


async def test_a_message_sent_before_a_crash_is_not_sent_again(store: Store) -> None:
    sender = RecordingSender()
    outbox, key = Outbox(store), make_key(channel="telegram")
    [entry_id] = await outbox.post(key, [Entry(Role.AGENT, "halo")])
    await outbox.mark(key, Delivery(entry_id, DeliveryState.SENT, attempts=1, message_ids=("5",)))
    courier = Courier(store, outbox, {"telegram": sender}, consumer="gw", sleep=Sleeps())
    async with running(courier.worker):
        await eventually(lambda: stream_empty(store, keys.outbox()))
    assert sender.sent == []


class FlakyOutbox(Outbox):
    """Redis goes away just as the channel's acceptance is to be recorded, twice."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.outages = 2

    async def mark(self, conversation: ConversationKey, delivery: Delivery, *, force: bool = False
                   ) -> bool:  # fmt: skip
        if delivery.state is DeliveryState.SENT and self.outages:
            self.outages -= 1
            raise StoreUnavailable("Redis is unreachable")
        return await super().mark(conversation, delivery, force=force)


async def test_redis_lost_after_a_send_neither_resends_nor_reorders(store: Store) -> None:
    sender, outbox, key = RecordingSender(), FlakyOutbox(store), make_key(channel="telegram")
    ids = await outbox.post(key, [Entry(Role.AGENT, "satu"), Entry(Role.AGENT, "dua")])
    courier = Courier(store, outbox, {"telegram": sender}, consumer="gw", sleep=Sleeps())
    courier.worker._retry_wait = (0.05, 0.1)
    async with running(courier.worker):
        await eventually(lambda: stream_empty(store, keys.outbox()))
    assert [o.text for o in sender.sent] == ["satu", "dua"]
    done = await outbox.deliveries(key)
    assert [done[i].state for i in ids] == [DeliveryState.SENT] * 2


# --- long messages: a part the channel accepted is never sent again ------------------------

LONG = "\n\n".join(f"Bagian {i}: " + "informasi " * 150 for i in range(8))  # several parts
TELEGRAM_CHAT = ConversationKey("telegram", str(CHAT))


@contextlib.asynccontextmanager
async def telegram(bot_api: FakeTelegram) -> AsyncIterator[TelegramSender]:
    bot = make_bot(Settings(telegram_token=TOKEN, telegram_api_url=bot_api.url))
    await bot.initialize()
    try:
        yield TelegramSender(bot)
    finally:
        await bot.shutdown()


async def run_courier(store: Store, outbox: Outbox, sender: Sender) -> None:
    courier = Courier(store, outbox, {sender.channel: sender}, consumer="gw", sleep=Sleeps())
    async with running(courier.worker):
        await eventually(lambda: stream_empty(store, keys.outbox()))


async def post_long(outbox: Outbox) -> tuple[str, list[str]]:
    [entry_id] = await outbox.post(TELEGRAM_CHAT, [Entry(Role.AGENT, LONG)])
    parts = [str(r["text"]) for r in send_requests(Outbound(TELEGRAM_CHAT, LONG))]
    assert len(parts) >= 3
    return entry_id, parts


async def test_a_long_message_failing_part_way_is_resumed_not_resent(
    store: Store, bot_api: FakeTelegram
) -> None:
    outbox = Outbox(store)
    entry_id, parts = await post_long(outbox)
    bot_api.fail("sendMessage", after=1, status=502, description="Bad Gateway")
    async with telegram(bot_api) as sender:
        await run_courier(store, outbox, sender)
    assert [m["text"] for m in bot_api.sent] == parts  # every part once, in order
    assert len(bot_api.calls_to("sendMessage")) == len(parts) + 1  # the one failed call
    done = await outbox.delivery(TELEGRAM_CHAT, entry_id)
    assert done is not None and (done.state, done.attempts) == (DeliveryState.SENT, 2)
    assert done.message_ids == tuple(str(m["message_id"]) for m in bot_api.sent)


async def test_a_worker_taking_over_sends_only_the_parts_not_yet_accepted(
    store: Store, bot_api: FakeTelegram
) -> None:
    outbox = Outbox(store)
    entry_id, parts = await post_long(outbox)
    # The worker that crashed had recorded the first part as accepted.
    crashed = Delivery(entry_id, DeliveryState.QUEUED, "sending: 1 part(s) sent", 1,
                       message_ids=("499",), parts_sent=1)  # fmt: skip
    await outbox.mark(TELEGRAM_CHAT, crashed)
    async with telegram(bot_api) as sender:
        await run_courier(store, outbox, sender)
    assert [m["text"] for m in bot_api.sent] == parts[1:]
    done = await outbox.delivery(TELEGRAM_CHAT, entry_id)
    assert done is not None and done.state is DeliveryState.SENT
    assert done.message_ids == ("499", *(str(m["message_id"]) for m in bot_api.sent))


async def test_an_agents_retry_of_a_long_message_sends_only_what_did_not_arrive(
    store: Store, bot_api: FakeTelegram
) -> None:
    outbox = Outbox(store)
    entry_id, parts = await post_long(outbox)
    bot_api.fail("sendMessage", after=1, status=403,
                 description="Forbidden: bot was blocked by the user")  # fmt: skip
    async with telegram(bot_api) as sender:
        await run_courier(store, outbox, sender)
        failed = await outbox.delivery(TELEGRAM_CHAT, entry_id)
        assert failed is not None and failed.state is DeliveryState.FAILED
        assert "blocked" in failed.reason
        assert "the first 1 part(s) reached the customer" in failed.reason
        assert [m["text"] for m in bot_api.sent] == parts[:1]
        await outbox.retry(TELEGRAM_CHAT, entry_id)  # the customer unblocked the bot
        await run_courier(store, outbox, sender)
    assert [m["text"] for m in bot_api.sent] == parts
    done = await outbox.delivery(TELEGRAM_CHAT, entry_id)
    assert done is not None and done.state is DeliveryState.SENT
