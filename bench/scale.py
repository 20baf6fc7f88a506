"""Scale: Loket with several Rasa workers and gateway replicas, beside one bare `rasa run`.

    .venv/bin/python -m bench.scale [--conversations 40] [--turns 5] [--workers 1,2]
                                    [--replicas 3] [--profile 40]

Starts one Loket in a temporary folder (its own Redis, sandbox, action server and as many Rasa
workers as the largest `--workers`, Rasa's REST channel opened on the first), with Telegram
(webhook) and WhatsApp pointed at local servers speaking each API. Then sends the same traffic
— `--conversations` conversations at once, half on Telegram, half on WhatsApp, each posting
`--turns` messages, the next once the bot answered the last (REST: its response; the channels:
the bot's message reaching the API), as customers do — to, in turn:

1. bare `rasa run`'s REST channel on the first worker (one process): the baseline;
2. one gateway replica using 1, 2 … Rasa workers (`--workers`);
3. `--replicas` gateway replicas using every worker, behind a real nginx (round robin).

Only one configuration's gateways run at a time (replicas share Redis's consumer groups, so an
idle one would take work). Prints throughput and p50/p95/p99 from the webhook's receipt to the
channel's send call (REST: request to response) with the ratios to the baseline, the CPU each
process used, where one turn's time goes (`--profile` messages of one conversation, one at a
time: the NLU pipeline alone through Rasa's /model/parse, a whole Rasa turn through REST, and a
gateway turn from its own metrics), each process's peak memory, and the tally of lost,
duplicated and out-of-order messages. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import redis

from bench import peers
from bench.harness import Running, cpu_seconds, gateway_process, peak_mb, running, table
from bench.peers import Arrival, TelegramApi, WhatsAppApi
from bench.proxy import Nginx
from bench.traffic import Customer, Tally, Traffic, print_tally, quantiles, settle, tally
from bot.ops.processes import ChildProcess, free_port

ANSWER_WAIT_S = 300.0  # longest a customer waits for an answer before writing again
TARGETS = "targets: 2 workers >= 1.6x the baseline's throughput with p95 no worse; 1 worker >= 1.0x"


@dataclass
class Phase:
    name: str
    seconds: float
    tally: Tally
    cpu: dict[str, float] = field(default_factory=dict)
    turn_ms: float | None = None  # the gateway's mean turn, from its metrics
    rasa_ms: float | None = None  # of which the Rasa round trip

    @property
    def rate(self) -> float:
        return self.tally.answered / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Replica:
    child: ChildProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Bench:
    def __init__(
        self, loket: Running, traffic: Traffic, telegram: TelegramApi, whatsapp: WhatsAppApi
    ) -> None:
        self.loket = loket
        self.traffic = traffic
        self.telegram, self.whatsapp = telegram, whatsapp
        self.apis: list[peers.ChannelApi] = [telegram, whatsapp]
        self.rest_url = loket.settings.rasa_urls[0]
        self.extra: dict[str, int] = {}  # gateways and nginx of this run, for memory figures
        self.peaks: dict[str, float] = {}  # MB, the largest seen of each name, kept at stop

    def arrivals(self, rest: bool) -> list[Arrival]:
        if rest:
            return self.traffic.rest_arrivals
        return sorted((a for api in self.apis for a in api.arrivals), key=lambda a: a.at)

    async def burst(self, name: str, conversations: int, turns: int, *, rest: bool) -> Phase:
        customers = self.traffic.customers(
            conversations, ["rest"] if rest else ["telegram", "whatsapp"]
        )

        apis = {api.channel: api for api in self.apis}

        async def conversation(customer: Customer) -> None:
            # A customer reads the answer before writing again: REST's answer comes in its
            # response, the channels' by the API.
            for seq in range(1, turns + 1):
                message = await self.traffic.send(customer, seq, rasa_url=self.rest_url)
                if not rest and message.acked is not None:
                    await apis[customer.channel].reply_after(customer.chat, message.acked,
                                                             ANSWER_WAIT_S)  # fmt: skip

        pids = self.pids()
        cpu_before = {n: cpu_seconds(p) or 0.0 for n, p in pids.items()}
        first = len(self.traffic.messages)
        start = time.perf_counter()
        await asyncio.gather(*(conversation(c) for c in customers))
        messages = self.traffic.messages[first:]

        def since_start() -> list[Arrival]:
            return [a for a in self.arrivals(rest) if a.at >= start]

        await settle(messages, since_start, quiet=60, limit=900)
        arrivals = since_start()
        end = max((a.at for a in arrivals), default=time.perf_counter())
        cpu = {n: (cpu_seconds(p) or 0.0) - cpu_before[n] for n, p in pids.items()}
        return Phase(name, end - start, tally(messages, arrivals), cpu)

    def stop(self, child: ChildProcess) -> None:
        if child.pid is not None:
            self.note_peak(child.name, child.pid)
        child.stop()

    def note_peak(self, name: str, pid: int) -> None:
        self.peaks[name] = max(self.peaks.get(name, 0.0), peak_mb(pid) or 0.0)

    def pids(self) -> dict[str, int]:
        found = self.loket.pids()
        found.pop("gateway", None)  # Running's own gateway is not used here
        return {**found, **self.extra}

    async def gateways(self, count: int, rasa_urls: Sequence[str]) -> list[Replica]:
        """Start `count` gateway replicas using the Rasa workers at `rasa_urls`."""
        started = []
        for n in range(1, count + 1):
            port = free_port()
            env = peers.channel_env(self.telegram, self.whatsapp, f"http://127.0.0.1:{port}")
            child = gateway_process(
                self.loket.settings, port, self.loket.data_dir, env,
                name=f"gateway {n}", rasa_urls=rasa_urls,
            )  # fmt: skip
            await asyncio.to_thread(child.start, timeout=60)
            started.append(Replica(child, port))
            self.extra[child.name] = child.pid or 0
        return started


async def scrape(session: aiohttp.ClientSession, url: str) -> dict[str, float]:
    """Sums and counts of the gateway's turn and Rasa histograms."""
    async with session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    found: dict[str, float] = {}
    for name in ("loket_turn_seconds_sum", "loket_turn_seconds_count",
                 "loket_rasa_seconds_sum", "loket_rasa_seconds_count"):  # fmt: skip
        values = re.findall(rf"^{name}{{[^}}]*}} ([0-9.e+-]+)$", text, re.M)
        found[name] = sum(float(v) for v in values)
    return found


