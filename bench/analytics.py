"""The analytics report: how long one report takes and how much memory it needs, against just
reading the records it folds.

    .venv/bin/python -m bench.analytics [--conversations 3000] [--days 30] [--runs 3]

Runs its own Redis. Seeds `--conversations` conversations spread over `--days` days as Loket
writes them (customer lines, bot lines with their intent, a quarter handed over with the
system lines of the transitions and their records, agent replies, closes, satisfaction
answers). Then builds the report (handoff/report.py) for the last 7 days and for the whole
period, and times the baseline every report has to pay: the same transcripts and handoff
records read with the same pipelined XRANGE/HGETALL, nothing folded. Prints the median of
`--runs` runs, the ratio report / read, and the report's peak Python memory (tracemalloc).
Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from bench.harness import table
from bot.ops.embedded_redis import EmbeddedRedis
from handoff import Entry, Role, csat, keys
from handoff.analytics import CLOCK_MARGIN_MS, Period
from handoff.report import build
from handoff.store import Store, now_ms

ZONE = "Asia/Jakarta"
DAY_MS = 86_400_000
INTENTS = ["greet", "buy_token", "check_transaction", "check_bill", "report_outage", "nlu_fallback"]
REASONS = ["asked_for_human", "not_understood", "frustrated", "backend_failure"]
CHANNELS = ["webchat", "telegram", "whatsapp"]


def conversation(i: int, rng: random.Random, start: int) -> tuple[str, list[Entry], dict[str, str]]:
    """One conversation's transcript and handoff records, beginning at `start` (ms)."""
    cid = f"{rng.choice(CHANNELS)}:{10_000_000 + i}"
    ts, entries, records = start, [], {}
    for _ in range(rng.randint(2, 6)):
        ts += rng.randint(5_000, 120_000)
        entries.append(Entry(Role.CUSTOMER, "token saya belum masuk", ts=ts))
        entries.append(Entry(Role.BOT, "…", ts=ts + 800, intent=rng.choice(INTENTS),
                             confidence=round(rng.random(), 2)))  # fmt: skip
    if i % 4 == 0:
        hid = f"{i:012x}"
        reason = rng.choice(REASONS)
        request = {"event": "request", "reason": reason, "handoff_id": hid}
        entries.append(Entry(Role.SYSTEM, "Handed over", ts=ts + 900, meta=request))
        entries.append(Entry(Role.BOT, "…", ts=ts + 901, intent="human", meta={"handoff": reason}))
        reply = ts + rng.randint(30_000, 1_800_000)
        entries.append(Entry(Role.SYSTEM, "Claimed", ts=reply - 1, meta={"event": "claim"}))
        entries.append(Entry(Role.AGENT, "Baik, saya bantu", ts=reply, meta={"agent": "ana"}))
        entries.append(Entry(Role.SYSTEM, "Closed", ts=reply + 60_000, meta={"event": "close"}))
        record = {"reason": reason, "at": ts + 900, "outcome": "closed", "resolution": "solved",
                  "csat_asked_at": reply + 60_001}  # fmt: skip
        if rng.random() < 0.4:
            score = rng.randint(1, 5)
            record["csat"] = score
            entries.append(Entry(Role.CUSTOMER, str(score), ts=reply + 90_000,
                                 payload=csat.payload(hid, score)))  # fmt: skip
        records[hid] = json.dumps(record)
    return cid, entries, records


async def seed(store: Store, args: argparse.Namespace, rng: random.Random) -> int:
    now = now_ms()
    lines = 0
    pipe = store.redis.pipeline(transaction=False)
    for i in range(args.conversations):
        start = now - rng.randrange(args.days * DAY_MS) - 3_600_000
        cid, entries, records = conversation(i, rng, start)
        for e in entries:  # stream ids of the lines' own time, as Redis gives them
            pipe.xadd(keys.transcript(cid), e.to_fields(), id=f"{e.ts}-0")  # type: ignore[arg-type]
        if records:
            pipe.hset(keys.handoff_history(cid), mapping=records)  # type: ignore[arg-type]
        pipe.zadd(keys.conversations_by_activity(), {cid: entries[-1].ts})
        lines += len(entries)
        if i % 200 == 199:
            await pipe.execute()
    await pipe.execute()
    return lines


async def read_only(store: Store, period: Period) -> int:
    """The floor: the same records read the same way (the lines from the period on, the
    handoff records), nothing folded."""
    ids = await store.redis.zrevrangebyscore(
        keys.conversations_by_activity(), "+inf", period.since_ms
    )
    lines = 0
    for start in range(0, len(ids), 100):
        pipe = store.redis.pipeline(transaction=False)
        for cid in ids[start : start + 100]:
            pipe.xrange(keys.transcript(cid), min=str(period.since_ms - CLOCK_MARGIN_MS), max="+")
            pipe.hgetall(keys.handoff_history(cid))
        rows = await pipe.execute()
        lines += sum(len(r) for r in rows[::2])
    return lines


async def bench(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="loket-analytics-bench-") as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis").start()
        store = Store.from_url(redis.url)
        try:
            started = time.perf_counter()
            lines = await seed(store, args, rng)
            seeded = time.perf_counter() - started
            for days in sorted({7, args.days}):
                period = Period.last_days(days, ZONE)
                reports, reads = [], []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    await read_only(store, period)
                    reads.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    report = await build(store, period)
                    reports.append(time.perf_counter() - t0)
                tracemalloc.start()
                await build(store, period)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                made, read = statistics.median(reports), statistics.median(reads)
                rows.append([f"last {days} days", str(report.conversations_read),
                             str(report.totals["handoffs"]), f"{read * 1000:.0f}",
                             f"{made * 1000:.0f}", f"{made / read:.2f}x",
                             f"{peak / 2**20:.1f}"])  # fmt: skip
        finally:
            await store.close()
            redis.stop()
    print(f"{args.conversations} conversations, {lines} transcript lines over {args.days} days, "
          f"seeded in {seeded:.1f} s; median of {args.runs} runs")  # fmt: skip
    print()
    print(table(["period", "conversations read", "handoffs", "read only ms", "report ms",
                 "report / read", "report peak MiB"], rows))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--conversations", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30, help="the conversations' spread")
    parser.add_argument("--runs", type=int, default=3, help="runs per period (median shown)")
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
