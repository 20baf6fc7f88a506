"""Latency and throughput of a message through the gateway vs. straight to Rasa's REST channel.

    .venv/bin/python -m bench.latency [--messages 500] [--conversations 50]

Starts its own stack in a temporary folder (embedded Redis, action server, one Rasa server with
both Loket's channel and Rasa's REST channel, and the gateway as a separate process), then sends
the same messages (a) to the web chat endpoint and (b) to `rasa run`'s /webhooks/rest/webhook,
each conversation sending its next message when the previous one was answered. While (a) runs,
a prober times GET /livez on the gateway: how responsive the gateway stays while the bot works.
Prints a table; figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp

from bench.harness import WebChat, rss_mb, running, table

Send = Callable[[str, str], Awaitable[bool]]

# Requests that each complete in one turn (no form left open, no handoff), so both paths do
# the same work every time: NLU, policies, and for the lookups an action calling the provider.
MESSAGES = [
    "halo kak",
    "cek transaksi TRXDEMO0001",
    "hello there",
    "gmn cara pasang baru",
    "makasih min",
    "cek tagihan 532100556677",
    "ini bot ya?",
    "what can you do",
    "status laporan TKT240117",
    "thanks a lot",
]


@dataclass
class Result:
    name: str
    latencies: list[float]
    seconds: float
    errors: int

    def row(self) -> list[str]:
        q = quantiles(self.latencies)
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        return [
            self.name,
            str(len(self.latencies)),
            str(self.errors),
            f"{self.seconds:.1f}",
            f"{rate:.1f}",
            f"{q[50]:.0f}",
            f"{q[95]:.0f}",
            f"{q[99]:.0f}",
        ]


def quantiles(values: list[float]) -> dict[int, float]:
    if len(values) < 2:
        v = values[0] if values else 0.0
        return {50: v, 95: v, 99: v}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {50: cuts[49], 95: cuts[94], 99: cuts[98]}


async def load(
    name: str,
    prefix: str,
    send: Send,
    messages: int,
    conversations: int,
) -> Result:
    per_conversation = messages // conversations
    latencies: list[float] = []
    errors = 0

    async def conversation(n: int) -> None:
        nonlocal errors
        texts = itertools.islice(
            itertools.cycle(MESSAGES[n % len(MESSAGES) :] + MESSAGES), per_conversation
        )
        for text in texts:
            start = time.perf_counter()
            ok = await send(f"{prefix}{n}", text)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += 0 if ok else 1

    start = time.perf_counter()
    await asyncio.gather(*(conversation(n) for n in range(conversations)))
    return Result(name, latencies, time.perf_counter() - start, errors)


FIRST_ERROR: list[str] = []


def _failed(detail: str) -> bool:
    if not FIRST_ERROR:
        FIRST_ERROR.append(detail)
    return False


def gateway_sender(session: aiohttp.ClientSession, base: str) -> Send:
    chat_api = WebChat(session, base)

    async def send(chat: str, text: str) -> bool:
        status, body = await chat_api.post(chat, text)
        if status != 200 or not body.get("replies"):
            return _failed(f"gateway {status}: {body}")
        return True

    return send


def rest_sender(session: aiohttp.ClientSession, base: str) -> Send:
    async def send(chat: str, text: str) -> bool:
        async with session.post(
            f"{base}/webhooks/rest/webhook", json={"sender": f"rest:{chat}", "message": text}
        ) as resp:
            body = await resp.json()
            if resp.status != 200 or not body:
                return _failed(f"rasa REST {resp.status}: {body}")
            return True

    return send


async def probe(session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> list[float]:
    """GET url every 50 ms until stopped; the gateway's responsiveness under load."""
    samples: list[float] = []
    while not stop.is_set():
        start = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
        samples.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.05)
    return samples


async def run(args: argparse.Namespace, gateway_url: str, rasa_url: str) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm both paths (TensorFlow's first calls are slow).
        warm_g, warm_r = gateway_sender(session, gateway_url), rest_sender(session, rasa_url)
        for text in MESSAGES:
            await warm_g("warmup", text)
            await warm_r("warmup", text)

        stop = asyncio.Event()
        prober = asyncio.create_task(probe(session, f"{gateway_url}/livez", stop))
        gateway = await load(
            "gateway /chat/api/messages",
            "g",
            gateway_sender(session, gateway_url),
            args.messages,
            args.conversations,
        )
        stop.set()
        busy_probe = await prober

        rest = await load(
            "rasa REST /webhooks/rest/webhook",
            "r",
            rest_sender(session, rasa_url),
            args.messages,
            args.conversations,
        )

    headers = ["path", "msgs", "errors", "seconds", "msg/s", "p50 ms", "p95 ms", "p99 ms"]
    print()
    print(
        f"{args.messages} messages over {args.conversations} concurrent conversations, "
        "same model, same run"
    )
    print(table(headers, [gateway.row(), rest.row()]))
    gq, rq = quantiles(gateway.latencies), quantiles(rest.latencies)
    g_rate = len(gateway.latencies) / gateway.seconds
    r_rate = len(rest.latencies) / rest.seconds
    print()
    print(
        table(
            ["ratio gateway / rasa REST", "throughput", "p50", "p95", "p99"],
            [
                [
                    "",
                    f"{g_rate / r_rate:.2f}x",
                    f"{gq[50] / rq[50]:.2f}x",
                    f"{gq[95] / rq[95]:.2f}x",
                    f"{gq[99] / rq[99]:.2f}x",
                ]
            ],
        )
    )
    if FIRST_ERROR:
        print(f"\nfirst error: {FIRST_ERROR[0]}")
    pq = quantiles(busy_probe)
    print()
    print(
        f"gateway GET /livez while the bot is busy: {len(busy_probe)} probes, "
        f"p50 {pq[50]:.1f} ms, p99 {pq[99]:.1f} ms, max {max(busy_probe):.1f} ms"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--conversations", type=int, default=50)
    args = parser.parse_args(argv)
    with running(rest_channel=True) as loket:
        asyncio.run(run(args, loket.gateway_url, loket.settings.rasa_url or ""))
        print(
            f"RSS after the run: gateway {rss_mb(loket.gateway.pid)} MB, "
            f"rasa server {rss_mb(loket.stack.pid('rasa server 1'))} MB"
        )


if __name__ == "__main__":
    main()
