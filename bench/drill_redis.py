"""Redis drill: Redis stopped mid-load and started again on its data; the gateway must
reconnect by itself, and handoffs and transcripts must survive.

    .venv/bin/python -m bench.drill_redis [--conversations 40] [--turns 8] [--gap 3]
                                          [--at 10] [--down 5] [--signal kill|term]

Starts a whole Loket in a temporary folder (Redis with AOF, `appendfsync everysec`, as
`loket run` starts it) with Telegram (webhook) and WhatsApp pointed at local servers speaking
each API. Customers write; a few of them ask for a person first, so handoffs are open. `--at`
seconds in, Redis is stopped — SIGKILL by default (no flush on the way out), or SIGTERM — and
started again on the same port and data `--down` seconds later; nothing else is restarted.
Meanwhile a probe writes a counter to Redis every 10 ms: the acknowledged writes missing after
the restart are what the persistence setting lost. Prints the outage as customers saw it, what
survived, the probe's loss and the tally: lost, duplicated and out-of-order messages among
those acknowledged. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.drill import Rig, drill_parser, refused
from bench.harness import Running, running, supervised, table
from bench.traffic import Customer, Tally, print_tally
from bot.core.messages import ConversationKey
from handoff import StoreUnavailable, Transcript
from handoff.handoffs import Handoffs
from handoff.store import Store

PROBE_KEY = "loket:drill:probe"
ASK_FOR_A_PERSON = "saya mau bicara dengan petugas"


class Probe:
    """INCR every 10 ms on its own connection; remembers the last value Redis acknowledged."""

    def __init__(self, url: str) -> None:
        self._store = Store.from_url(url)
        self.acknowledged = 0
        self.at_kill = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(StoreUnavailable):
                async with self._store.guard():
                    self.acknowledged = int(await self._store.redis.incr(PROBE_KEY))
            await asyncio.sleep(0.01)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="probe")

    async def persisted(self) -> int:
        """The counter as Redis has it now (after the restart); waits for Redis to answer."""
        while True:
            with contextlib.suppress(StoreUnavailable):
                async with self._store.guard():
                    return int(await self._store.redis.get(PROBE_KEY) or 0)
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._store.close()


@dataclass(frozen=True)
class Outcome:
    tally: Tally
    handoffs: tuple[int, int]  # open before the stop, still open after
    lines: tuple[int, int]  # transcript lines before the stop, still there after
    lost_writes: int  # the probe's acknowledged writes missing after the restart


@dataclass
class Snapshot:
    waiting: set[str]
    lines: dict[str, int]  # conversation -> transcript length


async def snapshot(store: Store, customers: Sequence[Customer]) -> Snapshot:
    """Open handoffs and transcript lengths; waits for Redis to answer (a connection that the
    restart broke fails once)."""
    while True:
        try:
            return await _snapshot(store, customers)
        except StoreUnavailable:
            await asyncio.sleep(0.1)


async def _snapshot(store: Store, customers: Sequence[Customer]) -> Snapshot:
    transcript = Transcript(store)
    lines = {
        c.conversation: await transcript.length(ConversationKey.parse(c.conversation))
        for c in customers
    }
    return Snapshot(set(await Handoffs(store).waiting(limit=10_000)), lines)


async def ask_for_people(rig: Rig, count: int) -> list[Customer]:
    """`count` customers who ask for a person straight away: open handoffs before the fault."""
    customers = rig.customers(count)
    await asyncio.gather(*(rig.traffic.send(c, 0, text=ASK_FOR_A_PERSON) for c in customers))
    return customers


async def drill(args: argparse.Namespace, loket: Running) -> Outcome:
    redis = loket.redis
    async with Rig.on(loket, quiet=args.quiet) as rig:
        await ask_for_people(rig, args.handoffs)
        probe = Probe(redis.url)
        probe.start()
        store = Store.from_url(redis.url)
        try:
            load = rig.load(args.conversations, args.turns, args.gap)
            await asyncio.sleep(args.at)
            before = await snapshot(store, rig.everyone)
            stop = redis.kill if args.signal == "kill" else redis.stop
            probe.at_kill = probe.acknowledged
            await supervised(stop)
            killed = time.perf_counter()
            await asyncio.sleep(args.down)
            await supervised(redis.start)
            restarted = time.perf_counter()
            persisted = await probe.persisted()
            after = await snapshot(store, rig.everyone)
            await load
            result = await rig.finish()
        finally:
            await probe.close()
            await store.close()
        messages = rig.traffic.messages
        arrivals = rig.arrivals()
    acked_after = [m.acked for m in messages if m.acked is not None and m.acked > restarted]
    answered_after = [a.at for a in arrivals if a.at > restarted]
    kept_lines = sum(min(n, after.lines.get(c, 0)) for c, n in before.lines.items())
    lost_writes = max(0, probe.at_kill - persisted)
    print(
        f"\nRedis stopped with SIG{args.signal.upper()} {args.at:g} s into the load, started "
        f"again {args.down:g} s later (appendonly yes, appendfsync everysec)"
    )
    print(
        table(
            ["", "value"],
            [
                [
                    "seconds from the stop to the first acknowledged webhook",
                    f"{min(acked_after) - killed:.1f}" if acked_after else "-",
                ],
                [
                    "seconds from the restart to the first reply sent",
                    f"{min(answered_after) - restarted:.1f}" if answered_after else "-",
                ],
                [
                    "webhook posts refused while Redis was away (posted again)",
                    str(refused(messages)),
                ],
                [
                    "open handoffs before / still open after",
                    f"{len(before.waiting)} / {len(before.waiting & after.waiting)}",
                ],
                [
                    "transcript lines before / still there after",
                    f"{sum(before.lines.values())} / {kept_lines}",
                ],
                [
                    "probe: writes acknowledged before the stop / persisted",
                    f"{probe.at_kill} / {persisted}",
                ],
                ["probe: acknowledged writes lost", str(lost_writes)],
            ],
        )
    )
    print_tally(
        "messages (lost/duplicated/out of order count acknowledged messages)",
        [("Redis restarted", result)],
    )
    return Outcome(
        result,
        (len(before.waiting), len(before.waiting & after.waiting)),
        (sum(before.lines.values()), kept_lines),
        lost_writes,
    )


def parser() -> argparse.ArgumentParser:
    p = drill_parser("drill_redis", __doc__ or "", conversations=40, turns=8, gap=3.0)
    p.add_argument("--handoffs", type=int, default=4, help="customers asking for a person")
    p.add_argument("--at", type=float, default=10.0, help="seconds into the load")
    p.add_argument("--down", type=float, default=5.0, help="seconds Redis stays stopped")
    p.add_argument("--signal", choices=["kill", "term"], default="kill")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    with running(gateway=False) as loket:
        asyncio.run(drill(args, loket))


if __name__ == "__main__":
    main()
