"""How the gateway is doing: GET /healthz (Redis, the Rasa workers and their model, the action
server, the provider) and GET /metrics (Prometheus)."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core.errors import BotUnavailable
from bot.core.metrics import Metrics
from bot.gateway.rasa_pool import RasaPool
from handoff.errors import StoreUnavailable
from handoff.store import Store


async def _redis(store: Store) -> dict[str, Any]:
    try:
        await store.ping()
    except StoreUnavailable as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


async def _model(rasa: RasaPool) -> dict[str, Any]:
    try:
        status = await rasa.status()
    except BotUnavailable as exc:
        return {"ok": False, "error": str(exc)}
    model_file = status.get("model_file")
    workers = {"up": rasa.up(), "down": sorted({w.url for w in rasa.workers} - set(rasa.up()))}
    return {"ok": bool(model_file), "file": model_file, "id": status.get("model_id"),
            "workers": workers}  # fmt: skip


async def _http(session: aiohttp.ClientSession, url: str, what: str) -> dict[str, Any]:
    try:
        async with session.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=3)) as resp:
            return {"ok": resp.status == 200}
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return {"ok": False, "error": f"{what} unreachable: {exc!r}"}


async def check(
    store: Store,
    rasa: RasaPool,
    session: aiohttp.ClientSession,
    actions_url: str,
    provider_url: str | None,
) -> dict[str, Any]:
    parts: dict[str, Awaitable[dict[str, Any]]] = {
        "redis": _redis(store),
        "model": _model(rasa),
        "action_server": _http(session, actions_url, "action server"),
    }
    if provider_url:  # the utility's API as the actions see it
        parts["provider"] = _http(session, provider_url, "provider")
    results = dict(zip(parts, await asyncio.gather(*parts.values()), strict=True))
    healthy = all(r["ok"] for r in results.values())
    return {"status": "ok" if healthy else "degraded", **results}


def response(report: dict[str, Any]) -> web.Response:
    return web.json_response(report, status=200 if report["status"] == "ok" else 503)


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def may_scrape(request: web.Request, token: str) -> bool:
    """Metrics go to a scraper that shows the token, or without one only to this machine."""
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return request.remote in LOOPBACK


def exposition(metrics: Metrics) -> web.Response:
    # aiohttp refuses a content_type with parameters; Prometheus wants its version parameter.
    return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
