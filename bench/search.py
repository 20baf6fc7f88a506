"""Inbox search: the indexes (one Lua script over sorted sets) against reading every transcript,
and what keeping the indexes costs when a customer's message is recorded.

    .venv/bin/python -m bench.search [--conversations 2000] [--lines 12] [--queries 40]

Runs its own Redis. Seeds `--conversations` conversations of `--lines` customer lines each,
written by Loket's own Transcript (so the words are indexed as in production), a third of them
handed over and claimed, with meter numbers collected. Then times `--queries` searches of
each kind — one word, two words, a meter number, a word with a status filter — through
handoff/search.py, and the same searches answered the way an inbox without indexes would: read
every transcript (pipelined XRANGE) and match in Python. It also times recording one customer
line with and without its index entries (the same MULTI minus the word ZADDs), and shows the
indexes' share of Redis memory. Prints p50/p95 per query kind and the ratios, all measured in
the same run. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bench.harness import table
from bot.core.messages import ConversationKey
from bot.ops.embedded_redis import EmbeddedRedis
from handoff import Entry, Role, Transcript, index, keys
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.search import Query, Search
from handoff.status import Status
from handoff.store import Store, now_ms
from handoff.summary import Summary

PHRASES = [
    "token saya belum masuk padahal sudah bayar", "listrik padam dari pagi di rumah",
    "meteran bunyi terus angka di layar", "mau beli token 50rb", "cek tagihan bulan ini",
    "kenapa tagihan saya naik", "lampu kedip kedip tegangan turun", "mau pasang baru 2200 VA",
    "sudah transfer tapi belum ada token", "tolong dibantu min", "gimana cara isi token",
    "petugas belum datang juga", "saya mau komplain pelayanan", "nomor meter saya salah ketik",
]  # fmt: skip
WORDS = sorted({w for p in PHRASES for w in p.split()})


def line(rng: random.Random, meter: str) -> str:
    text = rng.choice(PHRASES)
    if rng.random() < 0.2:
        text += f" meter {meter}"
    return text


async def seed(store: Store, args: argparse.Namespace, rng: random.Random) -> list[str]:
    transcript, conversations, handoffs = Transcript(store), Conversations(store), Handoffs(store)
    meters = []
    for i in range(args.conversations):
        key = ConversationKey("whatsapp", f"62812{i:08d}")
        meter = f"532{rng.randrange(10**8):08d}"
        meters.append(meter)
        for _ in range(args.lines):
            await transcript.append(key, [Entry(Role.CUSTOMER, line(rng, meter))])
        if i % 3 == 0:
            await conversations.remember(key, "{}", "id", {"meter_number": meter})
            await handoffs.request(key, reason="asked_for_human", detail="", language="id",
                                   summary=Summary(), note="Handed over (bench)")  # fmt: skip
            await handoffs.claim(key, f"agent{i % 5}")
    return meters


async def scan(store: Store, query: Query) -> list[str]:
    """A search without indexes: every transcript read, the customer's lines matched."""
    redis = store.redis
    ids = list(await redis.zrevrange(keys.conversations_by_activity(), 0, -1))
    wanted = query.words + ([index.ref_value(query.meter)] if query.meter else [])
    found: list[str] = []
    for start in range(0, len(ids), 200):
        batch = ids[start : start + 200]
        pipe = redis.pipeline(transaction=False)
        for cid in batch:
            pipe.xrange(keys.transcript(cid))
            pipe.hget(keys.conversation(cid), "status")
        rows = await pipe.execute()
        for cid, lines, status in zip(batch, rows[::2], rows[1::2], strict=True):
            if query.status and (status or "bot") != query.status:
                continue
            text = " ".join(index.fold(f.get("text", "")) for _, f in lines
                            if f.get("role") == "customer")  # fmt: skip
            if all(w in text for w in wanted):
                found.append(cid)
        if len(found) >= query.limit:
            break
    return found[: query.limit]


async def timed(calls: Sequence[Callable[[], Awaitable[object]]]) -> list[float]:
    times = []
    for call in calls:
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]  # fmt: skip