def mean_ms(sums: dict[str, float], what: str) -> float | None:
    count = sums.get(f"loket_{what}_seconds_count", 0.0)
    return sums[f"loket_{what}_seconds_sum"] / count * 1000 if count else None


async def timed(session: aiohttp.ClientSession, url: str, bodies: Sequence[dict[str, str]]
                ) -> list[float]:  # fmt: skip
    """POST each body in turn; the seconds each took."""
    took = []
    for body in bodies:
        start = time.perf_counter()
        async with session.post(url, json=body) as resp:
            await resp.read()
            assert resp.status == 200, resp.status
        took.append(time.perf_counter() - start)
    return took


def command_counts(redis_url: str) -> Counter[str]:
    """Redis's own count of the commands it ran so far, by command."""
    client = redis.Redis.from_url(redis_url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


async def profile(
    b: Bench, session: aiohttp.ClientSession, count: int
) -> tuple[list[list[str]], list[list[str]]]:
    """Where one turn's time goes, one message at a time; and the Redis commands a message
    costs on the gateway path (the gateway's and Rasa's tracker store's together)."""
    # Each path gets messages no worker has seen (their references are new), as customers'
    # messages are: a word seen before is cheaper to read.
    asker = b.traffic.customer("rest")

    def fresh() -> list[str]:
        return [b.traffic.message(asker, seq).text for seq in range(1, count + 1)]

    token = b.loket.settings.rasa_token
    parse = await timed(session, f"{b.rest_url}/model/parse?token={token}",
                        [{"text": t} for t in fresh()])  # fmt: skip
    rest = await timed(session, f"{b.rest_url}/webhooks/rest/webhook",
                       [{"sender": "profile-rest", "message": t} for t in fresh()])  # fmt: skip
    [gateway] = await b.gateways(1, b.loket.settings.rasa_urls[:1])
    try:
        customer = b.traffic.customer("whatsapp")
        b.traffic.gateway_url = gateway.url
        redis_url = b.loket.redis.url
        before = await asyncio.to_thread(command_counts, redis_url)
        for seq in range(1, count + 1):
            await b.traffic.send(customer, seq)
        await settle(b.traffic.messages[-count:], lambda: b.arrivals(False), quiet=30, limit=300)
        used = await asyncio.to_thread(command_counts, redis_url) - before
        sums = await scrape(session, gateway.url)
    finally:
        b.stop(gateway.child)
    turn, rasa = mean_ms(sums, "turn"), mean_ms(sums, "rasa")
    rows = [
        ["NLU pipeline alone (Rasa /model/parse)", f"{statistics.mean(parse) * 1000:.1f}"],
        ["a whole Rasa turn (REST: NLU, policies, actions, tracker)",
         f"{statistics.mean(rest) * 1000:.1f}"],
        ["a gateway turn (lock to replies queued)", f"{turn:.1f}" if turn else "-"],
        ["  of which the Rasa round trip (loket channel)", f"{rasa:.1f}" if rasa else "-"],
        ["  of which the gateway's own work (Redis, policy)",
         f"{turn - rasa:.1f}" if turn and rasa else "-"],
    ]  # fmt: skip
    used.pop("info", None)
    commands = [[name, f"{n / count:.1f}"] for name, n in used.most_common(12)]
    commands.append(["all commands", f"{sum(used.values()) / count:.1f}"])
    return rows, commands


async def run(args: argparse.Namespace, loket: Running) -> None:
    telegram, whatsapp = TelegramApi(), WhatsAppApi()
    await telegram.start()
    await whatsapp.start()
    urls = loket.settings.rasa_urls
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            b = Bench(loket, Traffic(session, ""), telegram, whatsapp)
            c, t = args.conversations, args.turns
            await b.burst("warm-up", 4, 2, rest=True)
            phases = [await b.burst("bare rasa run (REST), 1 process", c, t, rest=True)]
            configs = [(1, w) for w in args.workers] + [
                (r, max(args.workers)) for r in args.replicas if r > 1
            ]
            for replicas, workers in configs:
                gateways = await b.gateways(replicas, urls[:workers])
                proxy = None
                try:
                    if replicas > 1:
                        proxy = await asyncio.to_thread(Nginx([g.port for g in gateways]).start)
                        b.extra["nginx"] = proxy.pid or 0
                        b.traffic.gateway_url = proxy.url
                    else:
                        b.traffic.gateway_url = gateways[0].url
                    await b.burst("warm-up", 4, 2, rest=False)
                    label = (
                        f"Loket, {workers} Rasa worker{'s' if workers > 1 else ''}, "
                        f"{replicas} gateway{'s behind nginx' if replicas > 1 else ''}"
                    )
                    phase = await b.burst(label, c, t, rest=False)
                    sums = [await scrape(session, g.url) for g in gateways]
                    total = {k: sum(s[k] for s in sums) for k in sums[0]}
                    phase.turn_ms, phase.rasa_ms = mean_ms(total, "turn"), mean_ms(total, "rasa")
                    phases.append(phase)
                finally:
                    if proxy is not None:
                        if proxy.pid is not None:
                            b.note_peak("nginx", proxy.pid)
                        proxy.stop()
                    for g in gateways:
                        b.stop(g.child)
            timing, commands = await profile(b, session, args.profile)
        report(phases, b, timing, commands)
    finally:
        await telegram.close()
        await whatsapp.close()


def report(
    phases: list[Phase], b: Bench, timing: list[list[str]], commands: list[list[str]]
) -> None:
    base = phases[0]
    b95 = quantiles(base.tally.latencies)[1]
    rows = []
    for p in phases:
        p50, p95, p99 = quantiles(p.tally.latencies)
        through = f"{p.rate / base.rate:.2f}x" if base.rate else "-"
        worse = f"{p95 / b95:.2f}x" if b95 else "-"
        rows.append([p.name, str(p.tally.answered), f"{p.seconds:.1f}", f"{p.rate:.1f}", through,
                     f"{p50:.0f}", f"{p95:.0f}", f"{p99:.0f}", worse])  # fmt: skip
    print("\nthroughput and latency (Loket: webhook receipt -> the channel's send call; "
          "REST: request -> response)")  # fmt: skip
    print(table(["configuration", "answered", "seconds", "msg/s", "vs REST", "p50 ms", "p95 ms",
                 "p99 ms", "p95 vs REST"], rows))  # fmt: skip
    print(TARGETS)
    turns = [[p.name, f"{p.turn_ms:.0f}" if p.turn_ms else "-",
              f"{p.rasa_ms:.0f}" if p.rasa_ms else "-"] for p in phases[1:]]  # fmt: skip
    print("\nunder load, the gateways' own metrics: mean turn and its Rasa round trip (ms)")
    print(table(["configuration", "turn", "Rasa"], turns))
    print("\nwhere one turn's time goes, one message at a time (mean ms)")
    print(table(["step", "ms"], timing))
    print("\nRedis commands per message on the gateway path (the gateway and Rasa's tracker store)")
    print(table(["command", "per message"], commands))
    pids = b.pids()
    names = sorted(pids)
    cpu = [[p.name, *(f"{p.cpu[n]:.1f}" if n in p.cpu else "-" for n in names)] for p in phases]
    print("\nCPU seconds per process during each configuration's burst")
    print(table(["configuration", *names], cpu))
    print("\npeak resident memory (VmHWM) over the whole run, MB")
    for name, pid in pids.items():
        if name not in b.peaks:
            b.note_peak(name, pid)
    print(table(["process", "MB"], [[n, f"{b.peaks[n]:.0f}"] for n in sorted(b.peaks)]))
    print_tally("messages (lost/duplicated/out of order count acknowledged messages)",
                [(p.name, p.tally) for p in phases])  # fmt: skip


def _counts(text: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a list of whole numbers like 1,2 — got {text!r}"
        ) from None
    if not values or values[0] < 1 or values[-1] > 8:
        raise argparse.ArgumentTypeError(f"between 1 and 8, got {text!r}")
    return values


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--turns", type=int, default=5, help="messages per conversation")
    parser.add_argument(
        "--workers",
        type=_counts,
        default=[1, 2],
        help="Rasa workers of the one-gateway configurations, e.g. 1,2",
    )
    parser.add_argument(
        "--replicas",
        type=_counts,
        default=[3],
        help="gateway replicas behind nginx (using every worker), e.g. 3",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=40,
        help="messages timed one at a time for the per-turn profile",
    )
    args = parser.parse_args(argv)
    with running(rest_channel=True, gateway=False, rasa_workers=max(args.workers)) as loket:
        asyncio.run(run(args, loket))


if __name__ == "__main__":
    main()
