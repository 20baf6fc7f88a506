"""How the gateway is doing: GET /healthz (Redis, the Rasa workers and their model, the action
server, the provider) and GET /metrics (Prometheus).

Anyone gets /healthz's overall status (200 or 503, for load balancers); the parts with their
addresses and errors only a caller with LOKET_HEALTH_TOKEN, or one on this machine. /metrics
goes to a scraper with LOKET_METRICS_TOKEN, or without one set only to this machine.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core.clients import FORWARDING_HEADERS, is_loopback
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


AddressOf = Callable[[str | None, str | None], str]  # bot.core.clients.resolver's result


def _shows(request: web.Request, token: str) -> bool:
    """The request carries `Authorization: Bearer <token>`."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme == "Bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _this_machine(request: web.Request, address_of: AddressOf) -> bool:
    """From this machine itself, not through a proxy on it (a forwarded request may come from
    anywhere)."""
    client = address_of(request.remote, request.headers.get("X-Forwarded-For"))
    forwarded = any(h in request.headers for h in FORWARDING_HEADERS)
    return is_loopback(client) and not forwarded


def may_see_details(request: web.Request, token: str, address_of: AddressOf) -> bool:
    """/healthz's parts: with `Authorization: Bearer <LOKET_HEALTH_TOKEN>`, or from this machine
    (a wrong token shown is refused even there)."""
    if token and request.headers.get("Authorization", "").startswith("Bearer "):
        return _shows(request, token)
    return _this_machine(request, address_of)


def may_scrape(request: web.Request, token: str, address_of: AddressOf) -> bool:
    """/metrics: a scraper that shows LOKET_METRICS_TOKEN when one is set; without one, only
    this machine."""
    return _shows(request, token) if token else _this_machine(request, address_of)


def response(report: dict[str, Any], *, details: bool) -> web.Response:
    status = 200 if report["status"] == "ok" else 503
    return web.json_response(report if details else {"status": report["status"]}, status=status)


def exposition(metrics: Metrics) -> web.Response:
    # aiohttp refuses a content_type with parameters; Prometheus wants its version parameter.
    return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
