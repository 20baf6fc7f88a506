"""Several Rasa servers behind one gateway: each turn is served by one healthy worker.

Rasa keeps its trackers in Redis, and the router lets one turn of a conversation run at a time
across all replicas (its turn lock), so any worker may answer any conversation. Each turn goes
to the worker with the fewest turns in flight, counted across every gateway in Redis; among
equally busy ones, to the conversation's own (rendezvous hashing: adding or losing a worker
moves only its own conversations), so under an even load a conversation stays on one worker,
and a burst that hashing would pile on one worker spreads over all. A worker that refuses the
connection is taken out at once and the message goes to the next one — it never reached Rasa,
so nothing can happen twice; a worker that fails mid-turn is not retried elsewhere (the turn
may have happened), the router hands over honestly instead. Taken-out workers are probed and
come back when they answer.

During a deploy (bot/gateway/deployer.py) a worker drains: the pool's gate refuses it new turns,
so its conversations go to the others (or wait, when it is the only one) while it loads the new
model; the gate counts the turns in flight on each worker so the deployer knows when the
worker is idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from bot.core.errors import BotUnavailable, BotUnreachable
from bot.core.messages import ConversationKey, Inbound, IntentScore, Turn
from bot.core.metrics import Metrics
from bot.gateway.rasa_client import RasaClient

log = logging.getLogger(__name__)

PROBE_EVERY_S = 2.0
DRAIN_POLL_S = 0.1
T = TypeVar("T")


class Gate(Protocol):
    """Shared by every gateway (handoff/deploys.py): which workers take turns now, and how many
    turns each has in flight."""

    async def enter_least(self, workers: Sequence[str]) -> str | None: ...

    async def leave(self, worker: str) -> None: ...


def _rank(worker: str, conversation: str) -> bytes:
    return hashlib.blake2b(f"{worker}\0{conversation}".encode(), digest_size=8).digest()


class RasaPool:
    """The gateway's `Bot`: sends each message to its conversation's worker."""

    def __init__(
        self,
        workers: Sequence[RasaClient],
        metrics: Metrics | None = None,
        *,
        gate: Gate | None = None,
        drain_wait: float = 300.0,
    ) -> None:
        if not workers:
            raise ValueError("a Rasa pool needs at least one worker")
        self.workers = tuple(workers)
        self.gate = gate
        self._drain_wait = drain_wait
        self._down: set[str] = set()
        self._in_flight: Counter[str] = Counter()  # this gateway's calls on each worker
        self._metrics = metrics or Metrics()
        self._metrics.rasa_workers_up.set(len(self.workers))

    def order(self, conversation: ConversationKey) -> list[RasaClient]:
        """The workers to try for a conversation: up ones by its rendezvous rank, then the
        ones taken out (one may have come back since the last probe)."""
        ranked = sorted(self.workers, key=lambda w: _rank(w.url, conversation.id), reverse=True)
        return [w for w in ranked if w.url not in self._down] + [
            w for w in ranked if w.url in self._down
        ]

    async def send(self, inbound: Inbound) -> Turn:
        async def send(worker: RasaClient) -> Turn:
            started = time.perf_counter()
            turn = await worker.send(inbound)
            self._metrics.rasa_seconds.labels(worker.url).observe(time.perf_counter() - started)
            return turn

        return await self._first(inbound.conversation, send)

    async def pause(self, conversation: ConversationKey) -> None:
        await self._first(conversation, lambda w: w.pause(conversation))

    async def resume(self, conversation: ConversationKey) -> None:
        await self._first(conversation, lambda w: w.resume(conversation))

    async def status(self) -> dict[str, Any]:
        """The first worker that answers /status (they all serve the same model)."""
        return await self._first(
            ConversationKey("status", "model"), lambda w: w.status(), gated=False
        )

    async def parse(self, text: str) -> IntentScore | None:
        """The serving model's intent for `text`, from the first worker that answers (NLU only:
        no conversation is touched, so no worker's gate is entered)."""
        spread = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()  # over the workers
        return await self._first(ConversationKey("parse", spread), lambda w: w.parse(text),
                                 gated=False)  # fmt: skip

    async def _first(
        self,
        conversation: ConversationKey,
        call: Callable[[RasaClient], Awaitable[T]],
        *,
        gated: bool = True,
    ) -> T:
        """`call` on the least busy worker that takes it: the up workers first, then the ones
        taken out (one may be back); a worker refusing the connection is passed over."""
        gate = self.gate if gated else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._drain_wait
        while True:
            unreachable: list[str] = []
            draining = False
            for tier in self._tiers(conversation):
                left = list(tier)
                while left:
                    worker = await self._enter(left, gate)
                    if worker is None:
                        draining = True  # loading another model, every one left
                        break
                    left.remove(worker)
                    try:
                        return await self._call(worker, call, unreachable)
                    except BotUnreachable:
                        continue
                    finally:
                        await self._leave(worker, gate)
            if not draining or loop.time() >= deadline:
                break
            # The workers left are loading a model (or there is one): the turn waits for them.
            await asyncio.sleep(DRAIN_POLL_S)
        if not unreachable:
            raise BotUnreachable(f"every Rasa worker was still loading a model after "
                                 f"{self._drain_wait:.0f} s")  # fmt: skip
        raise BotUnreachable("no Rasa worker could be reached: " + "; ".join(unreachable))

    def _tiers(self, conversation: ConversationKey) -> tuple[list[RasaClient], list[RasaClient]]:
        ranked = self.order(conversation)
        return ([w for w in ranked if w.url not in self._down],
                [w for w in ranked if w.url in self._down])  # fmt: skip

    async def _enter(self, workers: list[RasaClient], gate: Gate | None) -> RasaClient | None:
        """Count a turn into the worker of `workers` with the fewest turns in flight (the first
        of equals: the conversation's own while the load is even); None while they all drain.
        With a gate the count is every gateway's (in Redis), else this one's."""
        if gate is None:
            chosen = min(workers, key=lambda w: self._in_flight[w.url])
        else:
            url = await gate.enter_least([w.url for w in workers])
            if url is None:
                return None
            chosen = next(w for w in workers if w.url == url)
        self._in_flight[chosen.url] += 1
        return chosen

    async def _leave(self, worker: RasaClient, gate: Gate | None) -> None:
        self._in_flight[worker.url] -= 1
        if gate is not None:
            await gate.leave(worker.url)

    async def _call(
        self,
        worker: RasaClient,
        call: Callable[[RasaClient], Awaitable[T]],
        unreachable: list[str],
    ) -> T:
        try:
            result = await call(worker)
        except BotUnreachable as exc:
            unreachable.append(f"{worker.url}: {exc}")
            self._mark(worker, up=False)
            self._metrics.rasa_errors.labels(worker.url, "unreachable").inc()
            raise
        except BotUnavailable:
            self._metrics.rasa_errors.labels(worker.url, "failed").inc()
            raise
        self._mark(worker, up=True)
        return result

    def _mark(self, worker: RasaClient, *, up: bool) -> None:
        if up and worker.url in self._down:
            self._down.discard(worker.url)
            log.info("Rasa worker %s is back", worker.url)
        elif not up and worker.url not in self._down:
            self._down.add(worker.url)
            log.warning("Rasa worker %s is unreachable; its conversations go to the others",
                        worker.url)  # fmt: skip
        self._metrics.rasa_workers_up.set(len(self.workers) - len(self._down))

    def up(self) -> list[str]:
        return [w.url for w in self.workers if w.url not in self._down]

    async def probe(self) -> None:
        """Check the workers taken out; those that answer take conversations again."""
        for worker in [w for w in self.workers if w.url in self._down]:
            with contextlib.suppress(BotUnavailable):
                await worker.status()
                self._mark(worker, up=True)

    async def watch(self, stop: asyncio.Event) -> None:
        """Probe taken-out workers until `stop` is set."""
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_EVERY_S)
            if not stop.is_set():
                await self.probe()
