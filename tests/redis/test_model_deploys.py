"""Deploying a model to the Rasa workers: one at a time, drained, refused when worse or broken,
recorded, rolled back; against local servers speaking Rasa's HTTP API and a real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.core.errors import DeployRefused
from bot.core.messages import ConversationKey
from bot.core.metrics import Metrics
from bot.core.scores import IntentScore, Scores, report_folder
from bot.gateway.deployer import Deployer, DeployPolicy, Progress
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from handoff.deploys import Deploys, Recheck
from handoff.review_items import DISMISSED, LABELLED, ReviewFilter, ReviewItems
from handoff.store import Store
from handoff.transcript import Entry, Role, Transcript
from tests.support.builders import make_inbound, make_key
from tests.support.rasa_api import FakeRasa


class ScoredOnly:
    """The deployer's training and scoring: here every model has its report already."""

    async def train(self, progress: Progress) -> Path:
        raise AssertionError("nothing is trained in these tests")

    async def evaluate(self, model: Path, progress: Progress) -> Scores:
        raise AssertionError(f"{model} should have had a report")


def scores(model: str, macro_f1: float) -> Scores:
    return Scores(model, "held.jsonl", 10, macro_f1, macro_f1,
                  {"greet": IntentScore(macro_f1, macro_f1, macro_f1, 10)})  # fmt: skip


def model_file(folder: Path, data_dir: Path, name: str, macro_f1: float) -> Path:
    """A model archive and its saved report."""
    path = folder / f"loket-{name}.tar.gz"
    path.write_bytes(b"model " + name.encode())
    s = scores(name, macro_f1)
    report_folder(data_dir, path).mkdir(parents=True, exist_ok=True)
    (report_folder(data_dir, path) / "report.json").write_text(json.dumps(s.to_json()))
    return path


@pytest.fixture
async def workers() -> AsyncIterator[list[FakeRasa]]:
    started = [FakeRasa(f"w{n}") for n in range(2)]
    for worker in started:
        await worker.start()
    yield started
    for worker in started:
        await worker.close()


class Setup:
    def __init__(self, store: Store, workers: list[FakeRasa], tmp: Path,
                 session: aiohttp.ClientSession) -> None:  # fmt: skip
        self.review = ReviewItems(store)
        self.deploys = Deploys(store)
        self.pool = RasaPool([RasaClient(session, w.url, "token", timeout=5) for w in workers],
                             Metrics(), gate=self.deploys)  # fmt: skip
        self.models = tmp / "models"
        self.models.mkdir()
        self.data = tmp / "var"
        policy = DeployPolicy(tolerance=0.01, drain_timeout=5)
        self.deployer = Deployer(self.pool, self.deploys, self.data, self.models, policy,
                                 ScoredOnly(), self.review)  # fmt: skip
        self.old = model_file(self.models, self.data, "old", 0.90)
        for w in workers:
            w.model_file = str(self.old)


@pytest.fixture
async def setup(store: Store, workers: list[FakeRasa], tmp_path: Path) -> AsyncIterator[Setup]:
    async with aiohttp.ClientSession() as session:
        s = Setup(store, workers, tmp_path, session)
        await s.deployer.reconcile(at_start=True)  # records what the workers serve
        yield s


async def test_a_deploy_switches_one_worker_at_a_time_while_the_other_takes_the_turns(
    setup: Setup, workers: list[FakeRasa]
) -> None:
    new = model_file(setup.models, setup.data, "new", 0.95)
    for w in workers:
        w.load_seconds = 0.6
    lines: list[str] = []

    async def progress(line: str) -> None:
        lines.append(line)

    async def stream() -> int:
        sent = 0
        while not done.is_set():
            for n in range(6):
                await setup.pool.send(make_inbound(f"m{sent}", make_key(f"c{n}")))
                sent += 1
            await asyncio.sleep(0.01)
        return sent

    done = asyncio.Event()
    streaming = asyncio.create_task(stream())
    record = await setup.deployer.deploy("new", "ana", progress)
    done.set()
    sent = await streaming
    assert record.kind == "deploy" and record.model == "new" and record.by == "ana"
    assert record.previous == str(setup.old) and record.macro_f1 == 0.95
    assert [w.model_file for w in workers] == [str(new)] * 2
    # One at a time, and no turn reached a worker while it loaded.
    first, second = (w.loading for w in workers)
    assert first is not None and second is not None and first[1] <= second[0]
    for w in workers:
        assert w.loading is not None
        start, end = w.loading
        assert not [t for t in w.heard_at if start < t < end], w.name
    assert sum(len(w.heard) for w in workers) == sent  # every turn answered once
    assert any("worker 2/2: serving" in line for line in lines)
    assert (await setup.deploys.current()) == record
    assert await setup.deploys.draining() == set()


