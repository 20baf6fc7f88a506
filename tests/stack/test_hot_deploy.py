"""Deploying a model to the running stack's two Rasa workers while customers keep writing: no
message lost, repeated or reordered; a worse model refused; the held-out report produced."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.core.scores import model_id, read_scores, report_folder
from bot.core.settings import PROJECT_ROOT, Settings
from handoff import keys
from handoff.deploys import Deploys, Job
from handoff.store import Store
from tests.support.chat import Customer
from tests.support.models import worse_model

SAMPLE = PROJECT_ROOT / "bench" / "datasets" / "sample_heldout.jsonl"  # 64 examples: quick
GREETINGS = ("halo", "hai kak", "selamat pagi", "halo min", "permisi kak")
CUSTOMERS = 4
PAUSE_S = 1.0  # between one customer's messages: a steady stream, not a load test
JOB_TIMEOUT_S = 900


def evaluate(model: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`loket evaluate`, as a trainer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.cli", "evaluate", "--model", str(model),
         "--dataset", str(SAMPLE)],
        cwd=PROJECT_ROOT, env={**os.environ, "LOKET_DATA_DIR": str(data_dir)},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.fixture(scope="module")
def scored_model(model: Path, stack_settings: Settings) -> Path:
    """The project's model with its held-out report, made by `loket evaluate`."""
    # Other tests (the Models page's) may have left a small report of this model behind.
    found = read_scores(stack_settings.data_dir, model)
    if found is None or found.examples != 64:
        done = evaluate(model, stack_settings.data_dir)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "macro-F1" in done.stdout and "confusion matrix:" in done.stdout
    return model


@pytest.fixture
async def busy_client(settings: Settings) -> AsyncIterator[TestClient]:
    """The production app, with the web chat's limits raised for a steady stream from one
    address, and the longest bot timeout: on a small machine a worker loading a model slows the
    other one down, and a turn given up would be a handoff, not a loss to count here."""
    roomy = dataclasses.replace(settings, webchat_per_minute=10_000,
                                webchat_address_per_minute=100_000, bot_timeout=55)  # fmt: skip
    async with TestClient(TestServer(create_app(roomy))) as c:
        yield c


async def run_job(deploys: Deploys, job: Job) -> Job:
    for _ in range(JOB_TIMEOUT_S * 2):
        found = await deploys.job(job.id)
        assert found is not None
        if found.status in ("done", "failed"):
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{job.kind} did not finish: {await deploys.job(job.id)}")


async def serving(settings: Settings) -> set[str]:
    """The model file name each Rasa worker serves, from its own /status."""
    found = set()
    async with aiohttp.ClientSession() as session:
        for url in settings.rasa_urls:
            async with session.get(f"{url}/status", params={"token": settings.rasa_token}) as r:
                found.add((await r.json())["model_file"])
    return found


def test_evaluate_writes_the_report_the_confusion_matrix_and_the_misclassified(
    scored_model: Path, stack_settings: Settings
) -> None:
    folder = report_folder(stack_settings.data_dir, scored_model)
    scores = read_scores(stack_settings.data_dir, scored_model)
    assert scores is not None and scores.examples == 64 and scores.model == model_id(scored_model)
    gold = {json.loads(line)["intent"] for line in SAMPLE.read_text().splitlines() if line}
    assert 0.8 < scores.macro_f1 <= 1.0 and gold <= set(scores.intents)  # and what it guessed
    assert (folder / "confusion.png").read_bytes().startswith(b"\x89PNG")
    page = (folder / "report.html").read_text()
    assert "<h2>Per intent</h2>" in page and "buy_token" in page
    assert all(m.text in page for m in scores.misses if "<" not in m.text)


async def test_a_hot_deploy_and_rollback_under_a_stream_lose_repeat_and_reorder_nothing(
    scored_model: Path, busy_client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    # The same model under another name: Rasa loads it in full, as it would any new model.
    twin = tmp_path / f"loket-twin{model_id(scored_model)}.tar.gz"
    shutil.copy(scored_model, twin)
    source = report_folder(settings.data_dir, scored_model)
    shutil.copytree(source, report_folder(settings.data_dir, twin))
    store = Store.from_url(settings.redis_url or "")
    deploys = Deploys(store)
    stop = asyncio.Event()
    sent: dict[str, list[str]] = {}
    customers = {f"hot-{n}": Customer(busy_client, f"hot-{n}") for n in range(CUSTOMERS)}

    async def customer(n: int) -> None:
        who = customers[f"hot-{n}"]
        said = sent.setdefault(f"hot-{n}", [])
        while not stop.is_set():
            text = GREETINGS[len(said) % len(GREETINGS)]
            said.append(text)
            assert await who.say(text), (n, len(said))
            await asyncio.sleep(PAUSE_S)

    stream = [asyncio.create_task(customer(n)) for n in range(CUSTOMERS)]
    try:
        await asyncio.sleep(2)
        deployed = await run_job(deploys, await deploys.queue("deploy", "test", str(twin)))
        assert deployed.status == "done", deployed
        assert await serving(settings) == {twin.name}
        rolled = await run_job(deploys, await deploys.queue("rollback", "test"))
        assert rolled.status == "done", rolled
        assert await serving(settings) == {scored_model.name}
        await asyncio.sleep(1)
    finally:
        stop.set()
        await asyncio.gather(*stream)
    history = [d.kind for d in await deploys.history()]
    assert history[:2] == ["rollback", "deploy"]
    total = 0
    for chat_id, said in sent.items():
        # What the gateway recorded and what Rasa's tracker holds: each message once, in order,
        # each answered by the bot, nobody handed over.
        lines = await customers[chat_id].history()
        assert [m["text"] for m in lines if m["role"] == "customer"] == said, chat_id
        roles = [m["role"] for m in lines]
        assert roles.count("bot") >= len(said) and "system" not in roles, chat_id
        conversation = f"webchat:{chat_id}"
        raw = await store.redis.get(keys.rasa_tracker(conversation))
        tracker = json.loads(raw or "{}")
        heard = [e["text"] for e in tracker.get("events", []) if e.get("event") == "user"]
        assert heard == said, chat_id
        total += len(said)
    assert total >= CUSTOMERS * 10  # the stream ran through both switches
    await store.close()


async def test_a_worse_model_is_refused_and_the_current_one_keeps_serving(
    scored_model: Path, client: TestClient, settings: Settings
) -> None:
    worse = worse_model()
    done = evaluate(worse, settings.data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"against model {model_id(scored_model)}" in done.stdout
    store = Store.from_url(settings.redis_url or "")
    deploys = Deploys(store)
    try:
        refused = await run_job(deploys, await deploys.queue("deploy", "test", str(worse)))
    finally:
        await store.close()
    assert refused.status == "failed"
    assert f"below the serving model {model_id(scored_model)}" in refused.error
    assert await serving(settings) == {scored_model.name}
    assert await Customer(client, "after-refusal").say("halo")