async def append_costs(store: Store, n: int, rng: random.Random) -> tuple[list[float], list[float]]:
    """Recording one customer line: Transcript.append (with its words), and the same MULTI
    without the word index entries — what the line cost before the indexes."""
    transcript = Transcript(store)
    with_index, without = [], []
    for i in range(n):
        key = ConversationKey("webchat", f"append-{i}")
        text = rng.choice(PHRASES)
        start = time.perf_counter()
        await transcript.append(key, [Entry(Role.CUSTOMER, text)])
        with_index.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        pipe = store.redis.pipeline(transaction=True)
        pipe.hsetnx(keys.conversation(key.id), "created_at", now_ms())
        pipe.hset(keys.conversation(key.id), mapping={"channel": "webchat", "chat_id": key.chat_id})
        pipe.xadd(keys.transcript(key.id), Entry(Role.CUSTOMER, text).to_fields())  # type: ignore[arg-type]
        pipe.zadd(keys.conversations_by_activity(), {key.id: now_ms()})
        await pipe.execute()
        without.append((time.perf_counter() - start) * 1000)
    return with_index, without


async def memory_of(store: Store, pattern: str) -> int:
    total = 0
    async for key in store.redis.scan_iter(match=pattern, count=1000):
        total += int(await store.redis.memory_usage(key) or 0)
    return total


async def bench(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="loket-search-bench-") as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis").start()
        store = Store.from_url(redis.url)
        try:
            started = time.perf_counter()
            meters = await seed(store, args, rng)
            seeded = time.perf_counter() - started
            search = Search(store)
            kinds = {
                "one word": [Query(text=rng.choice(WORDS)) for _ in range(args.queries)],
                "two words": [Query(text=" ".join(rng.sample(PHRASES, 1)[0].split()[:2]))
                              for _ in range(args.queries)],
                "meter number": [Query(meter=rng.choice(meters)) for _ in range(args.queries)],
                "word + status": [Query(text=rng.choice(WORDS), status=Status.ASSIGNED.value)
                                  for _ in range(args.queries)],
            }  # fmt: skip
            rows = []
            for kind, queries in kinds.items():
                fast = await timed([lambda q=q: search.find(q) for q in queries])
                slow = await timed([lambda q=q: scan(store, q) for q in queries])
                for q in queries[:5]:  # same answers, else the comparison means nothing
                    assert set((await search.find(q)).ids) <= set(
                        await scan(
                            store, Query(text=q.text, meter=q.meter, status=q.status, limit=10**9)
                        )
                    )
                rows.append([kind, f"{p(fast, 50):.2f}", f"{p(fast, 95):.2f}",
                             f"{p(slow, 50):.1f}", f"{p(slow, 95):.1f}",
                             f"{p(slow, 50) / p(fast, 50):.0f}x"])  # fmt: skip
            with_index, without = await append_costs(store, args.appends, rng)
            index_bytes = await memory_of(store, keys.search_word("*"))
            index_bytes += await memory_of(store, keys.search_ref("*", "*"))
            used = int((await store.redis.info("memory"))["used_memory"])
        finally:
            await store.close()
            redis.stop()
    lines = args.conversations * args.lines
    print(f"{args.conversations} conversations, {lines} customer lines, seeded in {seeded:.1f} s")
    print()
    print(table(["query", "index p50 ms", "index p95 ms", "scan p50 ms", "scan p95 ms",
                 "scan / index"], rows))  # fmt: skip
    print()
    print(table(["recording a customer line", "p50 ms", "p95 ms"], [
        ["with its index entries (Transcript.append)", f"{p(with_index, 50):.3f}",
         f"{p(with_index, 95):.3f}"],
        ["without (the same MULTI, no words)", f"{p(without, 50):.3f}", f"{p(without, 95):.3f}"],
        ["ratio", f"{p(with_index, 50) / p(without, 50):.2f}x", ""],
    ]))  # fmt: skip
    print()
    print(f"search indexes: {index_bytes / 2**20:.1f} MiB of {used / 2**20:.1f} MiB Redis memory "
          f"({100 * index_bytes / used:.0f} %)")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.search", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=12, help="customer lines per conversation")
    parser.add_argument("--queries", type=int, default=40, help="searches of each kind")
    parser.add_argument("--appends", type=int, default=500, help="lines timed for the write cost")
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
