"""Kill drill: `kill -9` of the gateway mid-load, then a restart; every acknowledged message
must be answered exactly once.

    .venv/bin/python -m bench.drill_kill_gateway [--conversations 40] [--turns 8] [--gap 3]
                                                 [--kills 3] [--every 8] [--down 3]

Starts a whole Loket in a temporary folder with Telegram (webhook) and WhatsApp pointed at
local servers speaking each API. Customers write (`--conversations` of them, `--turns`
messages each, `--gap` seconds after each acknowledgement); every `--every` seconds the
gateway process is killed with SIGKILL — mid-turn, mid-delivery, mid-webhook — and started
again `--down` seconds later on the same port. While it is down, webhooks fail and are posted
again, as Telegram and Meta do. Prints each kill (what was pending in Redis, how long the
restart took) and the tally: lost, duplicated and out-of-order messages among those
acknowledged. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence

from bench.drill import Rig, drill_parser, refused
from bench.harness import Running, running, supervised, table
from bench.traffic import Tally, print_tally
from handoff import keys
from handoff.store import Store


async def backlog(redis_url: str) -> tuple[int, int]:
    """Entries in the inbound and outbox streams (received or queued, not yet finished)."""
    store = Store.from_url(redis_url)
    try:
        return (await store.redis.xlen(keys.inbound()), await store.redis.xlen(keys.outbox()))
    finally:
        await store.close()


async def drill(args: argparse.Namespace, loket: Running) -> Tally:
    rows = []
    async with Rig.on(loket, quiet=args.quiet) as rig:
        start = time.perf_counter()
        load = rig.load(args.conversations, args.turns, args.gap)
        for n in range(1, args.kills + 1):
            await asyncio.sleep(args.every)
            if load.done() and rig.all_answered():
                break
            answered = len(rig.arrivals())
            await supervised(loket.gateway.kill)
            killed_at = time.perf_counter() - start
            inbound, outbox = await backlog(loket.settings.redis_url or "")
            await asyncio.sleep(args.down)
            ready = await rig.start_gateway()
            rows.append(
                [
                    str(n),
                    f"{killed_at:.1f}",
                    str(answered),
                    str(inbound),
                    str(outbox),
                    f"{ready:.1f}",
                ]
            )
        await load
        result = await rig.finish()
        messages = rig.traffic.messages
    print(
        f"\n{len(rows)} kill(s) of the gateway (SIGKILL), {args.down:g} s down each, under "
        f"{args.conversations} conversations x {args.turns} messages"
    )
    print(
        table(
            ["kill", "at s", "replies before", "inbound pending", "outbox pending", "restart s"],
            rows,
        )
    )
    print(f"\nwebhook posts refused or unanswered while down (posted again): {refused(messages)}")
    print_tally(
        "messages (lost/duplicated/out of order count acknowledged messages)",
        [("gateway killed", result)],
    )
    return result


def parser() -> argparse.ArgumentParser:
    p = drill_parser("drill_kill_gateway", __doc__ or "", conversations=40, turns=8, gap=3.0)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--every", type=float, default=8.0, help="seconds between kills")
    p.add_argument("--down", type=float, default=3.0, help="seconds before the restart")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    with running(gateway=False) as loket:
        asyncio.run(drill(args, loket))


if __name__ == "__main__":
    main()
