"""GET /healthz: the state of Redis, the Rasa model, the action server and the provider.

Anyone gets the overall status (200 or 503, for load balancers); the parts with their
addresses and errors only a caller with LOKET_HEALTH_TOKEN, or one on this machine.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import Any

import aiohttp
from aiohttp import web

from bot.core.clients import is_loopback
from bot.core.errors import BotUnavailable
from bot.gateway.rasa_client import RasaClient
from handoff.errors import StoreUnavailable
from handoff.store import Store


async def _redis(store: Store) -> dict[str, Any]:
    try:
        await store.ping()
    except StoreUnavailable as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


async def _model(rasa: RasaClient) -> dict[str, Any]:
    try:
        status = await rasa.status()
    except BotUnavailable as exc:
        return {"ok": False, "error": str(exc)}
    model_file = status.get("model_file")
    return {"ok": bool(model_file), "file": model_file, "id": status.get("model_id")}


async def _http(session: aiohttp.ClientSession, url: str, what: str) -> dict[str, Any]:
    try:
        async with session.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=3)) as resp:
            return {"ok": resp.status == 200}
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return {"ok": False, "error": f"{what} unreachable: {exc!r}"}


async def check(
    store: Store,
    rasa: RasaClient,
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


def may_see_details(authorization: str, token: str, client: str, forwarded: bool) -> bool:
    """With `Authorization: Bearer <LOKET_HEALTH_TOKEN>`, or from this machine itself (not
    through a proxy on it: a forwarded request may come from anywhere)."""
    if token and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization[7:].strip().encode(), token.encode())
    return is_loopback(client) and not forwarded


def response(report: dict[str, Any], *, details: bool) -> web.Response:
    status = 200 if report["status"] == "ok" else 503
    return web.json_response(report if details else {"status": report["status"]}, status=status)
