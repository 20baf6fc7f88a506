"""The sandbox provider's JSON HTTP API: thin handlers over the sandbox utility."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox import inputs
from bot.sandbox.callbacks import Callbacks
from bot.sandbox.errors import Conflict, InvalidInput, NotFound, SandboxError
from bot.sandbox.utility import ORDER_TTL, Utility
from handoff.errors import StoreUnavailable
from handoff.store import Store

log = logging.getLogger(__name__)

UTILITY = web.AppKey("utility", Utility)
STORE = web.AppKey("store", Store)

_STATUS: tuple[tuple[type[SandboxError], int], ...] = (
    (InvalidInput, 400),
    (NotFound, 404),
    (Conflict, 409),
)
_TOO_LARGE = f"the request body is too large (at most {inputs.MAX_BODY} bytes)"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, code: str, **headers: str) -> web.Response:
    return web.json_response({"error": message, "code": code}, status=status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON with a `code`; bad input is a 4xx, never a 5xx."""
    if (request.content_length or 0) > inputs.MAX_BODY:
        return _error(413, _TOO_LARGE, "body_too_large")
    try:
        return await handler(request)
    except SandboxError as exc:
        status = next((s for kind, s in _STATUS if isinstance(exc, kind)), 400)
        return _error(status, str(exc), exc.code)
    except StoreUnavailable:
        log.warning("%s %s: Redis unavailable", request.method, request.path)
        return _error(503, "storage is unavailable, try again shortly", "store_unavailable")
    except web.HTTPRequestEntityTooLarge:
        return _error(413, _TOO_LARGE, "body_too_large")
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _error(exc.status, exc.reason, exc.reason.lower().replace(" ", "_"))
        raise


@web.middleware
async def seed_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The demo data is there for every request, even after someone flushed Redis."""
    await request.app[UTILITY].ensure_seeded()
    return await handler(request)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    return inputs.json_object(await request.read())


async def health(request: web.Request) -> web.Response:
    await request.app[STORE].ping()
    return _json({"status": "ok"})


async def customer(request: web.Request) -> web.Response:
    found = await request.app[UTILITY].customer(request.match_info["number"])
    return _json(found.as_json())


async def customer_transactions(request: web.Request) -> web.Response:
    limit = inputs.limit(request.query)
    found = await request.app[UTILITY].latest_transactions(request.match_info["number"], limit)
    return _json({"transactions": [t.as_json() for t in found]})


async def quote(request: web.Request) -> web.Response:
    order = inputs.token_request(await _body(request))
    return _json((await request.app[UTILITY].quote(order)).as_json())


async def create_order(request: web.Request) -> web.Response:
    order = inputs.token_request(await _body(request))
    return _json((await request.app[UTILITY].order(order)).as_json(), status=201)


async def transaction(request: web.Request) -> web.Response:
    found = await request.app[UTILITY].transaction(request.match_info["ref"])
    return _json(found.as_json())


async def pay(request: web.Request) -> web.Response:
    paid = await request.app[UTILITY].pay(request.match_info["ref"])
    return _json(paid.as_json())


async def bill(request: web.Request) -> web.Response:
    found = await request.app[UTILITY].bill(request.match_info["customer_id"])
    return _json(found.as_json())


async def open_complaint(request: web.Request) -> web.Response:
    complaint = inputs.complaint_request(await _body(request))
    ticket, created = await request.app[UTILITY].open_complaint(complaint)
    # The same customer reporting the same outage again: its ticket, not a second one.
    return _json({**ticket.as_json(), "existing": not created}, status=201 if created else 200)


async def complaint(request: web.Request) -> web.Response:
    ticket = await request.app[UTILITY].complaint(request.match_info["ticket_id"])
    return _json(ticket.as_json())


async def outages(request: web.Request) -> web.Response:
    area = inputs.area_query(request.query)
    found = await request.app[UTILITY].outages(area)
    return _json({"area": area, "outages": [o.as_json() for o in found]})


async def _seeded(app: web.Application) -> AsyncIterator[None]:
    await app[UTILITY].seed()
    yield


def _running(callbacks: Callbacks | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if callbacks is not None:
            await callbacks.start()
        yield
        await app[UTILITY].close()
        if callbacks is not None:
            await callbacks.close()

    return ctx


def create_app(
    store: Store,
    *,
    pay_delay: float,
    seed: bool,
    order_ttl: float = ORDER_TTL,
    callback_url: str | None = None,
    callback_secret: str = "",
    callback_backoff: float = 1.0,
) -> web.Application:
    """The sandbox provider on `store` (the caller owns and closes it).

    An order counts as paid `pay_delay` seconds after it was created (0: only through
    POST /transactions/{ref}/pay); with `seed`, the demo data is written at start-up and
    again whenever it has vanished from Redis. With `callback_url`, each order that carries
    a `reference` is announced there, signed with `callback_secret`, once its token is issued.
    """
    middlewares = [errors_middleware, seed_middleware] if seed else [errors_middleware]
    app = web.Application(client_max_size=inputs.MAX_BODY, middlewares=middlewares)
    app[STORE] = store
    callbacks = None
    if callback_url:
        callbacks = Callbacks(callback_url, callback_secret, backoff=callback_backoff)
    app[UTILITY] = Utility(store, pay_delay=pay_delay, order_ttl=order_ttl, callbacks=callbacks)
    app.cleanup_ctx.append(_running(callbacks))
    if seed:
        app.cleanup_ctx.append(_seeded)
    app.router.add_get("/health", health)
    app.router.add_get("/customers/{number}", customer)
    app.router.add_get("/customers/{number}/transactions", customer_transactions)
    app.router.add_post("/tokens/quote", quote)
    app.router.add_post("/tokens/orders", create_order)
    app.router.add_get("/transactions/{ref}", transaction)
    app.router.add_post("/transactions/{ref}/pay", pay)
    app.router.add_get("/bills/{customer_id}", bill)
    app.router.add_post("/complaints", open_complaint)
    app.router.add_get("/complaints/{ticket_id}", complaint)
    app.router.add_get("/outages", outages)
    return app
