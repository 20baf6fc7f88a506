"""Load drill: customers on the real Telegram and WhatsApp webhooks, beside bare Rasa REST.

    .venv/bin/python -m bench.drill_load [--conversations 200] [--turns 5] [--rate 5]
                                         [--seconds 120]

Starts a whole Loket in a temporary folder (its own Redis, sandbox, action server, one Rasa
server with Rasa's REST channel opened too, and the gateway as its own process) with Telegram
(webhook) and WhatsApp pointed at local servers speaking each API, which note when every reply
arrives. Then, on the gateway and on `rasa run`'s REST channel in turn (same model, same run):

1. burst: `--conversations` conversations at once, half on Telegram, half on WhatsApp, each
   posting `--turns` messages, the next once the bot answered the last (the channels: its
   message reaching the API; REST: the response), as customers do;
2. sustained: `--rate` messages a second for `--seconds` seconds over as many conversations.

Prints throughput, p50/p95/p99 from the webhook's receipt to the channel's send call (REST:
request to response), the ratios, CPU and peak memory per process, and the tally: lost,
duplicated and out-of-order messages among those acknowledged. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench import peers
from bench.harness import Running, cpu_seconds, peak_mb, running, supervised, table
from bench.peers import Arrival, TelegramApi, WhatsAppApi
from bench.traffic import Customer, Message, Tally, Traffic, print_tally, quantiles, settle, tally


@dataclass
class Phase:
    name: str
    path: str
    seconds: float
    tally: Tally
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.tally.answered / self.seconds if self.seconds else 0.0

    def row(self) -> list[str]:
        p50, p95, p99 = quantiles(self.tally.latencies)
        return [
            self.name,
            self.path,
            str(self.tally.sent),
            str(self.tally.answered),
            f"{self.seconds:.1f}",
            f"{self.rate:.1f}",
            f"{p50:.0f}",
            f"{p95:.0f}",
            f"{p99:.0f}",
        ]


ANSWER_WAIT_S = 300.0  # longest a customer waits for an answer before writing again


class Drill:
    def __init__(self, loket: Running, traffic: Traffic, apis: Sequence[peers.ChannelApi]) -> None:
        self.loket = loket
        self.traffic = traffic
        self.apis = apis
        self.rasa_url = loket.settings.rasa_url or ""

    def arrivals(self, rest: bool) -> list[Arrival]:
        if rest:
            return self.traffic.rest_arrivals
        return sorted((a for api in self.apis for a in api.arrivals), key=lambda a: a.at)

    def customers(self, count: int, rest: bool) -> list[Customer]:
        return self.traffic.customers(count, ["rest"] if rest else ["telegram", "whatsapp"])

    async def send(self, customer: Customer, seq: int) -> Message:
        return await self.traffic.send(customer, seq, rasa_url=self.rasa_url)

    async def burst(self, conversations: int, turns: int, rest: bool) -> Phase:
        customers = self.customers(conversations, rest)

        apis = {api.channel: api for api in self.apis}

        async def conversation(customer: Customer) -> None:
            for seq in range(1, turns + 1):
                message = await self.send(customer, seq)
                if not rest and message.acked is not None:
                    await apis[customer.channel].reply_after(customer.chat, message.acked,
                                                             ANSWER_WAIT_S)  # fmt: skip

        return await self._run(
            f"burst {conversations}x{turns}", rest, [conversation(c) for c in customers]
        )

    async def sustained(self, rate: float, seconds: float, conversations: int, rest: bool) -> Phase:
        customers = self.customers(conversations, rest)

        async def schedule() -> None:
            tasks: list[asyncio.Task[Message]] = []
            seqs: dict[str, int] = defaultdict(int)
            start = time.perf_counter()
            for i in range(max(1, int(rate * seconds))):
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
                customer = customers[i % len(customers)]
                seqs[customer.chat] += 1
                tasks.append(asyncio.create_task(self.send(customer, seqs[customer.chat])))
            await asyncio.gather(*tasks)

        return await self._run(f"sustained {rate:g}/s for {seconds:g} s", rest, [schedule()])

    async def _run(self, name: str, rest: bool, work: list[Coroutine[Any, Any, None]]) -> Phase:
        first = len(self.traffic.messages)
        pids = self.loket.pids()
        if rest:
            pids.pop("gateway", None)
        cpu_before = {n: cpu_seconds(p) or 0.0 for n, p in pids.items()}
        start = time.perf_counter()
        await asyncio.gather(*work)
        messages = self.traffic.messages[first:]

        def since_start() -> list[Arrival]:
            return [a for a in self.arrivals(rest) if a.at >= start]

        await settle(messages, since_start, quiet=60, limit=900)
        arrivals = since_start()
        result = tally(messages, arrivals)
        end = max((a.at for a in arrivals), default=time.perf_counter())
        cpu = {n: (cpu_seconds(p) or 0.0) - cpu_before[n] for n, p in pids.items()}
        return Phase(name, "REST" if rest else "gateway", end - start, result, cpu)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def report(phases: list[Phase], loket: Running, pids: dict[str, int]) -> None:
    headers = [
        "phase",
        "path",
        "msgs",
        "answered",
        "seconds",
        "msg/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    ]
    print(
        "\nthroughput and latency (gateway: webhook receipt -> the channel's send call; "
        "REST: request -> response)"
    )
    print(table(headers, [p.row() for p in phases]))
    ratios = []
    for gw, rest in zip(phases[::2], phases[1::2], strict=True):
        g, r = quantiles(gw.tally.latencies), quantiles(rest.tally.latencies)
        through = f"{gw.rate / rest.rate:.2f}x" if rest.rate else "-"
        ratios.append([gw.name, through, *(_ratio(a, b) for a, b in zip(g, r, strict=True))])
    print("\nratio gateway / Rasa REST")
    print(table(["phase", "throughput", "p50", "p95", "p99"], ratios))
    names = sorted(pids)
    rows = [
        [p.name + " " + p.path, *(f"{p.cpu.get(n, 0.0):.1f}" if n in p.cpu else "-" for n in names)]
        for p in phases
    ]
    print("\nCPU seconds per process (2 cores: at most 2 s per second of wall time)")
    print(table(["phase", *names], rows))
    peaks = [[n, f"{peak_mb(pids[n]) or 0:.0f}"] for n in names]
    print("\npeak resident memory (VmHWM) over the whole run")
    print(table(["process", "MB"], peaks))
    print_tally(
        "messages (lost/duplicated/out of order count acknowledged messages)",
        [(f"{p.name} {p.path}", p.tally) for p in phases],
    )


async def drill(args: argparse.Namespace, loket: Running) -> list[Phase]:
    telegram, whatsapp = TelegramApi(), WhatsAppApi()
    await telegram.start()
    await whatsapp.start()
    try:
        env = peers.channel_env(telegram, whatsapp, loket.gateway_url)
        await supervised(lambda: loket.start_gateway(env))
        pids = loket.pids()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            d = Drill(loket, Traffic(session, loket.gateway_url), [telegram, whatsapp])
            # Warm both paths up (TensorFlow's first calls are slow); not counted.
            await d.burst(4, 2, rest=False)
            await d.burst(4, 2, rest=True)
            phases = [
                await d.burst(args.conversations, args.turns, rest=False),
                await d.burst(args.conversations, args.turns, rest=True),
                await d.sustained(args.rate, args.seconds, args.conversations, rest=False),
                await d.sustained(args.rate, args.seconds, args.conversations, rest=True),
            ]
        report(phases, loket, pids)
        return phases
    finally:
        await supervised(loket.gateway.stop)
        await telegram.close()
        await whatsapp.close()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.drill_load", description=__doc__.split("\n")[0]
    )
    p.add_argument("--conversations", type=int, default=200)
    p.add_argument("--turns", type=int, default=5, help="messages per conversation (burst)")
    p.add_argument("--rate", type=float, default=5.0, help="messages a second (sustained)")
    p.add_argument("--seconds", type=float, default=120.0, help="length of the sustained part")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    with running(rest_channel=True, gateway=False) as loket:
        asyncio.run(drill(args, loket))


if __name__ == "__main__":
    main()
