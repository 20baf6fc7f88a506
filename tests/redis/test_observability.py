"""What the gateway tells an operator: Prometheus metrics and JSON log lines, through the app
production uses, with local Rasa workers speaking the loket channel."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.core.settings import Settings
from bot.ops.logs import json_formatter
from tests.support.chat import Customer
from tests.support.rasa_api import FakeRasa


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    worker = FakeRasa("w1")
    await worker.start()
    yield worker
    await worker.close()


def settings_for(redis_url: str, rasa: FakeRasa, tmp_path: Path, **kw: str) -> Settings:
    return Settings(
        redis_url=redis_url, rasa_urls=(rasa.url,), data_dir=tmp_path, rasa_token="t", **kw
    )


async def test_metrics_count_messages_turns_and_the_rasa_round_trip(
    redis_url: str, rasa: FakeRasa, tmp_path: Path
) -> None:
    app = create_app(settings_for(redis_url, rasa, tmp_path))
    async with TestClient(TestServer(app)) as client:
        customer = Customer(client, "m1")
        await customer.say("halo")
        await customer.say("apa kabar")
        resp = await client.get("/metrics")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    lines = set(text.splitlines())
    assert 'loket_messages_in_total{channel="webchat"} 2.0' in lines
    assert 'loket_messages_out_total{channel="webchat",role="bot"} 2.0' in lines
    assert 'loket_turn_seconds_count{outcome="bot"} 2.0' in lines
    assert 'loket_understanding_total{result="understood"} 2.0' in lines
    assert f'loket_rasa_seconds_count{{worker="{rasa.url}"}} 2.0' in lines
    assert "loket_rasa_workers_up 1.0" in lines
    assert 'loket_stream_backlog{stream="inbound"} 0.0' in lines


async def test_metrics_want_the_token_when_one_is_set(
    redis_url: str, rasa: FakeRasa, tmp_path: Path
) -> None:
    app = create_app(settings_for(redis_url, rasa, tmp_path, metrics_token="scrape-me"))
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics")).status == 403
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 403
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status == 200 and "loket_messages_in" in await right.text()


async def test_a_turns_log_lines_name_their_conversation(
    redis_url: str, rasa: FakeRasa, tmp_path: Path
) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    router_log = logging.getLogger("bot.gateway.router")
    router_log.addHandler(handler)
    level = router_log.level
    router_log.setLevel(logging.INFO)
    try:
        app = create_app(settings_for(redis_url, rasa, tmp_path))
        async with TestClient(TestServer(app)) as client:
            await Customer(client, "logged").say("halo")
    finally:
        router_log.removeHandler(handler)
        router_log.setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines and all(line["conversation"] == "webchat:logged" for line in lines)
