"""Three gateway replicas on one Redis behind a real nginx (round robin), as in production:
order kept and every message answered once while consecutive webhooks reach different
replicas and one replica is killed; live events and claims across replicas."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bench import peers
from bench.harness import gateway_process
from bench.proxy import Nginx, nginx_binary
from bench.traffic import Customer, Traffic, settle, tally
from bot.core.settings import Settings
from bot.ops.processes import ChildProcess, free_port
from handoff.store import Store
from tests.support.inbox import Browser, add_agent

pytestmark = pytest.mark.skipif(
    nginx_binary() is None, reason="no nginx (apt-get install nginx-light)"
)


@dataclasses.dataclass
class Cluster:
    replicas: list[tuple[ChildProcess, str]]  # (process, its own URL)
    proxy: Nginx
    telegram: peers.TelegramApi
    whatsapp: peers.WhatsAppApi

    def arrivals(self) -> list[peers.Arrival]:
        return sorted([*self.telegram.arrivals, *self.whatsapp.arrivals], key=lambda a: a.at)


@pytest.fixture
async def cluster(
    stack_settings: Settings, redis_url: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    settings = dataclasses.replace(stack_settings, redis_url=redis_url)
    telegram, whatsapp = peers.TelegramApi(), peers.WhatsAppApi()
    await telegram.start()
    await whatsapp.start()
    replicas: list[tuple[ChildProcess, str]] = []
    proxy: Nginx | None = None
    try:
        for n in (1, 2, 3):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = {**peers.channel_env(telegram, whatsapp, url), "LOKET_LOG_LEVEL": "INFO"}
            child = gateway_process(settings, port, tmp_path, env, name=f"gateway-{n}")
            await asyncio.to_thread(child.start, timeout=60)
            replicas.append((child, url))
        proxy = await asyncio.to_thread(
            Nginx([int(u.rsplit(":", 1)[1]) for _, u in replicas]).start
        )
        yield Cluster(replicas, proxy, telegram, whatsapp)
    finally:
        if proxy is not None:
            proxy.stop()
        for child, _ in replicas:
            child.stop()
        await telegram.close()
        await whatsapp.close()


async def accepted(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("loket_inbound_accepted_total{"))  # fmt: skip


async def test_order_and_exactly_once_across_replicas_and_a_killed_one(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as session:
        traffic = Traffic(session, cluster.proxy.url, give_up=120)
        customers = traffic.customers(8, ["telegram", "whatsapp"])

        async def turns(customer: Customer, first: int) -> None:
            await traffic.conversation(customer, 2, first=first)

        await asyncio.gather(*(turns(c, 1) for c in customers))
        await settle(traffic.messages, cluster.arrivals, quiet=30, limit=120)
        # Round robin: every replica took webhooks, so one chat's turns crossed replicas.
        assert all([await accepted(session, url) > 0 for _, url in cluster.replicas])

        killed, _ = cluster.replicas[1]
        killed.kill()  # SIGKILL: no chance to finish anything
        await asyncio.gather(*(turns(c, 3) for c in customers))
        await settle(traffic.messages, cluster.arrivals, quiet=30, limit=180)

    counted = tally(traffic.messages, cluster.arrivals())
    assert counted.sent == counted.acknowledged == 32
    assert (counted.lost, counted.duplicated, counted.out_of_order) == (0, 0, 0), counted
    assert counted.answered == 32


async def read_events(response: aiohttp.ClientResponse, kinds: set[str]) -> list[dict[str, object]]:
    """Events from a Server-Sent Events stream until one of `kinds` arrives."""
    seen = []
    async for raw in response.content:
        line = raw.decode().strip()
        if line.startswith("data: "):
            event = json.loads(line.removeprefix("data: "))
            seen.append(event)
            if event["type"] in kinds:
                return seen
    return seen


async def test_live_events_and_claims_cross_replicas(cluster: Cluster, redis_url: str) -> None:
    store = Store.from_url(redis_url)
    await add_agent(store, "ana")
    await add_agent(store, "budi")
    await store.close()
    (_, first), _, (_, third) = cluster.replicas
    ana, budi = Browser(first), Browser(third)
    try:
        assert (await ana.login("ana")).status == 303
        assert (await budi.login("budi")).status == 303
        events = await ana.http.get(ana.url("/inbox/api/events"), timeout=aiohttp.ClientTimeout(60))
        async with aiohttp.ClientSession() as session:
            traffic = Traffic(session, cluster.proxy.url, give_up=60)
            customer = traffic.customer("whatsapp")
            await traffic.conversation(customer, 1)  # the bot answers first
            texts = ["saya mau bicara dengan petugas"]
            body = peers.whatsapp_webhook(customer.chat, "wamid.replicas000001", texts[0])
            async with session.post(f"{cluster.proxy.url}/channels/whatsapp/webhook", data=body,
                                    headers=peers.whatsapp_headers(body)) as resp:  # fmt: skip
                assert resp.status == 200
        # The handoff, made by whichever replica took the turn, reaches ana on replica 1.
        [request] = [e for e in await asyncio.wait_for(read_events(events, {"request"}), 60)
                     if e["type"] == "request"]  # fmt: skip
        conversation = str(request["conversation"])
        path = f"conversations/{conversation}/claim"
        (a, _), (b, _) = await asyncio.gather(ana.call("POST", path), budi.call("POST", path))
        assert sorted([a, b]) == [200, 409]  # one Lua script decides, whichever replica asks
        claimed = [e for e in await asyncio.wait_for(read_events(events, {"claim"}), 30)
                   if e["type"] == "claim"]  # fmt: skip
        assert claimed and claimed[0]["conversation"] == conversation
        events.close()
    finally:
        await ana.close()
        await budi.close()
