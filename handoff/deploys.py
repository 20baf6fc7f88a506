"""Which model the Rasa workers serve: the deploy history, the gate that drains a worker while it
loads another model, and the queue of model jobs (train, deploy, rollback) the gateway runs.

A turn enters the least busy worker that is not draining through `enter_least` (counted) and
leaves through `leave`; the deployer drains a worker, waits until nothing is in flight on it,
switches its model and lets it take turns again — one worker at a time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

from handoff import keys
from handoff.store import Store, now_ms

HISTORY_KEPT = 200
JOB_TTL_S = 7 * 86_400
STEPS_KEPT = 100
JOB_KINDS = ("train", "deploy", "rollback")

# KEYS: draining set, in-flight hash. ARGV: worker URLs, preferred first. Counts a turn into
# the one with the fewest in flight (the first of equals) and returns it; nil while all drain.
_ENTER_LEAST = """
local best, fewest = nil, nil
for _, worker in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[1], worker) == 0 then
    local n = tonumber(redis.call('HGET', KEYS[2], worker) or '0')
    if fewest == nil or n < fewest then best, fewest = worker, n end
  end
end
if best == nil then return false end
redis.call('HINCRBY', KEYS[2], best, 1)
return best
"""

# KEYS: in-flight hash. ARGV: worker URL. Never below zero (a drain may have reset it).
_LEAVE = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
"""


@dataclass(frozen=True, slots=True)
class Recheck:
    """The messages the bot misunderstood before a deploy (the trainers' review items, not
    dismissed), read again by the model that deploy switched to."""

    items: int  # read again
    understood: int  # now understood: their label if they have one, else an intent of ours
    labelled: int  # with a trainer's label or an agent's "the customer meant"
    labelled_right: int  # of those, now given that label
    unread: int = 0  # Rasa did not answer for them
    at: int = 0  # ms

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """'12 of 40 earlier misses now understood (9 of 10 labelled ones get their label)'."""
        line = f"{self.understood} of {self.items} earlier misses now understood"
        if self.labelled:
            line += f" ({self.labelled_right} of {self.labelled} labelled ones get their label)"
        if self.unread:
            line += f"; {self.unread} could not be read (Rasa did not answer)"
        return line


@dataclass(frozen=True, slots=True)
class Deploy:
    """One switch of the workers to a model."""

    id: str
    kind: str  # deploy | rollback
    model: str  # model id (the input hash)
    model_file: str
    by: str
    at: int  # ms
    macro_f1: float | None
    previous: str  # the model file served before, "" if unknown
    recheck: Recheck | None = None  # the earlier misses read again, once done

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["recheck"] = self.recheck.to_json() if self.recheck else None
        return data

    @classmethod
    def from_json(cls, raw: str, recheck: str | None = None) -> Deploy:
        data = json.loads(raw)
        data.pop("recheck", None)
        return cls(**data, recheck=Recheck(**json.loads(recheck)) if recheck else None)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    model: str
    by: str
    status: str
    created_at: int
    steps: tuple[str, ...]
    result: dict[str, Any]
    error: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = list(self.steps)
        return data