async def test_a_worse_model_is_refused_and_no_worker_touched(
    setup: Setup, workers: list[FakeRasa]
) -> None:
    model_file(setup.models, setup.data, "worse", 0.85)
    with pytest.raises(DeployRefused) as caught:
        await setup.deployer.deploy("worse", "ana")
    message = str(caught.value)
    assert "0.850" in message and "0.900" in message and "tolerance is 0.010" in message
    assert "Worse on: greet" in message
    assert all(w.loads == [] for w in workers)
    # Within the tolerance it goes.
    model_file(setup.models, setup.data, "close", 0.895)
    assert (await setup.deployer.deploy("close", "ana")).model == "close"


async def test_a_model_that_fails_to_load_is_refused_and_the_switched_worker_goes_back(
    setup: Setup, workers: list[FakeRasa]
) -> None:
    broken = model_file(setup.models, setup.data, "broken", 0.99)
    first, second = workers
    second.refused_models.add(str(broken))
    with pytest.raises(DeployRefused, match=r"worker 2 could not load loket-broken\.tar\.gz.*"
                       r"cannot read.*serves loket-old\.tar\.gz again"):  # fmt: skip
        await setup.deployer.deploy("broken", "ana")
    assert first.loads == [str(broken), str(setup.old)]
    assert [w.model_file for w in workers] == [str(setup.old)] * 2
    assert (await setup.deploys.current()).model == "old"  # type: ignore[union-attr]
    assert await setup.deploys.draining() == set()


async def test_rollback_returns_to_the_model_served_before(
    setup: Setup, workers: list[FakeRasa]
) -> None:
    new = model_file(setup.models, setup.data, "new", 0.95)
    await setup.deployer.deploy(str(new), "ana")
    with pytest.raises(DeployRefused, match="already serving"):
        await setup.deployer.deploy("new", "ana")
    back = await setup.deployer.rollback("budi")
    assert back.kind == "rollback" and back.model == "old" and back.by == "budi"
    assert [w.model_file for w in workers] == [str(setup.old)] * 2
    assert [d.kind for d in await setup.deploys.history()] == ["rollback", "deploy", "start"]
    with pytest.raises(DeployRefused, match="no model 'nope'"):
        await setup.deployer.deploy("nope", "ana")


async def test_with_one_worker_a_turn_waits_while_it_loads_and_is_answered_after(
    store: Store, workers: list[FakeRasa], tmp_path: Path
) -> None:
    only = workers[0]
    async with aiohttp.ClientSession() as session:
        deploys = Deploys(store)
        pool = RasaPool([RasaClient(session, only.url, "token", timeout=5)], Metrics(),
                        gate=deploys)  # fmt: skip
        await deploys.drain(only.url)
        waiting = asyncio.create_task(pool.send(make_inbound("halo", make_key("c1"))))
        await asyncio.sleep(0.5)
        assert not waiting.done() and only.heard == []
        reopened = time.monotonic()
        await deploys.undrain(only.url)
        turn = await waiting
        assert [m for _, m in only.heard] == ["halo"] and only.heard_at[0] >= reopened
        assert turn.replies and await deploys.in_flight(only.url) == 0


async def test_a_queued_deploy_job_is_run_by_the_gateway_with_its_progress(
    setup: Setup, workers: list[FakeRasa]
) -> None:
    model_file(setup.models, setup.data, "new", 0.95)
    stop = asyncio.Event()
    runner = asyncio.create_task(setup.deployer.run(stop))
    job = await setup.deploys.queue("deploy", "ana", "new")
    refused = await setup.deploys.queue("deploy", "ana", "missing")
    for _ in range(100):
        done = await setup.deploys.job(refused.id)
        if done is not None and done.status == "failed":
            break
        await asyncio.sleep(0.1)
    stop.set()
    await runner
    finished = await setup.deploys.job(job.id)
    assert finished is not None and finished.status == "done", finished
    assert finished.result["model"] == "new" and any("serving" in s for s in finished.steps)
    failed = await setup.deploys.job(refused.id)
    assert failed is not None and failed.status == "failed" and "no model" in failed.error
    assert (await setup.deploys.latest_job()) == failed


async def test_models_scored_on_different_held_out_sets_are_not_compared(
    setup: Setup, workers: list[FakeRasa]
) -> None:
    other = model_file(setup.models, setup.data, "other", 0.99)
    folder = report_folder(setup.data, other)
    data = json.loads((folder / "report.json").read_text())
    (folder / "report.json").write_text(json.dumps({**data, "dataset": "mine.jsonl"}))
    with pytest.raises(DeployRefused, match=r"different held-out sets \(mine\.jsonl and held"):
        await setup.deployer.deploy("other", "ana")
    assert all(w.loads == [] for w in workers)


