"""The customer across conversations, against real Redis: every handoff kept by the transitions'
script, the contact's name and numbers, their other conversations, and round-robin assignment."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.messages import ConversationKey
from handoff import Entry, Role, Transcript, keys
from handoff.assignment import Assigner
from handoff.contacts import Contacts
from handoff.conversations import Conversations
from handoff.errors import TransitionRefused
from handoff.handoffs import Handoffs
from handoff.inbox import AgentRole
from handoff.inbox.accounts import Accounts
from handoff.presence import Presence
from handoff.status import Status
from handoff.store import Store, now_ms
from handoff.summary import Summary
from tests.support.inbox import PASSWORD

BUDI_TG = ConversationKey("telegram", "777001")
BUDI_WA = ConversationKey("whatsapp", "6281234567890")


async def request(handoffs: Handoffs, key: ConversationKey, reason: str = "asked_for_human") -> str:
    summary = Summary(failed_turns=1)
    outcome = await handoffs.request(
        key, reason=reason, detail="", language="id", summary=summary, note="Handed over"
    )
    return outcome.handoff_id


async def test_every_handoff_is_kept_with_how_it_ended(store: Store) -> None:
    handoffs = Handoffs(store)
    await Transcript(store).append(BUDI_TG, [Entry(Role.CUSTOMER, "petugas")])
    first = await request(handoffs, BUDI_TG)
    await handoffs.claim(BUDI_TG, "ana")
    await handoffs.transfer(BUDI_TG, "ana", "budi")
    await handoffs.close(BUDI_TG, "budi", "solved: token dikirim ulang")
    await asyncio.sleep(0.002)  # the two handoffs are ordered by their time (ms)
    second = await request(handoffs, BUDI_TG, "not_understood")
    await handoffs.hand_back(BUDI_TG, "the customer")
    with_refused = await store.redis.hlen(keys.handoff_history(BUDI_TG.id))
    with pytest.raises(TransitionRefused):
        await handoffs.claim(BUDI_TG, "ana")  # refused: nothing is written
    assert await store.redis.hlen(keys.handoff_history(BUDI_TG.id)) == with_refused == 2
    newer, older = await Contacts(store).handoffs([BUDI_TG.id])  # newest first
    assert (older.handoff_id, newer.handoff_id) == (first, second)
    assert (older.reason, older.assignee, older.status, older.outcome) == (
        "asked_for_human",
        "budi",
        "closed",
        "closed",
    )
    assert older.resolution == "solved: token dikirim ulang" and older.ended_at >= older.at
    assert older.brief == {"wanted": [], "collected": {}, "failed_turns": 1}
    assert (newer.reason, newer.assignee, newer.status, newer.outcome) == (
        "not_understood",
        "",
        "bot",
        "hand_back",
    )
    raw = json.loads(await store.redis.hget(keys.handoff_history(BUDI_TG.id), first) or "{}")
    assert raw["ended_by"] == "budi" and raw["claimed_at"] >= raw["at"]


async def test_the_contact_and_their_other_conversations(store: Store) -> None:
    handoffs, contacts = Handoffs(store), Contacts(store)
    transcript, conversations = Transcript(store), Conversations(store)
    await transcript.append(BUDI_TG, [Entry(Role.CUSTOMER, "token belum masuk")],
                            name="Budi Santoso")  # fmt: skip
    await conversations.remember(BUDI_TG, "{}", "id", {
        "meter_number": "53210055667", "customer_name": "BUDI SANTOSO", "requested_slot": "x",
    })  # fmt: skip
    await request(handoffs, BUDI_TG)
    await handoffs.close(BUDI_TG, "ana", "solved")
    await conversations.remember(BUDI_TG, "{}", "id", {"ticket_id": "TKT000123"})
    # the same meter on WhatsApp, days later: the same customer, another conversation
    await transcript.append(BUDI_WA, [Entry(Role.CUSTOMER, "halo")], name="Budi")
    await conversations.remember(BUDI_WA, "{}", "id", {"meter_number": "532 1005 5667"})
    await request(handoffs, BUDI_WA)
    stranger = ConversationKey("webchat", "x")
    await conversations.remember(stranger, "{}", "id", {"meter_number": "14234567890"})

    contact = await contacts.contact(BUDI_TG)
    assert (contact.name, contact.account) == ("Budi Santoso", "BUDI SANTOSO")
    assert dict(contact.refs) == {"meter": ["53210055667"], "ticket": ["tkt000123"]}
    assert contact.variables() == {"name": "Budi Santoso", "meter": "53210055667",
                                   "ticket": "TKT000123"}  # fmt: skip
    story = await contacts.story(BUDI_TG, now_ms())
    assert [c["id"] for c in story["conversations"]] == [BUDI_WA.id]
    assert story["conversations"][0]["status"] == "waiting"
    assert story["conversations"][0]["name"] == "Budi"
    assert [h["conversation"] for h in story["handoffs"]] == [BUDI_WA.id, BUDI_TG.id]
    assert story["recent"] == {"days": 7, "handoffs": 2}
    later = now_ms() + 8 * 24 * 3600 * 1000
    assert (await contacts.story(BUDI_TG, later))["recent"]["handoffs"] == 0
    unknown = await contacts.contact(ConversationKey("webchat", "nobody"))
    assert unknown.variables() == {"name": "", "meter": "", "ticket": ""}


async def test_round_robin_among_the_agents_online(store: Store) -> None:
    handoffs, presence, accounts = Handoffs(store), Presence(store), Accounts(store)
    for name, role in (("ana", "agent"), ("budi", "admin"), ("citra", "agent"),
                       ("tari", "trainer"), ("dodi", "agent")):  # fmt: skip
        await accounts.add(name, AgentRole(role), PASSWORD)
    now = now_ms()
    for name in ("ana", "budi", "citra", "tari"):
        await presence.heartbeat(name, now)
    await presence.heartbeat("dodi", now - 10 * 60_000)  # gone for ten minutes
    await accounts.set_preferences("citra", auto_assign=False)  # on a break
    assigner = Assigner(store, handoffs)
    given = []
    for i in range(5):
        key = ConversationKey("webchat", f"rr{i}")
        await request(handoffs, key)
        given.append(await assigner.assign(key))
    assert given == ["ana", "budi", "ana", "budi", "ana"]
    state = await Conversations(store).state(ConversationKey("webchat", "rr0"))
    assert (state.status, state.assignee) == (Status.ASSIGNED, "ana")
    lines = await Transcript(store).read(ConversationKey("webchat", "rr0"))
    assert lines[-1].text == "Assigned to ana (round robin)"
    claimed = ConversationKey("webchat", "claimed")
    await request(handoffs, claimed)
    await handoffs.claim(claimed, "citra")
    assert await assigner.assign(claimed) == ""  # a claim that landed first wins
    for name in ("ana", "budi"):
        await presence.leave(name)
    nobody = ConversationKey("webchat", "nobody")
    await request(handoffs, nobody)
    assert await assigner.assign(nobody) == ""
    assert (await Conversations(store).state(nobody)).status is Status.WAITING
