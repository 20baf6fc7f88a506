"""Switching the Rasa workers to another model without losing, repeating or reordering a turn.

One worker at a time: the worker drains (the pool's gate sends its new turns to the others, or
holds them while it is the only one), the deployer waits until no turn is in flight on it,
asks it to load the model (Rasa's `PUT /model`; Rasa keeps serving the old model if the new one
fails to load), checks what it serves, and lets it take turns again. A model that fails on a
worker is refused and the workers already switched go back, so all serve one model. A model
scoring worse than the serving one on the held-out set by more than the tolerance is refused
before any worker is touched. Every switch is recorded (handoff/deploys.py); a worker that comes
back serving another model (restarted by its supervisor) is switched to the recorded one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from bot.core.errors import BotUnavailable, DeployRefused, LoketError
from bot.core.scores import Comparison, Scores, compare, model_id, read_scores
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from bot.gateway.recheck import earlier_misses, recheck
from handoff.deploys import Deploy, Deploys, Job
from handoff.errors import LockTimeout, StoreUnavailable
from handoff.review_items import ReviewItems

log = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 300.0  # loading TensorFlow and a model on a busy small machine
IDLE_POLL_S = 0.1
RECONCILE_EVERY_S = 15.0

Progress = Callable[[str], Awaitable[None]]


class ModelTasks(Protocol):
    """Training and scoring, which run as child processes (bot/gateway/model_tasks.py)."""

    async def train(self, progress: Progress) -> Path: ...

    async def evaluate(self, model: Path, progress: Progress) -> Scores: ...


@dataclass(frozen=True, slots=True)
class DeployPolicy:
    tolerance: float  # macro-F1 a new model may lose against the serving one
    drain_timeout: float  # longest a turn may take: the bot timeout and a margin


async def _quiet(line: str) -> None:
    log.info("%s", line)


class Deployer:
    """Deploys, rollbacks and the model jobs the inbox and `loket deploy` queue."""

    def __init__(
        self,
        pool: RasaPool,
        deploys: Deploys,
        data_dir: Path,
        models_dir: Path,
        policy: DeployPolicy,
        tasks: ModelTasks,
        review: ReviewItems | None = None,
    ) -> None:
        self._pool = pool
        self._deploys = deploys
        self._data_dir = data_dir
        self._models_dir = models_dir
        self._policy = policy
        self._tasks = tasks
        self._review = review  # the earlier misses, read again after each switch

    # --- what serves ------------------------------------------------------------------------

    async def serving(self) -> dict[str, str | None]:
        """Each worker's model file name (Rasa gives no folder; None when it does not
        answer)."""
        found: dict[str, str | None] = {}
        for worker in self._pool.workers:
            try:
                found[worker.url] = (await worker.status()).get("model_file")
            except BotUnavailable:
                found[worker.url] = None
        return found

    async def current_file(self) -> str:
        record = await self._deploys.current()
        if record is not None:
            return record.model_file
        files = [f for f in (await self.serving()).values() if f]
        return str(self._local(files[0])) if files else ""

    def _scores(self, model: Path | str) -> Scores | None:
        return read_scores(self._data_dir, model)

    async def _scored(self, model: Path, progress: Progress) -> Scores:
        scores = self._scores(model)
        if scores is None:
            await progress(f"scoring {model.name} on the held-out set (not evaluated yet)")
            scores = await self._tasks.evaluate(model, progress)
        return scores

    # --- deploy and rollback ----------------------------------------------------------------

    def resolve(self, model: str) -> Path:
        """A model given by path, file name or id, as a file in the models folder."""
        candidates = [Path(model), self._models_dir / model,
                      self._models_dir / f"loket-{model}.tar.gz"]  # fmt: skip
        for path in candidates:
            if path.is_file() and path.name.endswith(".tar.gz"):
                return path.resolve()
        raise DeployRefused(f"no model {model!r} in {self._models_dir}")

    async def deploy(self, model: str, by: str, progress: Progress = _quiet) -> Deploy:
        """Switch every worker to `model` if it scores no worse than the serving one beyond the
        tolerance; DeployRefused with the reason otherwise (the serving model stays)."""
        path = self.resolve(model)
        current = await self.current_file()
        if current and model_id(current) == model_id(path):
            raise DeployRefused(f"model {model_id(path)} is already serving")
        candidate = await self._scored(path, progress)
        comparison: Comparison | None = None
        here: bool = await asyncio.to_thread(os.path.isfile, current) if current else False
        if here:
            serving = await self._scored(Path(current), progress)
            if Path(serving.dataset).name != Path(candidate.dataset).name:
                raise DeployRefused(
                    f"the two models were scored on different held-out sets "
                    f"({Path(candidate.dataset).name} and {Path(serving.dataset).name}); run "
                    "`loket evaluate` on both with the same --dataset"
                )
            comparison = compare(candidate, serving)
            await progress(
                f"held-out macro-F1: {candidate.macro_f1:.3f} for {candidate.model}, "
                f"{serving.macro_f1:.3f} for the serving {serving.model} "
                f"({comparison.delta:+.3f}; tolerance {self._policy.tolerance:.3f})"
            )
            if comparison.worse_beyond(self._policy.tolerance):
                worse = [c.intent for c in comparison.changes if c.verdict == "worse"]
                raise DeployRefused(
                    f"model {candidate.model} scores macro-F1 {candidate.macro_f1:.3f} on the "
                    f"held-out set, {-comparison.delta:.3f} below the serving model "
                    f"{serving.model} ({serving.macro_f1:.3f}); the tolerance is "
                    f"{self._policy.tolerance:.3f}. Worse on: {', '.join(worse) or '-'}"
                )
        else:
            await progress(f"held-out macro-F1 {candidate.macro_f1:.3f}; the serving model's "
                           "file is not here to compare with")  # fmt: skip
        record = await self._switch_all(path, current, "deploy", by, candidate.macro_f1, progress)
        return await self._recheck(record, progress)

    async def rollback(self, by: str, progress: Progress = _quiet) -> Deploy:
        """Back to the model served before the current one (no score gate: it served)."""
        history = await self._deploys.history(50)
        if not history:
            raise DeployRefused("nothing to roll back: no deploy is recorded")
        current = history[0]
        target = current.previous or next(
            (d.model_file for d in history[1:] if d.model != current.model), ""
        )
        if not target:
            raise DeployRefused("nothing to roll back to: no earlier model is recorded")
        path = Path(target)
        if not await asyncio.to_thread(path.is_file):
            raise DeployRefused(f"the earlier model {path.name} is no longer in {path.parent}")
        scores = self._scores(path)
        record = await self._switch_all(
            path, current.model_file, "rollback", by, scores.macro_f1 if scores else None, progress
        )
        return await self._recheck(record, progress)

    async def _recheck(self, record: Deploy, progress: Progress) -> Deploy:
        """Read the messages misunderstood before this switch again with the model it switched
        to; the count is kept with the deploy. A failure here leaves the deploy as it is."""
        if self._review is None:
            return record
        try:
            items = await earlier_misses(self._review, record.at)
            await progress(f"reading the {len(items)} earlier misses again with {record.model}")
            found = await recheck(items, self._pool.parse)
            await self._deploys.save_recheck(record.id, found)
        except (BotUnavailable, StoreUnavailable) as exc:
            await progress(f"could not read the earlier misses again: {exc}")
            return record
        await progress(found.summary())
        return replace(record, recheck=found)

    async def _switch_all(
        self, path: Path, previous: str, kind: str, by: str, macro_f1: float | None,
        progress: Progress,
    ) -> Deploy:  # fmt: skip
        ttl = (LOAD_TIMEOUT_S + self._policy.drain_timeout) * (len(self._pool.workers) + 1) * 2
        try:
            async with self._deploys.switching(ttl=ttl):
                switched: list[RasaClient] = []
                for n, worker in enumerate(self._pool.workers, start=1):
                    await progress(f"worker {n}/{len(self._pool.workers)}: loading {path.name}")
                    try:
                        await self._switch(worker, path)
                    except BotUnavailable as exc:
                        await self._undo(switched, previous, progress)
                        raise DeployRefused(
                            f"Rasa worker {n} could not load {path.name}: {exc}; every worker "
                            f"serves {Path(previous).name or 'its earlier model'} again"
                        ) from exc
                    switched.append(worker)
                    await progress(f"worker {n}/{len(self._pool.workers)}: serving {path.name}")
                record = await self._deploys.record(kind, model_id(path), str(path), by,
                                                    macro_f1, previous)  # fmt: skip
        except LockTimeout:
            raise DeployRefused("another deploy is switching the workers; try again when it "
                                "is done") from None  # fmt: skip
        log.info("%s of model %s by %s done", kind, record.model, by)
        return record

    async def _undo(self, switched: list[RasaClient], previous: str, progress: Progress) -> None:
        if not previous:
            return
        for worker in switched:
            await progress(f"putting {Path(previous).name} back on {worker.url}")
            try:
                await self._switch(worker, Path(previous))
            except BotUnavailable as exc:
                log.error("could not put %s back on %s: %s", previous, worker.url, exc)

    async def _switch(self, worker: RasaClient, path: Path) -> None:
        """Drain one worker, wait for its turns in flight, load the model, check, reopen."""
        await self._deploys.drain(worker.url)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._policy.drain_timeout
            while await self._deploys.in_flight(worker.url) > 0:
                if loop.time() >= deadline:
                    # Counted by a gateway that died mid-turn: nothing is really in flight.
                    log.warning("turns counted in flight on %s did not end; going on", worker.url)
                    break
                await asyncio.sleep(IDLE_POLL_S)
            await self._deploys.forget_in_flight(worker.url)
            await worker.load_model(str(path), LOAD_TIMEOUT_S)
            serving = (await worker.status()).get("model_file") or ""
            if model_id(serving) != model_id(path):
                raise BotUnavailable(f"it serves {Path(serving).name} after loading")
        finally:
            await self._deploys.undrain(worker.url)

    # --- keeping the workers on the recorded model ------------------------------------------

    async def reconcile(self, *, at_start: bool = False) -> None:
        """At start, record what the workers serve if it is not the recorded model (the
        operator started Loket with it); later, switch a worker serving another model than
        the recorded one (it was restarted) back to it."""
        serving = await self.serving()
        record = await self._deploys.current()
        files = [f for f in serving.values() if f]
        if not files:
            return
        if at_start and (record is None or model_id(record.model_file) != model_id(files[0])):
            await self._record_start(Path(files[0]))
            return
        if record is None:
            return
        recorded = record.model_file
        for worker in self._pool.workers:
            file = serving.get(worker.url)
            if not file or model_id(file) == model_id(recorded):
                continue
            try:
                async with self._deploys.switching(ttl=LOAD_TIMEOUT_S * 2):
                    # Again under the lock: a deploy may have finished meanwhile.
                    record = await self._deploys.current()
                    file = (await worker.status()).get("model_file") or ""
                    if record is None or model_id(file) == model_id(record.model_file):
                        continue
                    target = record.model_file
                    log.warning("Rasa worker %s serves %s, not the deployed %s; switching it",
                                worker.url, Path(file).name, record.model)  # fmt: skip
                    await self._switch(worker, Path(target))
            except (BotUnavailable, LockTimeout) as exc:
                log.warning("could not switch %s yet: %s", worker.url, exc)

    async def _record_start(self, serving: Path) -> None:
        """Record the model found serving, unless a deploy (or another replica starting)
        recorded it meanwhile: under the deploy lock, so it never lands on top of one."""
        with contextlib.suppress(LockTimeout):  # a deploy is switching: it records
            async with self._deploys.switching(ttl=LOAD_TIMEOUT_S * 2, wait=LOAD_TIMEOUT_S):
                record = await self._deploys.current()
                if record is not None and model_id(record.model_file) == model_id(serving):
                    return
                path = self._local(str(serving))
                scores = self._scores(path)
                await self._deploys.record("start", model_id(path), str(path), "loket run",
                                           scores.macro_f1 if scores else None,
                                           record.model_file if record else "")  # fmt: skip

    def _local(self, model_file: str) -> Path:
        path = Path(model_file)
        if path.is_file():
            return path.resolve()
        return self._models_dir / path.name

    # --- the job runner ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run queued model jobs one at a time until `stop` is set; reconcile meanwhile."""
        with contextlib.suppress(BotUnavailable, StoreUnavailable):
            await self.reconcile(at_start=True)
        loop = asyncio.get_running_loop()
        next_check = loop.time() + RECONCILE_EVERY_S
        while not stop.is_set():
            try:
                job = await self._deploys.take(timeout=1)
                if job is not None:
                    await self._run(job)
                if loop.time() >= next_check:
                    next_check = loop.time() + RECONCILE_EVERY_S
                    await self.reconcile()
            except StoreUnavailable:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5)
            except Exception:  # one failed job or check must not end the runner
                log.exception("model job runner")

    async def _run(self, job: Job) -> None:
        async def progress(line: str) -> None:
            log.info("model job %s: %s", job.id, line)
            await self._deploys.step(job.id, line)

        try:
            result: dict[str, Any]
            if job.kind == "deploy":
                result = (await self.deploy(job.model, job.by, progress)).to_json()
            elif job.kind == "rollback":
                result = (await self.rollback(job.by, progress)).to_json()
            else:
                model = await self._tasks.train(progress)
                scores = await self._scored(model, progress)
                result = {"model": scores.model, "model_file": str(model),
                          "macro_f1": scores.macro_f1}  # fmt: skip
        except LoketError as exc:
            await progress(f"refused: {exc}")
            await self._deploys.finish(job.id, error=str(exc))
            return
        except Exception as exc:
            log.exception("model job %s failed", job.id)
            await self._deploys.finish(job.id, error=f"failed unexpectedly: {exc!r}")
            return
        await self._deploys.finish(job.id, result=result)
