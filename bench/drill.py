"""What the fault drills share: the channels' stand-ins and the gateway on a running Loket,
customers writing in the background while a fault is injected, and the closing tally."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

import aiohttp

from bench import peers
from bench.harness import Running, supervised
from bench.peers import Arrival, TelegramApi, WhatsAppApi
from bench.traffic import (
    Customer,
    Message,
    Tally,
    Traffic,
    answered_refs,
    reached_people,
    settle,
    tally,
)
from handoff import StoreUnavailable, keys
from handoff.store import Store


class Rig:
    """Telegram and WhatsApp stand-ins and a gateway wired to them; open it with `async with`.
    Customers alternate between the two channels.

    `start(env)` starts the gateway with the channels' variables added to its environment and
    `stop()` stops it (both blocking; they run in the supervisor thread); `redis_url()` says
    where its Redis is, for the closing count."""

    def __init__(
        self,
        gateway_url: str,
        redis_url: Callable[[], str],
        start: Callable[[Mapping[str, str]], None],
        stop: Callable[[], None],
        *,
        give_up: float = 300.0,
        quiet: float = 10.0,
    ) -> None:
        self.gateway_url = gateway_url
        self._redis_url = redis_url
        self._start = start
        self._stop = stop
        self.quiet = quiet  # how long `finish` waits for answers once no work is queued
        self.telegram = TelegramApi()
        self.whatsapp = WhatsAppApi()
        self.apis: tuple[peers.ChannelApi, ...] = (self.telegram, self.whatsapp)
        self._give_up = give_up
        self._session: aiohttp.ClientSession | None = None
        self._traffic: Traffic | None = None
        self.everyone: list[Customer] = []  # every customer made so far

    @classmethod
    def on(cls, loket: Running, **options: float) -> Rig:
        """A rig whose gateway is `loket`'s (`loket run --gateway-only`)."""
        return cls(
            loket.gateway_url,
            lambda: loket.settings.redis_url or "",
            loket.start_gateway,
            lambda: loket.gateway.stop(),
            **options,
        )

    @property
    def traffic(self) -> Traffic:
        assert self._traffic is not None, "open the rig with `async with` first"
        return self._traffic

    async def __aenter__(self) -> Rig:
        for api in self.apis:
            await api.start()
        await self.start_gateway()
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._traffic = Traffic(self._session, self.gateway_url, give_up=self._give_up)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
        await supervised(self._stop)
        for api in self.apis:
            await api.close()

    async def start_gateway(self) -> float:
        """Start (or start again) the gateway; the seconds it took to be ready."""
        env = peers.channel_env(self.telegram, self.whatsapp, self.gateway_url)
        start = time.perf_counter()
        await supervised(lambda: self._start(env))
        return time.perf_counter() - start

    def arrivals(self) -> list[Arrival]:
        return sorted((a for api in self.apis for a in api.arrivals), key=lambda a: a.at)

    def all_answered(self) -> bool:
        """Whether every message acknowledged so far has an answer."""
        answered = answered_refs(self.arrivals())
        return all(
            m.ref in answered
            for m in self.traffic.messages
            if m.acked is not None and m.asks_about_ref
        )

    def customers(self, count: int) -> list[Customer]:
        made = self.traffic.customers(count, ["telegram", "whatsapp"])
        self.everyone.extend(made)
        return made

    def load(self, conversations: int, turns: int, gap: float) -> asyncio.Task[None]:
        """In the background: `conversations` customers each writing `turns` messages, the
        next `gap` seconds after the previous one was acknowledged."""

        async def customer(c: Customer, delay: float) -> None:
            await asyncio.sleep(delay)
            for seq in range(1, turns + 1):
                await self.traffic.send(c, seq)
                await asyncio.sleep(gap)

        customers = self.customers(conversations)
        spread = gap / max(1, conversations)  # not all at the same instant
        work = [customer(c, i * spread) for i, c in enumerate(customers)]

        async def everyone() -> None:
            await asyncio.gather(*work)

        return asyncio.create_task(everyone(), name="drill load")

    async def finish(
        self, messages: Sequence[Message] | None = None, *, limit: float = 900
    ) -> Tally:
        """Wait for the answers to settle, then count (asking Redis which unanswered messages
        reached people instead)."""
        messages = list(self.traffic.messages if messages is None else messages)
        store = Store.from_url(self._redis_url())

        async def busy() -> bool:
            """Messages not through their turn yet, or replies not yet sent."""
            try:
                async with store.guard():
                    return bool(await store.redis.xlen(keys.inbound())) or bool(
                        await store.redis.xlen(keys.outbox())
                    )
            except StoreUnavailable:
                return True

        try:
            await settle(messages, self.arrivals, quiet=self.quiet, limit=limit, busy=busy)
            arrivals = self.arrivals()
            people = await reached_people(store, messages, answered_refs(arrivals))
        finally:
            await store.close()
        return tally(messages, arrivals, people)


def drill_parser(
    module: str, doc: str, *, conversations: int, turns: int, gap: float
) -> argparse.ArgumentParser:
    """A drill's command line with the options every drill has: its customers and how long it
    waits for answers at the end."""
    p = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=doc.split("\n\n")[0])
    p.add_argument("--conversations", type=int, default=conversations)
    p.add_argument("--turns", type=int, default=turns, help="messages per conversation")
    p.add_argument(
        "--gap",
        type=float,
        default=gap,
        help="seconds between a customer's acknowledged message and the next",
    )
    p.add_argument(
        "--quiet",
        type=float,
        default=10.0,
        help="at the end, seconds to wait for answers once no work is queued",
    )
    return p


def choices(*allowed: str) -> Callable[[str], list[str]]:
    """A command-line option's type: some of `allowed`, separated by commas, in the order
    given (a wrong one is refused as "invalid <a or b, comma-separated> value")."""

    def parse(raw: str) -> list[str]:
        picked = [name.strip() for name in raw.split(",") if name.strip()]
        if not picked or any(name not in allowed for name in picked):
            raise ValueError(raw)
        return picked

    parse.__name__ = f"{' or '.join(allowed)}, comma-separated,"
    return parse


def refused(messages: Sequence[Message]) -> int:
    """Webhook attempts not acknowledged (the platform would post them again)."""
    return sum(len(m.refusals) for m in messages)
