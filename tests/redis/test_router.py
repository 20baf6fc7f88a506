"""The router against real Redis, with a recording double of our own Bot interface."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.core.channel import DeliveryState
from bot.core.errors import BotUnavailable
from bot.core.hours import ServiceHours
from bot.core.messages import (
    Attachment,
    ConversationKey,
    HandoffSignal,
    Inbound,
    IntentScore,
    Outbound,
    Turn,
    Understanding,
)
from bot.gateway import notices
from bot.gateway.router import Router, Team
from handoff import Conversations, Role, StoreUnavailable, Transcript, keys
from handoff.assignment import Assigner
from handoff.handoffs import Handoffs
from handoff.inbox import Accounts, AgentRole
from handoff.outbox import Outbox
from handoff.presence import Presence
from handoff.status import Status
from handoff.store import Store, now_ms
from tests.support.builders import make_inbound, make_key
from tests.support.inbox import PASSWORD

# A Wednesday, 10:00 in Jakarta: inside service hours; 23:00 is outside.
OPEN = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
CLOSED = datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)
Script = Callable[[Inbound], Turn]


def echo(inbound: Inbound) -> Turn:
    return Turn(
        replies=(Outbound(inbound.conversation, f"echo: {inbound.text}"),),
        understanding=Understanding(IntentScore("greet", 0.97)),
    )


def answers(intent: str, text: str, **kw: Any) -> Script:
    def script(inbound: Inbound) -> Turn:
        return Turn(
            replies=(Outbound(inbound.conversation, text),),
            understanding=Understanding(IntentScore(intent, 0.4)),
            **kw,
        )

    return script


class RecordingBot:
    """Answers by a script; remembers what it received, pauses, and overlapping turns."""

    def __init__(self, script: Script = echo, *, delay: float = 0.0, down: bool = False) -> None:
        self.script = script
        self.received: list[str] = []
        self.paused: list[str] = []
        self.resumed: list[str] = []
        self.active: set[str] = set()
        self.overlaps = 0
        self.down = down
        self._delay = delay

    async def send(self, inbound: Inbound) -> Turn:
        cid = inbound.conversation.id
        if cid in self.active:
            self.overlaps += 1
        self.active.add(cid)
        try:
            await asyncio.sleep(self._delay)
            if self.down:
                raise BotUnavailable("down")
            self.received.append(inbound.bot_text)
            return self.script(inbound)
        finally:
            self.active.discard(cid)

    async def pause(self, conversation: ConversationKey) -> None:
        self.paused.append(conversation.id)

    async def resume(self, conversation: ConversationKey) -> None:
        self.resumed.append(conversation.id)


def make_router(
    store: Store, bot: RecordingBot, *, now: datetime = OPEN
) -> tuple[Router, Transcript, Handoffs]:
    transcript, handoffs = Transcript(store), Handoffs(store)
    team = Team(ServiceHours.parse("mon-sat 08:00-20:00", "Asia/Jakarta"), Presence(store),
                clock=lambda: now)  # fmt: skip
    router = Router(
        Conversations(store), transcript, handoffs, bot, team, outbox=Outbox(store), timeout=5
    )
    return router, transcript, handoffs


async def test_inbound_and_replies_are_recorded_with_the_parse(store: Store) -> None:
    router, transcript, _ = make_router(store, RecordingBot())
    inbound = make_inbound("halo", message_id="tg-1")
    turn = await router.handle(inbound)
    assert [r.text for r in turn.replies] == ["echo: halo"]
    entries = await transcript.read(inbound.conversation)
    assert [(e.role, e.text) for e in entries] == [
        (Role.CUSTOMER, "halo"),
        (Role.BOT, "echo: halo"),
    ]
    assert entries[0].meta == {"message_id": "tg-1"}
    assert (entries[1].intent, entries[1].confidence) == ("greet", 0.97)


async def test_button_press_records_title_and_sends_payload(store: Store) -> None:
    bot = RecordingBot()
    router, transcript, _ = make_router(store, bot)
    inbound = make_inbound("Ya", payload="/affirm")
    await router.handle(inbound)
    assert bot.received == ["/affirm"]
    first = (await transcript.read(inbound.conversation))[0]
    assert (first.text, first.payload) == ("Ya", "/affirm")


async def test_one_conversation_is_handled_one_message_at_a_time(store: Store) -> None:
    bot = RecordingBot(delay=0.05)
    router, transcript, _ = make_router(store, bot)
    key, other = make_key(), make_key()
    texts = [f"m{i}" for i in range(5)]
    await asyncio.gather(
        *(router.handle(make_inbound(t, key)) for t in texts),
        router.handle(make_inbound("elsewhere", other)),
    )
    assert bot.overlaps == 0
    entries = await transcript.read(key)
    pairs = [(entries[i].text, entries[i + 1].text) for i in range(0, len(entries), 2)]
    assert sorted(pairs) == [(t, f"echo: {t}") for t in texts]


async def test_two_routers_sharing_redis_also_serialise(store: Store, redis_url: str) -> None:
    """Two replicas (two routers, two connections) never overlap on one conversation."""
    bot = RecordingBot(delay=0.05)
    router_a, _, _ = make_router(store, bot)
    other_store = Store.from_url(redis_url)
    router_b, _, _ = make_router(other_store, bot)
    key = make_key()
    try:
        await asyncio.gather(
            *(r.handle(make_inbound(f"m{i}", key)) for i, r in enumerate([router_a, router_b] * 3))
        )
    finally:
        await other_store.close()
    assert bot.overlaps == 0
    assert len(bot.received) == 6


async def test_asking_for_a_person_hands_over_and_the_bot_goes_silent(store: Store) -> None:
    signal = HandoffSignal("asked_for_human", "asked")
    slots = {"meter_number": "14234567890", "language": "id"}
    bot = RecordingBot(
        answers("request_human", "Baik, saya teruskan.", handoff=signal, slots=slots)
    )
    router, transcript, handoffs = make_router(store, bot)
    key = make_key()
    turn = await router.handle(make_inbound("mau ngomong sama CS", key))
    texts = [r.text for r in turn.replies]
    assert texts[0] == "Baik, saya teruskan."  # the action's own words are kept
    assert "antrean nomor 1" in texts[1]
    assert bot.paused == [key.id]  # Rasa's tracker is paused too
    handoff = await handoffs.get(key)
    assert handoff is not None and handoff.reason == "asked_for_human"
    assert handoff.summary.collected == {"meter_number": "14234567890"}

    # While a person owns it, the bot is never asked and nothing automatic goes out.
    for text in ("halo?", "masih di sana?"):
        quiet = await router.handle(make_inbound(text, key))
        assert quiet.replies == () and quiet.paused
    assert bot.received == ["mau ngomong sama CS"]
    entries = await transcript.read(key)
    assert [e.text for e in entries if e.role is Role.CUSTOMER][-2:] == ["halo?", "masih di sana?"]


async def test_hand_back_resumes_the_bot(store: Store) -> None:
    bot = RecordingBot(answers("request_human", "Baik.", handoff=HandoffSignal("asked_for_human")))
    router, _, handoffs = make_router(store, bot)
    key = make_key()
    await router.handle(make_inbound("minta operator", key))
    await handoffs.claim(key, "ana")
    await router.hand_back(key, by="ana")
    assert bot.resumed == [key.id]
    bot.script = echo
    turn = await router.handle(make_inbound("halo lagi", key))
    assert [r.text for r in turn.replies] == ["echo: halo lagi"]


async def test_not_understood_twice_hands_over_instead_of_repeating(store: Store) -> None:
    bot = RecordingBot(answers("nlu_fallback", "Maksudnya soal token atau tagihan?",
                               actions=("action_rephrase",)))  # fmt: skip
    router, _, handoffs = make_router(store, bot)
    key = make_key()
    first = await router.handle(make_inbound("zxcv", key))
    assert [r.text for r in first.replies] == ["Maksudnya soal token atau tagihan?"]
    second = await router.handle(make_inbound("qwer", key))
    assert len(second.replies) == 1
    assert "belum bisa memahami" in second.replies[0].text  # not the rephrase again
    handoff = await handoffs.get(key)
    assert handoff is not None and handoff.reason == "not_understood"
    assert handoff.summary.failed_turns == 2


async def test_bot_down_hands_over_politely(store: Store) -> None:
    router, transcript, _handoffs = make_router(store, RecordingBot(down=True))
    key = make_key()
    turn = await router.handle(make_inbound("halo", key))
    assert "asisten otomatis kami sedang gangguan" in turn.replies[0].text
    assert (await Conversations(store).state(key)).status is Status.WAITING
    roles = [e.role for e in await transcript.read(key)]
    assert roles == [Role.CUSTOMER, Role.SYSTEM, Role.BOT]


@pytest.mark.parametrize(
    ("now", "online", "expected", "back_button"),
    [
        (OPEN, True, "Petugas akan membalas di chat ini", False),
        (OPEN, False, "belum ada petugas yang online", True),
        (CLOSED, True, "Senin–Sabtu 08.00–20.00 WIB", True),
    ],
)
async def test_customer_is_told_honestly_who_can_answer_and_when(
    store: Store, now: datetime, online: bool, expected: str, back_button: bool
) -> None:
    if online:
        await Presence(store).heartbeat("ana", int(now.timestamp() * 1000))
    bot = RecordingBot(answers("request_human", "Baik.", handoff=HandoffSignal("asked_for_human")))
    router, _, _ = make_router(store, bot, now=now)
    turn = await router.handle(make_inbound("minta operator"))
    notice = turn.replies[-1]
    assert expected in notice.text
    assert bool(notice.buttons) == back_button


async def test_customer_in_the_queue_may_go_back_to_the_bot(store: Store) -> None:
    bot = RecordingBot(answers("request_human", "Baik.", handoff=HandoffSignal("asked_for_human")))
    router, _, _handoffs = make_router(store, bot, now=CLOSED)
    key = make_key()
    turn = await router.handle(make_inbound("minta operator", key))
    [button] = turn.replies[-1].buttons
    back = await router.handle(make_inbound(button.title, key, payload=button.payload))
    assert button.payload == notices.BACK_TO_BOT
    assert "kembali dengan asisten otomatis" in back.replies[0].text
    assert (await Conversations(store).state(key)).status is Status.BOT
    assert bot.resumed == [key.id]


async def test_an_attachment_is_recorded_and_the_customer_told_the_bot_reads_text(
    store: Store,
) -> None:
    bot = RecordingBot()
    router, transcript, _ = make_router(store, bot)
    photo = Attachment("photo", ref="AgAD-file", caption="meteran saya")
    key = make_key(channel="telegram")
    turn = await router.handle(make_inbound(photo.label, key, attachment=photo))
    assert bot.received == []  # Rasa would only guess at "[photo] ..."
    assert "hanya bisa membaca pesan teks" in turn.replies[0].text
    first, reply = await transcript.read(key)
    assert first.text == "[photo] meteran saya"
    assert first.meta["attachment"] == {
        "kind": "photo",
        "ref": "AgAD-file",
        "caption": "meteran saya",
    }
    deliveries = await Outbox(store).deliveries(key)
    assert deliveries[reply.id].state is DeliveryState.QUEUED  # on its way to Telegram


async def test_an_attachment_during_a_handoff_reaches_the_agent_silently(store: Store) -> None:
    signal = HandoffSignal("asked_for_human", "asked")
    bot = RecordingBot(answers("request_human", "Baik.", handoff=signal))
    router, transcript, _ = make_router(store, bot)
    key = make_key(channel="whatsapp")
    await router.handle(make_inbound("petugas", key))
    voice = Attachment("voice", ref="media-1")
    quiet = await router.handle(make_inbound(voice.label, key, attachment=voice))
    assert quiet.replies == () and quiet.paused
    events = await store.redis.xrange(keys.inbox_events())
    assert events[-1][1]["type"] == "message"
    assert (await transcript.read(key))[-1].text == "[voice]"


async def test_a_message_replayed_after_its_turn_finished_is_not_answered_again(
    store: Store,
) -> None:
    """A crash between the turn and the inbound stream's acknowledgement replays the message."""
    bot = RecordingBot()
    router, transcript, _ = make_router(store, bot)
    key = make_key(channel="telegram")
    first = await router.handle(make_inbound("halo", key, message_id="501"))
    replay = await router.handle(make_inbound("halo", key, message_id="501"))
    assert len(first.replies) == 1 and replay.replies == ()
    assert bot.received == ["halo"]
    assert len(await transcript.read(key)) == 2