class Deploys:
    """The deploy history, the workers' drain gate and the model jobs, in Redis."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._enter_least = store.redis.register_script(_ENTER_LEAST)
        self._leave = store.redis.register_script(_LEAVE)

    # --- the drain gate ---------------------------------------------------------------------

    async def enter_least(self, workers: Sequence[str]) -> str | None:
        """Count a turn into the worker of `workers` (preferred first) with the fewest turns in
        flight across every gateway, and name it; None while they all drain."""
        async with self._store.guard():
            chosen = await self._enter_least(keys=[keys.draining(), keys.in_flight()],
                                             args=list(workers))  # fmt: skip
        return str(chosen) if chosen else None

    async def leave(self, worker: str) -> None:
        async with self._store.guard():
            await self._leave(keys=[keys.in_flight()], args=[worker])

    async def drain(self, worker: str) -> None:
        async with self._store.guard():
            await self._store.redis.sadd(keys.draining(), worker)

    async def undrain(self, worker: str) -> None:
        async with self._store.guard():
            await self._store.redis.srem(keys.draining(), worker)

    async def draining(self) -> set[str]:
        async with self._store.guard():
            return set(await self._store.redis.smembers(keys.draining()))

    async def in_flight(self, worker: str) -> int:
        async with self._store.guard():
            return int(await self._store.redis.hget(keys.in_flight(), worker) or 0)

    async def forget_in_flight(self, worker: str) -> None:
        """Drop a drained worker's count: what is left was counted by a gateway that died."""
        async with self._store.guard():
            await self._store.redis.hdel(keys.in_flight(), worker)

    @asynccontextmanager
    async def switching(self, *, ttl: float, wait: float = 0.1) -> AsyncIterator[None]:
        """Held while one deploy switches the workers (LockTimeout if another one does)."""
        async with self._store.lock(keys.deploy_lock(), ttl=ttl, wait=wait):
            yield

    # --- the history ------------------------------------------------------------------------

    async def record(
        self, kind: str, model: str, model_file: str, by: str, macro_f1: float | None,
        previous: str,
    ) -> Deploy:  # fmt: skip
        entry = Deploy(uuid.uuid4().hex[:12], kind, model, model_file, by, now_ms(), macro_f1,
                       previous)  # fmt: skip
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.lpush(keys.deploy_history(), json.dumps(entry.to_json()))
            pipe.ltrim(keys.deploy_history(), 0, HISTORY_KEPT - 1)
            await pipe.execute()
        return entry

    async def history(self, limit: int = 20) -> list[Deploy]:
        async with self._store.guard():
            raw = await self._store.redis.lrange(keys.deploy_history(), 0, limit - 1)
            ids = [json.loads(item)["id"] for item in raw]
            rechecks = await self._store.redis.hmget(keys.deploy_rechecks(), ids) if ids else []
        return [Deploy.from_json(item, r) for item, r in zip(raw, rechecks, strict=True)]

    async def save_recheck(self, deploy_id: str, recheck: Recheck) -> None:
        redis = self._store.redis
        async with self._store.guard():
            await redis.hset(keys.deploy_rechecks(), deploy_id, json.dumps(recheck.to_json()))
            if await redis.hlen(keys.deploy_rechecks()) > HISTORY_KEPT:
                # Keep the rechecks of the deploys the history keeps.
                kept = {json.loads(d)["id"] for d in await redis.lrange(keys.deploy_history(),
                                                                        0, -1)}  # fmt: skip
                gone = set(await redis.hkeys(keys.deploy_rechecks())) - kept
                if gone:
                    await redis.hdel(keys.deploy_rechecks(), *gone)

    async def current(self) -> Deploy | None:
        found = await self.history(1)
        return found[0] if found else None

    # --- model jobs -------------------------------------------------------------------------

    async def queue(self, kind: str, by: str, model: str = "") -> Job:
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown model job {kind!r}")
        job_id = uuid.uuid4().hex[:12]
        created = now_ms()
        key = keys.model_job(job_id)
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.hset(key, mapping={"kind": kind, "model": model, "by": by, "status": "queued",
                                    "created_at": created, "steps": "[]", "result": "{}",
                                    "error": ""})  # fmt: skip
            pipe.expire(key, JOB_TTL_S)
            pipe.lpush(keys.model_jobs(), job_id)
            pipe.set(keys.latest_model_job(), job_id, ex=JOB_TTL_S)
            await pipe.execute()
        return Job(job_id, kind, model, by, "queued", created, (), {}, "")

    async def take(self, timeout: float) -> Job | None:
        """The oldest queued job, now `running`; None after `timeout` seconds without one."""
        async with self._store.guard():
            popped = await self._store.redis.brpop([keys.model_jobs()], timeout=timeout)
            if popped is None:
                return None
            job_id = popped[1]
            await self._store.redis.hset(keys.model_job(job_id), "status", "running")
        return await self.job(job_id)

    async def cancel(self, job_id: str) -> bool:
        """Take a job nobody started off the queue; False if it already started."""
        async with self._store.guard():
            removed = await self._store.redis.lrem(keys.model_jobs(), 0, job_id)
            if removed:
                await self._store.redis.hset(keys.model_job(job_id), mapping={
                    "status": "failed", "error": "cancelled: no gateway took it up"})  # fmt: skip
        return bool(removed)

    async def step(self, job_id: str, line: str) -> None:
        key = keys.model_job(job_id)
        async with self._store.guard():
            steps = json.loads(await self._store.redis.hget(key, "steps") or "[]")
            steps = [*steps, f"{line}"][-STEPS_KEPT:]
            await self._store.redis.hset(key, "steps", json.dumps(steps))

    async def finish(self, job_id: str, *, result: dict[str, Any] | None = None,
                     error: str = "") -> None:  # fmt: skip
        async with self._store.guard():
            await self._store.redis.hset(keys.model_job(job_id), mapping={
                "status": "failed" if error else "done",
                "result": json.dumps(result or {}), "error": error})  # fmt: skip

    async def job(self, job_id: str) -> Job | None:
        async with self._store.guard():
            raw = await self._store.redis.hgetall(keys.model_job(job_id))
        if not raw:
            return None
        return Job(
            job_id, raw.get("kind", ""), raw.get("model", ""), raw.get("by", ""),
            raw.get("status", ""), int(raw.get("created_at") or 0),
            tuple(json.loads(raw.get("steps") or "[]")), json.loads(raw.get("result") or "{}"),
            raw.get("error", ""),
        )  # fmt: skip

    async def latest_job(self) -> Job | None:
        async with self._store.guard():
            job_id = await self._store.redis.get(keys.latest_model_job())
        return await self.job(job_id) if job_id else None
