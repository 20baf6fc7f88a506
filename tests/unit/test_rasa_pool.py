"""The gateway's pool of Rasa workers, against local servers speaking the loket channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.core.errors import BotUnavailable, BotUnreachable
from bot.core.metrics import Metrics
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from bot.ops.processes import free_port
from tests.support.builders import make_inbound, make_key
from tests.support.rasa_api import FakeRasa


@pytest.fixture
async def workers() -> AsyncIterator[list[FakeRasa]]:
    started = [FakeRasa(f"w{n}") for n in range(3)]
    for worker in started:
        await worker.start()
    yield started
    for worker in started:
        await worker.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def pool_of(session: aiohttp.ClientSession, urls: list[str], metrics: Metrics) -> RasaPool:
    return RasaPool([RasaClient(session, u, "token", timeout=5) for u in urls], metrics)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_conversation_stays_with_one_worker_and_conversations_spread(
    workers: list[FakeRasa], session: aiohttp.ClientSession
) -> None:
    pool = pool_of(session, [w.url for w in workers], Metrics())
    keys = [make_key(f"c{n}") for n in range(30)]
    for _ in range(3):
        for key in keys:
            await pool.send(make_inbound("halo", key))
    served_by = {key.id: {w.name for w in workers if any(s == key.id for s, _ in w.heard)}
                 for key in keys}  # fmt: skip
    assert all(len(names) == 1 for names in served_by.values())
    assert all(len(w.heard) >= 9 for w in workers)  # 30 conversations over 3: none idle


async def test_a_burst_hashing_would_pile_on_one_worker_spreads_over_the_idle_ones(
    workers: list[FakeRasa], session: aiohttp.ClientSession
) -> None:
    pool = pool_of(session, [w.url for w in workers], Metrics())
    home = workers[0].url
    keys = [k for k in (make_key(f"p{n}") for n in range(200)) if pool.order(k)[0].url == home]
    keys = keys[:6]
    assert len(keys) == 6  # six conversations whose own worker is the first
    for w in workers:
        w.answer_seconds = 0.2
    await asyncio.gather(*(pool.send(make_inbound("halo", k)) for k in keys))
    assert [len(w.heard) for w in workers] == [2, 2, 2]  # each took two of the six at once
    # One at a time, each goes to its own worker again.
    for key in keys:
        await pool.send(make_inbound("lagi", key))
    assert len(workers[0].heard) == 2 + 6


async def test_an_unreachable_worker_is_taken_out_and_its_conversations_move(
    workers: list[FakeRasa], session: aiohttp.ClientSession
) -> None:
    metrics = Metrics()
    dead_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    pool = pool_of(session, [dead_url, *(w.url for w in workers[:2])], metrics)
    keys = [make_key(f"m{n}") for n in range(20)]
    turns = [await pool.send(make_inbound("halo", key)) for key in keys]
    assert all(t.replies[0].text.endswith("heard halo") for t in turns)
    assert len(workers[0].heard) + len(workers[1].heard) == 20  # every message answered once
    assert pool.up() == [workers[0].url, workers[1].url]
    assert sample(metrics, "loket_rasa_workers_up") == 2
    assert sample(metrics, "loket_rasa_errors_total", worker=dead_url, kind="unreachable") == 1


async def test_a_worker_taken_out_comes_back_when_it_answers_again(
    workers: list[FakeRasa], session: aiohttp.ClientSession
) -> None:
    port = free_port()
    late = FakeRasa("late")
    pool = pool_of(session, [f"http://127.0.0.1:{port}", workers[0].url], Metrics())
    for n in range(10):
        await pool.send(make_inbound("halo", make_key(f"b{n}")))
    assert pool.up() == [workers[0].url]
    await late.start(port=port)
    try:
        await pool.probe()
        assert pool.up() == [f"http://127.0.0.1:{port}", workers[0].url]
        for n in range(10):
            await pool.send(make_inbound("halo", make_key(f"b{n}")))
        assert late.heard  # its conversations came back to it
    finally:
        await late.close()


async def test_a_worker_failing_mid_turn_is_not_retried_elsewhere(
    workers: list[FakeRasa], session: aiohttp.ClientSession
) -> None:
    """The turn may have happened in Rasa: sending it again could do it twice."""
    metrics = Metrics()
    pool = pool_of(session, [w.url for w in workers], metrics)
    key = make_key("failing")
    await pool.send(make_inbound("halo", key))
    [home] = [w for w in workers if w.heard]
    home.failing = True
    with pytest.raises(BotUnavailable) as caught:
        await pool.send(make_inbound("lagi", key))
    assert not isinstance(caught.value, BotUnreachable)
    assert sum(len(w.heard) for w in workers) == 1
    assert sample(metrics, "loket_rasa_errors_total", worker=home.url, kind="failed") == 1


async def test_no_worker_reachable_is_bot_unreachable(session: aiohttp.ClientSession) -> None:
    pool = pool_of(session, [f"http://127.0.0.1:{free_port()}"], Metrics())
    with pytest.raises(BotUnreachable, match="no Rasa worker could be reached"):
        await pool.send(make_inbound())


async def test_pause_and_resume_reach_the_conversations_worker(
    workers: list[FakeRasa], session: aiohttp.ClientSession
) -> None:
    pool = pool_of(session, [w.url for w in workers], Metrics())
    key = make_key("paused")
    await pool.send(make_inbound("halo", key))
    await pool.pause(key)
    await pool.resume(key)
    [home] = [w for w in workers if w.heard]
    assert home.events == [(key.id, "pause"), (key.id, "resume")]
    assert (await pool.status())["model_file"].endswith(".tar.gz")
