"""Inbox latency: a customer's message at the webhook to the agents' live streams, and an
agent's reply to the channel's send call.

    .venv/bin/python -m bench.inbox [--handoffs 50] [--agents 5] [--messages 300] [--rate 20]

Runs its own Redis and a gateway process (`loket run --gateway-only`; no Rasa is needed, as
every conversation is already with people and the bot stays silent) with the WhatsApp channel
pointed at a local server speaking the Cloud API, which records when each send arrives. It
opens `--handoffs` handoffs, claims them evenly for `--agents` agents (API tokens), connects
every agent to `/inbox/api/events`, then:

- posts `--messages` signed WhatsApp webhooks at `--rate` per second, round-robin over the
  conversations, and times each until its `message` event reaches each agent's stream;
- posts as many agent replies (`POST /inbox/api/conversations/{id}/reply`) at the same rate,
  and times each until the channel's API receives the send.

Prints p50/p95/p99/max per path, and as a floor for the first path the same Redis's own
XADD-to-XREAD time measured in the same run. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp

from bench import peers
from bench.harness import ROOT, rss_mb, table
from bot.core.messages import ConversationKey
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.processes import ChildProcess, free_port, http_ok
from handoff.handoffs import Handoffs
from handoff.inbox.accounts import Accounts, AgentRole
from handoff.store import Store
from handoff.summary import Summary


class Agent:
    """One connected agent: its token, its conversations and its live stream's arrivals."""

    def __init__(self, name: str, token: str) -> None:
        self.name = name
        self.token = token
        self.conversations: list[str] = []
        self.seen: dict[str, list[float]] = {}  # conversation -> arrival times of message events
        self.connected = asyncio.Event()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def listen(self, session: aiohttp.ClientSession, base: str) -> None:
        async with session.get(f"{base}/inbox/api/events", headers=self.auth) as resp:
            resp.raise_for_status()
            self.connected.set()
            async for raw in resp.content:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                if event.get("type") == "message":
                    self.seen.setdefault(event["conversation"], []).append(time.perf_counter())


def percentiles(values: list[float]) -> list[str]:
    if not values:
        return ["-"] * 5
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return [str(len(ms)), f"{q[49]:.1f}", f"{q[94]:.1f}", f"{q[98]:.1f}", f"{ms[-1]:.1f}"]


async def redis_floor(url: str, samples: int = 300) -> list[float]:
    """XADD on one connection to XREAD BLOCK on another: what any live stream costs at least."""
    stream = "loket:bench:floor"
    writer, reader = Store.from_url(url), Store.from_url(url)
    times: list[float] = []
    try:
        for _ in range(samples):
            newest = await writer.redis.xrevrange(stream, count=1)
            last = newest[0][0] if newest else "0-0"
            waiter = asyncio.create_task(reader.redis.xread({stream: last}, block=1000, count=1))
            await asyncio.sleep(0.002)
            start = time.perf_counter()
            await writer.redis.xadd(stream, {"x": "1"})
            await waiter
            times.append(time.perf_counter() - start)
    finally:
        await writer.close()
        await reader.close()
    return times


@contextlib.asynccontextmanager
async def gateway(
    redis_url: str, api: peers.WhatsAppApi, data: Path
) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "LOKET_RASA_URL": "http://127.0.0.1:9",  # never called: every conversation is with people
        "LOKET_ACTIONS_URL": "http://127.0.0.1:9",
        "LOKET_PORT": str(port),
        "LOKET_DATA_DIR": str(data),
        "LOKET_LOG_LEVEL": "WARNING",
        **peers.channel_env(None, api, ""),
    }
    process = ChildProcess(
        "gateway",
        [sys.executable, "-m", "bot.ops.cli", "run", "--gateway-only"],
        log_path=data / "gateway.log",
        ready=http_ok(f"http://127.0.0.1:{port}/livez"),
        env=env,
        cwd=ROOT,
    )
    process.start(timeout=60)
    try:
        yield f"http://127.0.0.1:{port}", process.pid or 0
    finally:
        process.stop()


