"""Conversations older than the search indexes get their entries and handoff histories: from
the transcript's lines and the last handoff's brief, once, and again without harm."""

from __future__ import annotations

import json

from handoff import keys
from handoff.backfill import Backfill
from handoff.contacts import Contacts
from handoff.search import Query, Search
from handoff.store import Store
from tests.support.cli import loket

CID = "whatsapp:6281234567890"


async def an_old_conversation(store: Store) -> None:
    """Written as Loket wrote before the indexes existed: lines and the conversation's hash."""
    lines = [
        {"role": "customer", "text": "Token belum masuk, sudah bayar", "ts": "1000"},
        {"role": "system", "text": "Handed over", "ts": "2000",
         "meta": json.dumps({"event": "request", "reason": "asked_for_human", "handoff_id": "h1"})},
        {"role": "system", "text": "Claimed by ana", "ts": "3000",
         "meta": json.dumps({"event": "claim", "agent": "ana"})},
        {"role": "system", "text": "Transferred", "ts": "3500",
         "meta": json.dumps({"event": "transfer", "agent": "ana", "to": "budi"})},
        {"role": "system", "text": "Closed", "ts": "4000",
         "meta": json.dumps({"event": "close", "agent": "budi", "resolution": "solved"})},
        {"role": "customer", "text": "Masih belum", "ts": "5000"},
        {"role": "system", "text": "Handed over", "ts": "6000",
         "meta": json.dumps({"event": "request", "reason": "frustrated", "handoff_id": "h2"})},
    ]  # fmt: skip
    for fields in lines:
        await store.redis.xadd(keys.transcript(CID), fields)  # type: ignore[arg-type]
    summary = {"collected": {"meter_number": "53210055667"}, "wanted": [], "failed_turns": 0}
    await store.redis.hset(keys.conversation(CID), mapping={
        "status": "waiting", "handoff_id": "h2", "summary": json.dumps(summary),
    })  # fmt: skip
    await store.redis.zadd(keys.conversations_by_activity(), {CID: 6000})


async def test_older_conversations_are_indexed_once(store: Store) -> None:
    await an_old_conversation(store)
    search = Search(store)
    assert (await search.find(Query(text="token"))).ids == []
    backfill = Backfill(store)
    assert await backfill.needed()
    done = await backfill.run_once()
    assert done is not None and (done.conversations, done.handoffs) == (1, 2)
    for query in (Query(text="sudah bayar"), Query(meter="53210055667"), Query(agent="ana"),
                  Query(agent="budi"), Query(reason="frustrated")):  # fmt: skip
        assert (await search.find(query)).ids == [CID], query
    newer, older = await Contacts(store).handoffs([CID])
    assert (older.handoff_id, older.assignee, older.outcome, older.resolution) == (
        "h1",
        "budi",
        "closed",
        "solved",
    )
    assert (newer.handoff_id, newer.status, newer.reason) == ("h2", "waiting", "frustrated")
    assert not await backfill.needed() and await backfill.run_once() is None
    again = await backfill.run()  # on demand: nothing new
    assert again.handoffs == 0
    assert await store.redis.zscore(keys.search_word("token"), CID) == 1000


async def test_the_command_backfills_on_demand(store: Store, redis_url: str) -> None:
    await an_old_conversation(store)
    result = loket("handoffs", "reindex", env={"REDIS_URL": redis_url})
    assert result.returncode == 0, result.stderr
    assert "indexed 1 conversation(s): 2 handoff(s) added to histories" in result.stdout
    assert (await Search(store).find(Query(ticket="x", text="token"))).ids == []
    assert (await Search(store).find(Query(text="token"))).ids == [CID]
