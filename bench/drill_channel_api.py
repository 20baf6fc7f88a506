"""Channel API drill: Telegram's and WhatsApp's APIs refuse every send for a while — rate
limited (429) or failing (5xx) — and every reply must still arrive, exactly once, in order.

    .venv/bin/python -m bench.drill_channel_api [--refusals 429,5xx] [--down 30]
                                                [--conversations 24] [--turns 24] [--gap 4]

Starts a whole Loket in a temporary folder with Telegram (webhook) and WhatsApp pointed at
local servers speaking each API. Customers write; `--at` seconds in, both APIs refuse every
send for `--down` seconds — Telegram with 429 "retry after 5" or 500, WhatsApp with error
130429 (Retry-After: 5) or 131000 (HTTP 500) — then accept again; with both kinds, one window
after the other. Prints the sends refused, how long after the APIs recovered the last queued
reply arrived, and the tally: lost, duplicated and out-of-order messages among those
acknowledged. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence

from bench.drill import Rig, choices, drill_parser
from bench.harness import Running, running, table
from bench.traffic import Tally, print_tally

STATUS = {"429": 429, "5xx": 500}
RETRY_AFTER = 5  # seconds, as both APIs tell a client over its limit


async def drill(args: argparse.Namespace, loket: Running) -> Tally:
    windows = []
    async with Rig.on(loket, quiet=args.quiet) as rig:
        load = rig.load(args.conversations, args.turns, args.gap)
        await asyncio.sleep(args.at)
        for kind in args.refusals:
            refused_before = sum(api.refused for api in rig.apis)
            start = time.perf_counter()
            for api in rig.apis:
                api.refuse(STATUS[kind], RETRY_AFTER if kind == "429" else None)
            await asyncio.sleep(args.down)
            for api in rig.apis:
                api.accept()
            recovered = time.perf_counter()
            windows.append((kind, start, recovered, refused_before))
            await asyncio.sleep(args.between)
        await load
        result = await rig.finish()
        arrivals = rig.arrivals()
        refused_total = sum(api.refused for api in rig.apis)
    rows = []
    for i, (kind, start, recovered, refused_before) in enumerate(windows):
        refused_after = windows[i + 1][3] if i + 1 < len(windows) else refused_total
        until = windows[i + 1][1] if i + 1 < len(windows) else float("inf")
        caught_up = [a.at for a in arrivals if recovered <= a.at < until]
        rows.append(
            [
                kind,
                f"{recovered - start:.0f}",
                str(refused_after - refused_before),
                f"{max(caught_up) - recovered:.1f}" if caught_up else "-",
            ]
        )
    print(
        f"\nboth channel APIs refuse every send for {args.down:g} s, {args.at:g} s into "
        f"{args.conversations} conversations x {args.turns} messages"
    )
    print(table(["refusal", "seconds", "sends refused", "last reply s after recovery"], rows))
    print_tally(
        "messages (lost/duplicated/out of order count acknowledged messages)",
        [("channel APIs refusing", result)],
    )
    return result


def parser() -> argparse.ArgumentParser:
    # 24 writes 4 s apart: the customers keep writing through both refusal windows (8 + 30 +
    # 15 + 30 s), so each kind of refusal meets replies to send.
    p = drill_parser("drill_channel_api", __doc__ or "", conversations=24, turns=24, gap=4.0)
    p.add_argument(
        "--refusals",
        type=choices(*STATUS),
        default="429,5xx",
        help="429, 5xx or both (default), in the order given",
    )
    p.add_argument("--down", type=float, default=30.0, help="seconds each refusal lasts")
    p.add_argument("--at", type=float, default=8.0, help="seconds into the load")
    p.add_argument(
        "--between", type=float, default=15.0, help="seconds of normal service after each refusal"
    )
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    with running(gateway=False) as loket:
        asyncio.run(drill(args, loket))


if __name__ == "__main__":
    main()
