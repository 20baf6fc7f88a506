"""Search against real Redis: the indexes written with transcripts, turns and transitions, and
the one script that answers a query from them."""

from __future__ import annotations

from bot.core.messages import ConversationKey
from handoff import Entry, Role, Transcript, keys
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.search import Query, Search
from handoff.store import Store
from handoff.summary import Summary


async def customer(store: Store, key: ConversationKey, *texts: str, name: str = "") -> None:
    await Transcript(store).append(key, [Entry(Role.CUSTOMER, t) for t in texts], name=name)


async def collected(store: Store, key: ConversationKey, **slots: object) -> None:
    """A bot turn that collected these slots."""
    await Conversations(store).remember(key, "{}", "id", slots)


async def handed_over(store: Store, key: ConversationKey, reason: str = "asked_for_human") -> None:
    await Handoffs(store).request(key, reason=reason, detail="", language="id", summary=Summary(),
                                  note="Handed over")  # fmt: skip


async def ids(store: Store, **query: object) -> list[str]:
    return (await Search(store).find(Query(**query))).ids  # type: ignore[arg-type]


async def test_words_the_customer_wrote_find_the_conversation_newest_first(store: Store) -> None:
    old = ConversationKey("telegram", "111")
    new = ConversationKey("whatsapp", "6281234567890")
    await customer(store, old, "Token saya belum masuk padahal sudah bayar")
    await customer(store, new, "TOKEN belum MASUK!!", "tolong dicek")
    assert await ids(store, text="token") == [new.id, old.id]
    assert await ids(store, text="belum masuk") == [new.id, old.id]  # every word must match
    assert await ids(store, text="sudah bayar") == [old.id]
    assert await ids(store, text="bayar tolong") == []
    assert await ids(store, text="saya") == []  # a word nearly every message has finds nothing
    assert await ids(store, text="token saya") == [new.id, old.id]
    assert await ids(store, text="token", channel="telegram") == [old.id]
    # accents and case are folded on both sides; the bot's and agents' lines are not indexed
    await customer(store, old, "Café di déket gardu")
    assert await ids(store, text="CAFE") == [old.id]
    await Transcript(store).append(new, [Entry(Role.AGENT, "gardu sudah dicek")])
    assert await ids(store, text="gardu") == [old.id]


async def test_numbers_the_bot_collected_or_the_customer_typed(store: Store) -> None:
    budi = ConversationKey("telegram", "222")
    siti = ConversationKey("webchat", "siti")
    await customer(store, budi, "mau beli token")
    await collected(store, budi, meter_number="53210055667", transaction_ref="TRXAB12CD34")
    await customer(store, siti, "meteran saya 532 100 55667 bunyi terus", "nomor 14234567890")
    await collected(store, siti, ticket_id="TKT000123", customer_id="532100556677")
    assert await ids(store, meter="53210055667") == [budi.id]
    assert await ids(store, meter="14234567890") == [siti.id]  # only ever typed
    assert await ids(store, meter="5321 0055 6677") == [siti.id]  # the customer id
    assert await ids(store, ticket="tkt000123") == [siti.id]
    assert await ids(store, transaction="TRXAB12CD34") == [budi.id]
    assert await ids(store, text="TRXAB12CD34") == [budi.id]  # the box finds numbers too
    assert await ids(store, ticket="TKT999999") == []
    members = await store.redis.hkeys(keys.conversation_refs(siti.id))
    assert sorted(members) == ["customer:532100556677", "ticket:tkt000123"]


async def test_agent_status_reason_and_dates_narrow_it_down(store: Store) -> None:
    handoffs = Handoffs(store)
    a, b, c = (ConversationKey("webchat", n) for n in ("a", "b", "c"))
    for key in (a, b, c):
        await customer(store, key, "listrik padam dari pagi")
    await handed_over(store, a, "not_understood")
    await handed_over(store, b)
    await handoffs.claim(a, "ana")
    await handoffs.claim(b, "budi")
    await handoffs.transfer(b, "budi", "ana")
    await handoffs.close(b, "ana", "solved")
    assert await ids(store, agent="ana") == [b.id, a.id]
    assert await ids(store, agent="budi") == [b.id]  # had it once
    assert await ids(store, agent="ana", status="assigned") == [a.id]
    assert await ids(store, status="closed") == [b.id]
    assert await ids(store, status="bot") == [c.id]
    assert await ids(store, reason="not_understood", text="padam") == [a.id]
    # dates are of the last activity: the customer's message, or an agent's transition
    when = int(await store.redis.zscore(keys.conversations_by_activity(), c.id) or 0)
    closed = int(await store.redis.zscore(keys.conversations_by_activity(), b.id) or 0)
    assert closed >= when
    assert await ids(store, since=when, until=when) == [c.id]
    assert c.id not in await ids(store, until=when - 1)
    assert await ids(store, since=closed, status="closed") == [b.id]


async def test_many_matches_are_cut_at_the_limit_and_say_so(store: Store) -> None:
    for i in range(7):
        await customer(store, ConversationKey("webchat", f"m{i}"), f"token {i}")
    found = await Search(store).find(Query(text="token", limit=5))
    assert found.ids == [f"webchat:m{i}" for i in (6, 5, 4, 3, 2)] and found.more
    found = await Search(store).find(Query(text="token", limit=7))
    assert len(found.ids) == 7 and not found.more
    assert await store.redis.keys(keys.search_scratch("*")) == []  # nothing left behind
