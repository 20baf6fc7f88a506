"""Backend drill: the action server or the utility's provider down for a while; every customer
must get an answer — the usual one, or an honest one (an apology, a handoff) — and nothing may
hang.

    .venv/bin/python -m bench.drill_backend [--targets actions,provider] [--how kill,freeze]
                                            [--down 15] [--conversations 12] [--patience 90]

Starts a whole Loket in a temporary folder with Telegram (webhook) and WhatsApp pointed at
local servers speaking each API. For each target and each way of failing, customers write
(each asking about a transaction, waiting for the answer, then asking again) while, a few
seconds in, the target is made to fail for `--down` seconds: `kill` stops it with SIGKILL and
starts it again (refused connections), `freeze` stops it with SIGSTOP and lets it go on with
SIGCONT (connections accepted, never answered: the worse case). A conversation handed to
people stops there, as its customer then waits for an agent.

Prints, for messages sent before, during and after the failure: how many got the usual answer,
an honest one, or none within `--patience` seconds, the time to the answer (median, max), and
the tally: lost, duplicated and out-of-order messages among those acknowledged. Figures, never
pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.drill import Rig, choices, drill_parser
from bench.harness import Running, running, supervised, table
from bench.peers import Arrival
from bench.traffic import Customer, Message, Tally, print_tally, quantiles
from bot.ops.processes import ChildProcess

TARGETS = {"actions": "action server", "provider": "sandbox provider"}


@dataclass
class Answer:
    message: Message
    sent: float
    answered: float | None = None
    usual: bool = False  # the answer names the message's reference
    text: str = ""


@dataclass
class Phase:
    target: str
    how: str
    down_from: float = 0.0
    down_until: float = 0.0  # when the target answered again
    answers: list[Answer] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def window(self, a: Answer) -> str:
        if a.sent < self.down_from:
            return "before"
        return "during" if a.sent < self.down_until else "after"


async def first_answer(
    rig: Rig, customer: Customer, since: float, patience: float
) -> Arrival | None:
    """The first message the channel received for this customer after `since`."""
    deadline = time.perf_counter() + patience
    while time.perf_counter() < deadline:
        for arrival in rig.arrivals():
            if arrival.chat == customer.chat and arrival.at > since:
                return arrival
        await asyncio.sleep(0.1)
    return None


async def customer_loop(
    rig: Rig, phase: Phase, customer: Customer, turns: int, gap: float, patience: float
) -> None:
    for seq in range(1, turns + 1):
        sent = time.perf_counter()
        message = await rig.traffic.send(customer, seq)
        answer = Answer(message, sent)
        phase.answers.append(answer)
        arrival = await first_answer(rig, customer, sent, patience)
        if arrival is None:
            return  # nothing came: counted as no answer; this customer stops waiting
        answer.answered, answer.text = arrival.at, arrival.text
        answer.usual = message.ref in arrival.text
        if not answer.usual:
            return  # an apology or a handoff: the conversation is with people now
        await asyncio.sleep(gap)


async def fail(child: ChildProcess, how: str, down: float) -> float:
    """Make the target fail for `down` seconds; returns when it answers again."""
    pid = child.pid or 0
    if how == "freeze":
        os.killpg(pid, signal.SIGSTOP)
        await asyncio.sleep(down)
        os.killpg(pid, signal.SIGCONT)
    else:
        await supervised(child.kill)
        await asyncio.sleep(down)
        await supervised(lambda: child.start(timeout=120))
    return time.perf_counter()


async def run_phase(
    rig: Rig, loket: Running, target: str, how: str, args: argparse.Namespace
) -> Phase:
    phase = Phase(target, how)
    child = loket.stack.child(TARGETS[target])
    assert child is not None, f"the stack runs no {TARGETS[target]}"
    first = len(rig.traffic.messages)
    customers = rig.customers(args.conversations)
    stagger = args.gap / max(1, len(customers))

    async def one(i: int, c: Customer) -> None:
        await asyncio.sleep(i * stagger)
        await customer_loop(rig, phase, c, args.turns, args.gap, args.patience)

    load = asyncio.gather(*(one(i, c) for i, c in enumerate(customers)))
    await asyncio.sleep(args.at)
    phase.down_from = time.perf_counter()
    phase.down_until = await fail(child, how, args.down)
    await load
    phase.tally = await rig.finish(rig.traffic.messages[first:], limit=300)
    return phase


def rows(phase: Phase) -> list[list[str]]:
    out = []
    for window in ("before", "during", "after"):
        answers = [a for a in phase.answers if phase.window(a) == window]
        waits = [a.answered - a.sent for a in answers if a.answered is not None]
        p50 = quantiles(waits)[0] / 1000
        out.append(
            [
                f"{phase.target} {phase.how}",
                window,
                str(len(answers)),
                str(sum(a.usual for a in answers)),
                str(sum(a.answered is not None and not a.usual for a in answers)),
                str(sum(a.answered is None for a in answers)),
                f"{p50:.1f}" if waits else "-",
                f"{max(waits):.1f}" if waits else "-",
            ]
        )
    return out


async def drill(args: argparse.Namespace, loket: Running) -> list[Phase]:
    phases = []
    async with Rig.on(loket, quiet=args.quiet) as rig:
        for target in args.targets:
            for how in args.how:
                phases.append(await run_phase(rig, loket, target, how, args))
    print(
        f"\n{args.conversations} conversations at a time; the target fails {args.at:g} s in "
        f"for {args.down:g} s (kill: SIGKILL, then started again; freeze: SIGSTOP, then "
        "SIGCONT); 'during' runs until it answers again"
    )
    headers = [
        "target, how",
        "sent",
        "messages",
        "usual answer",
        "honest answer",
        "no answer",
        "p50 s",
        "max s",
    ]
    print(table(headers, [row for p in phases for row in rows(p)]))
    honest = sorted({a.text for p in phases for a in p.answers if a.answered and not a.usual})
    if honest:
        print("\nthe honest answers:")
        for text in honest:
            print(f"  {text[:160]}")
    print_tally(
        "messages (lost/duplicated/out of order count acknowledged messages)",
        [(f"{p.target} {p.how}", p.tally) for p in phases],
    )
    return phases


def parser() -> argparse.ArgumentParser:
    p = drill_parser("drill_backend", __doc__ or "", conversations=12, turns=6, gap=2.0)
    p.add_argument(
        "--targets",
        type=choices(*TARGETS),
        default="actions,provider",
        help="actions, provider or both (default)",
    )
    p.add_argument(
        "--how",
        type=choices("kill", "freeze"),
        default="kill,freeze",
        help="kill, freeze or both (default)",
    )
    p.add_argument("--down", type=float, default=15.0, help="seconds the target is down")
    p.add_argument("--at", type=float, default=5.0, help="seconds into each part")
    p.add_argument(
        "--patience", type=float, default=90.0, help="seconds a customer waits for an answer"
    )
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    with running(gateway=False) as loket:
        asyncio.run(drill(args, loket))


if __name__ == "__main__":
    main()