async def test_after_a_deploy_the_earlier_misses_are_read_again_and_counted(
    store: Store, setup: Setup, workers: list[FakeRasa]
) -> None:
    """Four misses before the deploy (two labelled, one dismissed besides), read again by the
    new model: the deploy's record keeps how many it understands now."""
    transcript = Transcript(store)
    key = ConversationKey("telegram", "42")
    for text in ("tagihan pdam brp", "asdf", "token ga masuk2", "cuaca besok", "xyz"):
        await transcript.append(key, [Entry(Role.CUSTOMER, text)])
        await transcript.append(key, [Entry(Role.BOT, "Maaf?", intent="nlu_fallback",
                                            confidence=0.3)])  # fmt: skip
    assert await setup.review.scan() == 5
    items = {i.text: i for i in await setup.review.items(ReviewFilter(status=""))}
    await setup.review.decide([items["token ga masuk2"]], status=LABELLED, by="tia",
                              intent="check_token")  # fmt: skip
    await setup.review.decide([items["cuaca besok"]], status=LABELLED, by="tia",
                              intent="out_of_scope")  # fmt: skip
    await setup.review.decide([items["xyz"]], status=DISMISSED, by="tia")
    new = model_file(setup.models, setup.data, "new", 0.95)
    for w in workers:
        w.understands[str(new)] = {
            "tagihan pdam brp": "check_bill", "token ga masuk2": "check_token",
            "cuaca besok": "greet", "xyz": "greet",
        }  # fmt: skip
    lines: list[str] = []

    async def progress(line: str) -> None:
        lines.append(line)

    record = await setup.deployer.deploy("new", "tia", progress)
    # pdam: an intent now (unlabelled); asdf: still falls back; the token question gets its
    # label; the weather was labelled out of scope but now gets greet; xyz was dismissed.
    assert record.recheck is not None
    assert (record.recheck.items, record.recheck.understood) == (4, 2)
    assert (record.recheck.labelled, record.recheck.labelled_right, record.recheck.unread) == (
        2, 1, 0,
    )  # fmt: skip
    assert "2 of 4 earlier misses now understood (1 of 2 labelled ones get their label)" in lines
    assert (await setup.deploys.history(1))[0].recheck == record.recheck
    # Rolled back to the old model, which understands none of them: only the weather, refused
    # again, is right.
    back = await setup.deployer.rollback("tia")
    assert back.recheck == Recheck(4, 1, 2, 1, 0, back.recheck.at if back.recheck else 0)


async def test_a_recheck_rasa_cannot_answer_leaves_the_deploy_done(
    store: Store, setup: Setup, workers: list[FakeRasa]
) -> None:
    transcript = Transcript(store)
    key = ConversationKey("telegram", "43")
    await transcript.append(key, [Entry(Role.CUSTOMER, "asdf")])
    await transcript.append(key, [Entry(Role.BOT, "Maaf?", intent="nlu_fallback", confidence=0.3)])
    model_file(setup.models, setup.data, "new", 0.95)
    for w in workers:
        w.failing_parse = True
    record = await setup.deployer.deploy("new", "tia")
    assert (
        record.model == "new"
        and [w.model_file for w in workers] == [str(setup.models / "loket-new.tar.gz")] * 2
    )
    assert record.recheck == Recheck(0, 0, 0, 0, 1, record.recheck.at if record.recheck else 0)


async def test_the_gate_counts_every_gateways_turns_and_passes_draining_workers_over(
    store: Store,
) -> None:
    one, other = Deploys(store), Deploys(store)  # two gateways on one Redis
    assert await one.enter_least(["w1", "w2"]) == "w1"  # equally idle: the preferred one
    assert await other.enter_least(["w1", "w2"]) == "w2"  # w1 has the first gateway's turn
    assert await one.enter_least(["w2", "w1"]) == "w2"  # one each: the preferred one
    await other.leave("w1")
    assert await one.enter_least(["w2", "w1"]) == "w1"  # now the least busy
    await one.drain("w1")
    assert await other.enter_least(["w1", "w2"]) == "w2"
    await one.drain("w2")
    assert await other.enter_least(["w1", "w2"]) is None  # all loading a model
    assert (await one.in_flight("w1"), await one.in_flight("w2")) == (1, 3)


async def test_the_start_record_never_lands_on_top_of_a_deploy_made_meanwhile(
    store: Store, workers: list[FakeRasa], tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session:
        s = Setup(store, workers, tmp_path, session)
        async with s.deploys.switching(ttl=30):  # a deploy elsewhere is switching the workers
            starting = asyncio.create_task(s.deployer.reconcile(at_start=True))
            await asyncio.sleep(0.3)
            await s.deploys.record("deploy", "old", str(s.old), "ana", 0.9, "")
        await starting
    assert [(d.kind, d.by) for d in await s.deploys.history()] == [("deploy", "ana")]