async def test_a_message_replayed_after_its_answer_was_posted_is_not_answered_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash came after the replies were queued, before the turn was marked finished."""
    bot = RecordingBot()
    router, transcript, _ = make_router(store, bot)
    key = make_key(channel="telegram")

    async def crash(self: Conversations, conversation: ConversationKey, message_id: str) -> None:
        raise StoreUnavailable("the gateway died here")

    with monkeypatch.context() as patch:
        patch.setattr(Conversations, "mark_answered", crash)
        with pytest.raises(StoreUnavailable):
            await router.handle(make_inbound("halo", key, message_id="601"))
    replay = await router.handle(make_inbound("halo", key, message_id="601"))
    assert replay.replies == () and bot.received == ["halo"]
    assert [e.text for e in await transcript.read(key)] == ["halo", "echo: halo"]
    assert await store.redis.xlen(keys.outbox()) == 1  # queued for delivery once


async def test_a_handoff_interrupted_before_its_notice_is_completed_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The action's own words were queued, then the gateway died before the handoff opened."""
    signal = HandoffSignal("backend_failure", "provider down")
    bot = RecordingBot(answers("check_transaction", "Sistem kami sedang gangguan.", handoff=signal))
    router, transcript, _ = make_router(store, bot)
    key = make_key(channel="whatsapp")

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("the gateway died here")

    with monkeypatch.context() as patch:
        patch.setattr(Handoffs, "request", crash)
        with pytest.raises(StoreUnavailable):
            await router.handle(make_inbound("cek transaksi", key, message_id="wamid.7"))
    await router.handle(make_inbound("cek transaksi", key, message_id="wamid.7"))
    bot_lines = [e.text for e in await transcript.read(key) if e.role is Role.BOT]
    assert bot_lines[0] == "Sistem kami sedang gangguan." and len(bot_lines) == 2  # + notice
    assert (await Conversations(store).state(key)).status is Status.WAITING