async def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="loket-inbox-bench-") as tmp:
        data = Path(tmp)
        redis = EmbeddedRedis(data / "redis").start()
        api = peers.WhatsAppApi()
        await api.start()
        store = Store.from_url(redis.url)
        try:
            async with gateway(redis.url, api, data) as (base, pid):
                await run(args, base, pid, store, api)
                floor = await redis_floor(redis.url)
                print()
                print(
                    table(
                        ["path", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                        [["floor: Redis XADD -> XREAD", *percentiles(floor)]],
                    )
                )
        finally:
            await store.close()
            await api.close()
            redis.stop()


async def run(
    args: argparse.Namespace, base: str, pid: int, store: Store, api: peers.WhatsAppApi
) -> None:
    accounts, handoffs = Accounts(store), Handoffs(store)
    agents = []
    for i in range(args.agents):
        name = f"agent{i + 1}"
        await accounts.add(name, AgentRole.AGENT, f"bench-password-{i}")
        agents.append(Agent(name, await accounts.issue_token(name)))
    conversations = [f"62812{i:08d}" for i in range(args.handoffs)]
    async with aiohttp.ClientSession() as session:
        for i, wa_id in enumerate(conversations):
            key = ConversationKey("whatsapp", wa_id)
            await handoffs.request(key, reason="asked_for_human", detail="", language="id",
                                   summary=Summary(), note="Handed over (bench)")  # fmt: skip
            agent = agents[i % len(agents)]
            async with session.post(f"{base}/inbox/api/conversations/{key.id}/claim",
                                    headers=agent.auth) as resp:  # fmt: skip
                resp.raise_for_status()
            agent.conversations.append(key.id)
        streams = [asyncio.create_task(a.listen(session, base)) for a in agents]
        await asyncio.wait_for(asyncio.gather(*(a.connected.wait() for a in agents)), 10)
        await asyncio.sleep(0.5)

        # 1. customer message at the webhook -> message event on every agent's stream
        sent_at: dict[str, list[float]] = {}
        gap = 1 / args.rate
        for n in range(args.messages):
            wa_id = conversations[n % len(conversations)]
            body = peers.whatsapp_webhook(wa_id, f"wamid.in{n:08d}", f"halo {n}")
            headers = peers.whatsapp_headers(body)
            start = time.perf_counter()
            async with session.post(f"{base}/channels/whatsapp/webhook", data=body,
                                    headers=headers) as resp:  # fmt: skip
                resp.raise_for_status()
            sent_at.setdefault(f"whatsapp:{wa_id}", []).append(start)
            await asyncio.sleep(max(0.0, gap - (time.perf_counter() - start)))
        await asyncio.sleep(3)
        to_stream = [
            seen - start
            for agent in agents
            for cid, starts in sent_at.items()
            for start, seen in zip(starts, agent.seen.get(cid, []), strict=False)
        ]
        expected = args.messages * len(agents)

        # 2. agent reply -> the channel's send call
        replies: dict[str, float] = {}
        pairs = [(a, c) for a in agents for c in a.conversations]
        for n in range(args.messages):
            agent, cid = pairs[n % len(pairs)]
            text = f"Baik, kami cek dulu ya ({n})"
            start = time.perf_counter()
            async with session.post(f"{base}/inbox/api/conversations/{cid}/reply",
                                    json={"text": text}, headers=agent.auth) as resp:  # fmt: skip
                resp.raise_for_status()
            replies[text] = start
            await asyncio.sleep(max(0.0, gap - (time.perf_counter() - start)))
        deadline = time.perf_counter() + 30
        while len(api.arrivals) < len(replies) and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        arrived: dict[str, float] = {}
        for arrival in api.arrivals:
            arrived.setdefault(arrival.text, arrival.at)
        to_channel = [arrived[t] - s for t, s in replies.items() if t in arrived]
        gateway_rss = rss_mb(pid)
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)

    print(f"\n{args.handoffs} open handoffs, {args.agents} agents connected, "
          f"{args.messages} messages and {args.messages} replies at {args.rate}/s; "
          f"gateway RSS {gateway_rss} MB\n")  # fmt: skip
    print(table(
        ["path", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            ["webhook -> agent's live stream", *percentiles(to_stream)],
            ["agent reply -> channel send call", *percentiles(to_channel)],
        ],
    ))  # fmt: skip
    lost = expected - len(to_stream)
    print(f"\nevents expected {expected}, received {len(to_stream)}; replies sent "
          f"{len(replies)}, reached the channel {len(to_channel)}" + (f"; MISSING {lost}" if lost
          else ""))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inbox", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--handoffs", type=int, default=50)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second")
    asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
