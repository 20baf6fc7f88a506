"""/healthz: a public liveness answer; its parts, addresses and errors only for the operator."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.core.clients import parse_networks
from bot.core.settings import Settings

RASA_TOKEN = "rasa-token-that-must-not-leak"


async def not_rasa(request: web.Request) -> web.Response:
    """Answers /status with a page instead of JSON: the client's error quotes the URL."""
    return web.Response(text="<html>maintenance</html>", content_type="text/html")


async def gateway(redis_url: str, tmp: Path, rasa_url: str, **kw: Any) -> TestClient:
    settings = Settings(redis_url=redis_url, rasa_urls=(rasa_url,), rasa_token=RASA_TOKEN,
                        data_dir=tmp, actions_url=rasa_url)  # fmt: skip
    client = TestClient(TestServer(create_app(dataclasses.replace(settings, **kw))))
    await client.start_server()
    return client


async def fake_rasa() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/status", not_rasa)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


async def test_the_public_gets_only_the_status(redis_url: str, tmp_path: Path) -> None:
    async for rasa in fake_rasa():
        url = str(rasa.make_url("")).rstrip("/")
        client = await gateway(
            redis_url, tmp_path, url, trusted_proxies=parse_networks("127.0.0.1")
        )
        try:
            for headers in (
                {"X-Forwarded-For": "203.0.113.9"},  # through the proxy
                {"X-Real-IP": "203.0.113.9"},  # a proxy on this machine
                {"Authorization": "Bearer guessed", "X-Forwarded-For": "203.0.113.9"},
            ):
                resp = await client.get("/healthz", headers=headers)
                assert resp.status == 503  # Rasa is not Rasa: degraded
                assert await resp.json() == {"status": "degraded"}
        finally:
            await client.close()


async def test_details_for_this_machine_and_the_health_token_without_secrets(
    redis_url: str, tmp_path: Path
) -> None:
    async for rasa in fake_rasa():
        url = str(rasa.make_url("")).rstrip("/")
        client = await gateway(redis_url, tmp_path, url, health_token="h-token")
        try:
            local = await client.get("/healthz")  # from 127.0.0.1, no proxy in between
            with_token = await client.get(
                "/healthz", headers={"Authorization": "Bearer h-token", "X-Forwarded-For": "x"}
            )
            for resp in (local, with_token):
                body = await resp.text()
                assert resp.status == 503 and '"redis": {"ok": true}' in body
                assert '"model": {"ok": false' in body and "/status" in body
                assert RASA_TOKEN not in body
        finally:
            await client.close()


async def test_livez_is_public(redis_url: str, tmp_path: Path) -> None:
    client = await gateway(redis_url, tmp_path, "http://127.0.0.1:9")
    try:
        resp = await client.get("/livez", headers={"X-Forwarded-For": "203.0.113.9"})
        assert resp.status == 200 and await resp.json() == {"status": "ok"}
    finally:
        await client.close()
