"""Handoff transitions in real Redis: atomic, idempotent, race-free."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.messages import IntentScore
from handoff import Role, Transcript, keys
from handoff.conversations import Conversations
from handoff.errors import TransitionRefused
from handoff.handoffs import Handoffs
from handoff.status import Status
from handoff.store import Store
from handoff.summary import Summary
from tests.support.builders import make_key

SUMMARY = Summary(
    wanted=(IntentScore("buy_token", 0.91),), collected={"meter_number": "14234567890"}
)


async def request(handoffs: Handoffs, key: object, reason: str = "asked_for_human") -> object:
    return await handoffs.request(
        key,  # type: ignore[arg-type]
        reason=reason, detail="", language="id", summary=SUMMARY, note=f"Handed over: {reason}",
    )  # fmt: skip


async def test_request_opens_one_handoff_and_a_retry_returns_it(store: Store) -> None:
    handoffs, key = Handoffs(store), make_key()
    first = await request(handoffs, key)
    again = await request(handoffs, key, reason="frustrated")
    assert first.changed and not again.changed  # type: ignore[attr-defined]
    assert again.handoff_id == first.handoff_id  # type: ignore[attr-defined]
    assert (await Conversations(store).state(key)).status is Status.WAITING
    handoff = await handoffs.get(key)
    assert handoff is not None and handoff.reason == "asked_for_human"
    assert handoff.summary == SUMMARY
    assert await handoffs.waiting() == [key.id]
    notes = [e for e in await Transcript(store).read(key) if e.role is Role.SYSTEM]
    assert [n.text for n in notes] == ["Handed over: asked_for_human"]


async def test_queue_is_oldest_first_with_positions(store: Store) -> None:
    handoffs = Handoffs(store)
    keys_ = [make_key() for _ in range(3)]
    positions = [(await request(handoffs, k)).position for k in keys_]  # type: ignore[attr-defined]
    assert positions == [1, 2, 3]
    assert await handoffs.waiting() == [k.id for k in keys_]


async def test_two_agents_racing_to_claim_exactly_one_wins(store: Store, redis_url: str) -> None:
    key = make_key()
    await request(Handoffs(store), key)
    other = Store.from_url(redis_url)  # a second replica with its own connection
    try:
        results = await asyncio.gather(
            Handoffs(store).claim(key, "ana"),
            Handoffs(other).claim(key, "budi"),
            return_exceptions=True,
        )
    finally:
        await other.close()
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, TransitionRefused)]
    assert len(won) == 1 and len(lost) == 1
    winner = won[0].assignee
    assert lost[0].assignee == winner  # the loser is told who has it
    assert winner in str(lost[0])
    assert await Handoffs(store).waiting() == []


async def test_transfer_hand_back_and_close(store: Store) -> None:
    handoffs, key = Handoffs(store), make_key()
    await request(handoffs, key)
    await handoffs.claim(key, "ana")
    with pytest.raises(TransitionRefused):
        await handoffs.transfer(key, "budi", "citra")  # only the assignee transfers
    assert (await handoffs.transfer(key, "ana", "budi")).assignee == "budi"
    await handoffs.hand_back(key, by="budi")
    assert (await Conversations(store).state(key)).status is Status.BOT
    with pytest.raises(TransitionRefused):
        await handoffs.close(key, "budi", "solved")  # nothing open to close
    await request(handoffs, key)
    await handoffs.claim(key, "ana")
    await handoffs.close(key, "ana", "solved")
    assert (await Conversations(store).state(key)).status is Status.CLOSED
    # A closed conversation can be handed over again when the bot fails once more.
    assert (await request(handoffs, key)).changed  # type: ignore[attr-defined]
    notes = [e.text for e in await Transcript(store).read(key) if e.role is Role.SYSTEM]
    assert notes == [
        "Handed over: asked_for_human", "Claimed by ana", "Transferred from ana to budi",
        "Handed back to the bot by budi", "Handed over: asked_for_human", "Claimed by ana",
        "Closed by ana: solved", "Handed over: asked_for_human",
    ]  # fmt: skip


async def test_each_agents_list_follows_every_transition_in_the_same_script(store: Store) -> None:
    handoffs, key = Handoffs(store), make_key()

    async def lists() -> dict[str, set[str]]:
        return {a: await store.redis.smembers(keys.agent_conversations(a)) for a in ("ana", "budi")}

    await request(handoffs, key)
    assert await lists() == {"ana": set(), "budi": set()}
    await handoffs.claim(key, "ana")  # as the terminal does: no inbox involved
    assert await lists() == {"ana": {key.id}, "budi": set()}
    await handoffs.transfer(key, "ana", "budi")
    assert await lists() == {"ana": set(), "budi": {key.id}}
    with pytest.raises(TransitionRefused):
        await handoffs.close(key, "ana", "solved", only_assignee="ana")  # refused: unchanged
    assert await lists() == {"ana": set(), "budi": {key.id}}
    await handoffs.hand_back(key, by="budi")
    assert await lists() == {"ana": set(), "budi": set()}
    await request(handoffs, key)
    await handoffs.claim(key, "budi")
    await handoffs.close(key, "budi", "solved")
    assert await lists() == {"ana": set(), "budi": set()}


async def test_every_transition_reaches_the_inbox_event_stream(store: Store) -> None:
    handoffs, key = Handoffs(store), make_key()
    await request(handoffs, key)
    await handoffs.customer_wrote(key, "1-0")
    await handoffs.claim(key, "ana")
    events = await store.redis.xrange(keys.inbox_events())
    assert [e["type"] for _, e in events] == ["request", "message", "claim"]
    assert json.loads(events[1][1]["data"]) == {"entry_id": "1-0", "assignee": ""}
    assert {e["conversation"] for _, e in events} == {key.id}


async def test_closing_an_assigned_conversation_checks_the_assignee_atomically(
    store: Store,
) -> None:
    handoffs, key = Handoffs(store), make_key()
    await request(handoffs, key)
    await handoffs.claim(key, "ana")
    await handoffs.transfer(key, "ana", "budi")  # lands just before ana presses "close"
    with pytest.raises(TransitionRefused) as refused:
        await handoffs.close(key, "ana", "solved", only_assignee="ana")
    assert refused.value.assignee == "budi"
    with pytest.raises(TransitionRefused):
        await handoffs.hand_back(key, "ana", only_assignee="ana")
    closed = await handoffs.close(key, "budi", "solved", only_assignee="budi")
    assert closed.status is Status.CLOSED


async def test_a_waiting_conversation_may_be_closed_by_any_agent(store: Store) -> None:
    handoffs, key = Handoffs(store), make_key()
    await request(handoffs, key)
    closed = await handoffs.close(key, "ana", "spam", only_assignee="ana")
    assert closed.status is Status.CLOSED