async def test_a_turn_run_again_after_a_failure_records_its_message_once(store: Store) -> None:
    """Redis (or Rasa, through Redis) failed just after the customer's line was written."""
    bot = RecordingBot()
    router, transcript, _ = make_router(store, bot)
    key = make_key(channel="telegram")
    failing = bot.send

    async def fails_once(inbound: Inbound) -> Turn:
        bot.send = failing  # type: ignore[method-assign]
        raise StoreUnavailable("Redis is unreachable")

    bot.send = fails_once  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        await router.handle(make_inbound("halo", key, message_id="701"))
    await router.handle(make_inbound("halo", key, message_id="701"))  # the worker's retry
    assert [(e.role, e.text) for e in await transcript.read(key)] == [
        (Role.CUSTOMER, "halo"),
        (Role.BOT, "echo: halo"),
    ]


async def test_with_round_robin_a_handoff_goes_straight_to_an_agent_online(
    store: Store,
) -> None:
    for name in ("ana", "budi"):
        await Accounts(store).add(name, AgentRole.AGENT, PASSWORD)
        await Presence(store).heartbeat(name, now_ms())
    transcript, handoffs = Transcript(store), Handoffs(store)
    team = Team(ServiceHours.parse("mon-sat 08:00-20:00", "Asia/Jakarta"), Presence(store),
                clock=lambda: OPEN)  # fmt: skip
    bot = RecordingBot(answers("request_human", "Baik.", handoff=HandoffSignal("asked_for_human"),
                               slots={"meter_number": "14234567890"}))  # fmt: skip
    router = Router(Conversations(store), transcript, handoffs, bot, team, outbox=Outbox(store),
                    timeout=5, assigner=Assigner(store, handoffs))  # fmt: skip
    first, second = make_key(), make_key()
    turn = await router.handle(make_inbound("minta petugas", first, metadata={"name": "Budi"}))
    assert "segera membalas" in turn.replies[-1].text and not turn.replies[-1].buttons
    await router.handle(make_inbound("minta petugas", second))
    states = [await Conversations(store).state(k) for k in (first, second)]
    assert [(s.status, s.assignee) for s in states] == [(Status.ASSIGNED, "ana"),
                                                        (Status.ASSIGNED, "budi")]  # fmt: skip
    # what the turn carried is kept for the contact and search
    assert await store.redis.hget(keys.conversation(first.id), "name") == "Budi"
    assert await store.redis.hkeys(keys.conversation_refs(first.id)) == ["meter:14234567890"]
    events = [f for _, f in await store.redis.xrange(keys.inbox_events())]
    assert [e["type"] for e in events].count("claim") == 2
    quiet = await router.handle(make_inbound("halo?", first))
    assert quiet.replies == ()
    message = [e for _, e in await store.redis.xrange(keys.inbox_events())][-1]
    assert message["type"] == "message" and '"assignee": "ana"' in message["data"]
