"""The composition root: reads settings, creates clients, wires the gateway's aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bot.core.channel import DeliveryState, Media, MediaUnavailable, Sender
from bot.core.errors import BadMessage, BotUnavailable, ConfigError, MessageTooLong
from bot.core.hours import ServiceHours
from bot.core.messages import ConversationKey, Inbound, Turn
from bot.core.metrics import Metrics
from bot.core.settings import Settings, redact_url
from bot.core.templates import TemplateSpec
from bot.gateway import health, payments
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from bot.gateway.router import Router, Team
from channels import telegram, webchat, whatsapp
from handoff import Conversations, LockTimeout, Role, StoreUnavailable, Transcript, inbox
from handoff.assignment import Assigner
from handoff.backfill import Backfill
from handoff.handoffs import Handoffs
from handoff.outbox import Outbox
from handoff.presence import Presence
from handoff.store import Store
from handoff.streams.delivery import Courier
from handoff.streams.intake import Intake

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # channels' webhooks carry at most this; larger bodies get 413

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
SESSION = web.AppKey("session", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaPool)
METRICS = web.AppKey("metrics", Metrics)
ROUTER = web.AppKey("router", Router)
TRANSCRIPT = web.AppKey("transcript", Transcript)
CONVERSATIONS = web.AppKey("conversations", Conversations)
HANDOFFS = web.AppKey("handoffs", Handoffs)
OUTBOX = web.AppKey("outbox", Outbox)
INTAKE = web.AppKey("intake", Intake)
COURIER = web.AppKey("courier", Courier)
SENDERS = web.AppKey("senders", dict[str, Sender])  # channel name -> its sender

CUSTOMER_VISIBLE = (Role.CUSTOMER, Role.BOT, Role.AGENT)


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Domain errors become clear JSON answers; nothing leaks a stack trace."""
    if (request.content_length or 0) > MAX_BODY:
        return _error(413, f"request body too large (at most {MAX_BODY} bytes)")
    try:
        return await handler(request)
    except MessageTooLong as exc:
        return _error(413, str(exc))
    except BadMessage as exc:
        return _error(400, str(exc))
    except StoreUnavailable:
        log.warning("%s %s: Redis unavailable", request.method, request.path)
        return _error(503, "storage is unavailable, try again shortly", **{"Retry-After": "5"})
    except BotUnavailable:
        return _error(
            503,
            "Maaf, asisten sedang tidak tersedia; pesan Anda sudah kami simpan. "
            "Sorry, the assistant is unavailable right now; your message was saved.",
            **{"Retry-After": "10"},
        )
    except LockTimeout:
        return _error(503, "the previous message is still being processed", **{"Retry-After": "2"})
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"request body too large (at most {MAX_BODY} bytes)")
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return _error(exc.status, exc.reason)
        raise


def _resources(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if settings.redis_url is None or not settings.rasa_urls:
            raise ConfigError("REDIS_URL and LOKET_RASA_URL must be resolved before the app starts")
        # A stable name: after a restart this gateway resumes its own pending work, and takes
        # back at once the turn locks and leases its crashed run left.
        consumer = f"{socket.gethostname()}:{settings.port}"
        store = Store.from_url(settings.redis_url, owner=consumer)
        try:
            await store.ping()
        except StoreUnavailable as exc:
            await store.close()
            raise ConfigError(
                f"cannot reach Redis at REDIS_URL={redact_url(settings.redis_url)}: {exc.__cause__}"
            ) from exc
        session = aiohttp.ClientSession()
        metrics = app[METRICS]
        rasa = RasaPool(
            [RasaClient(session, url, settings.rasa_token, settings.bot_timeout)
             for url in settings.rasa_urls],
            metrics,
        )  # fmt: skip
        transcript = Transcript(store)
        app[STORE] = store
        app[SESSION] = session
        app[RASA] = rasa
        app[TRANSCRIPT] = transcript
        handoffs = Handoffs(store)
        conversations = Conversations(store)
        app[CONVERSATIONS] = conversations
        team = Team(ServiceHours.parse(settings.service_hours, settings.timezone), Presence(store))
        app[HANDOFFS] = handoffs
        outbox = Outbox(store, metrics=metrics)
        app[OUTBOX] = outbox
        assigner = Assigner(store, handoffs) if settings.auto_assign == "round-robin" else None
        router = Router(
            conversations, transcript, handoffs, rasa, team,
            outbox=outbox, timeout=settings.bot_timeout, metrics=metrics,
            assigner=assigner,
        )  # fmt: skip
        app[ROUTER] = router
        app[INTAKE] = Intake(store, router.handle, consumer=consumer,
                             turn_timeout=settings.bot_timeout, metrics=metrics)  # fmt: skip
        senders: dict[str, Sender] = app[SENDERS]
        app[COURIER] = Courier(store, outbox, senders, consumer=consumer, metrics=metrics)
        stop_probing = asyncio.Event()
        workers = [
            asyncio.create_task(app[INTAKE].worker.run(), name="inbound worker"),
            asyncio.create_task(app[COURIER].worker.run(), name="delivery worker"),
            asyncio.create_task(rasa.watch(stop_probing), name="rasa pool probe"),
        ]
        # Conversations older than the search indexes get their entries, once, in the background.
        backfill = asyncio.create_task(_backfill(store), name="search backfill")
        yield
        stop_probing.set()
        backfill.cancel()
        await asyncio.gather(backfill, return_exceptions=True)
        await asyncio.gather(app[INTAKE].worker.stop(grace=10), app[COURIER].worker.stop(grace=5))
        _, stuck = await asyncio.wait(workers, timeout=5)  # a blocking read ends within 1 s
        for task in stuck:
            task.cancel()
        await session.close()
        await store.close()

    return ctx


async def _backfill(store: Store) -> None:
    try:
        await Backfill(store).run_once()
    except StoreUnavailable as exc:
        log.warning("search backfill skipped, Redis unavailable (it runs at the next start): %s",
                    exc)  # fmt: skip


def _inbox_services(app: web.Application) -> inbox.InboxServices:
    """What the agents' inbox needs from the gateway, once the resources exist."""
    senders = app[SENDERS]
    settings = app[SETTINGS]

    def reply_window(channel: str) -> float | None:
        sender = senders.get(channel)
        return sender.reply_window if sender else None

    def templates(channel: str) -> tuple[TemplateSpec, ...]:
        sender = senders.get(channel)
        return sender.templates if sender else ()

    async def fetch_media(channel: str, ref: str) -> Media:
        sender = senders.get(channel)
        if sender is None:
            raise MediaUnavailable(f"attachments cannot be fetched from {channel}")
        return await sender.fetch_media(ref)

    async def typing(conversation: ConversationKey) -> None:
        sender = senders.get(conversation.channel)
        if sender is not None:
            await sender.typing(conversation)

    async def mark_read(conversation: ConversationKey, message_id: str) -> None:
        sender = senders.get(conversation.channel)
        if sender is not None:
            await sender.mark_read(conversation, message_id)

    return inbox.InboxServices(
        app[STORE], app[CONVERSATIONS], app[HANDOFFS], app[TRANSCRIPT], app[OUTBOX],
        app[ROUTER].hand_back, reply_window, fetch_media,
        typing=typing, mark_read=mark_read, templates=templates,
        settings=inbox.InboxSettings(settings.timezone, settings.sla_minutes,
                        settings.auto_assign != "off"),
    )  # fmt: skip


def create_app(settings: Settings) -> web.Application:
    """The gateway: web chat, Telegram and WhatsApp webhooks, the agents' inbox, health."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[errors_middleware])
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[SENDERS] = {}
    app.cleanup_ctx.append(_resources(settings))

    async def accept(inbound: Inbound) -> bool:
        return await app[INTAKE].accept(inbound)

    async def receipt(channel: str, message_id: str, state: DeliveryState, reason: str) -> None:
        await app[OUTBOX].receipt(channel, message_id, state, reason)

    async def send(inbound: Inbound) -> Turn:
        return await app[ROUTER].handle(inbound)

    async def history(conversation: ConversationKey, after: str) -> Sequence[Mapping[str, Any]]:
        entries = await app[TRANSCRIPT].read(conversation, after=after)
        return [
            {"id": e.id, "role": e.role.value, "text": e.text, "ts": e.ts,
             "buttons": [{"title": b.title, "payload": b.payload} for b in e.buttons]}
            for e in entries
            if e.role in CUSTOMER_VISIBLE
        ]  # fmt: skip

    async def backlog() -> dict[str, int]:
        # Messages accepted but not yet through their turn, and lines not yet sent: a growing
        # number means the workers are behind (or stuck on an unreachable channel).
        return {"inbound": await app[INTAKE].backlog(), "outbox": await app[COURIER].backlog()}

    async def healthz(request: web.Request) -> web.Response:
        report = await health.check(
            app[STORE], app[RASA], app[SESSION], settings.actions_url or "", settings.provider_url
        )
        senders: dict[str, Sender] = app[SENDERS]
        report["channels"] = ["webchat", *sorted(senders)]
        if report["redis"]["ok"]:
            with contextlib.suppress(StoreUnavailable):
                report["backlog"] = await backlog()
        return health.response(report)

    async def metrics(request: web.Request) -> web.Response:
        if not health.may_scrape(request, settings.metrics_token):
            return _error(403, "metrics are served to localhost or with LOKET_METRICS_TOKEN")
        with contextlib.suppress(StoreUnavailable):
            for stream, count in (await backlog()).items():
                app[METRICS].backlog.labels(stream).set(count)
        return health.exposition(app[METRICS])

    async def livez(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    webchat.setup(app, send=send, history=history)
    for channel in (telegram, whatsapp):  # after _resources: `accept` works once they start
        sender = channel.install(app, settings, accept, receipt)
        if sender is not None:
            app[SENDERS][sender.channel] = sender
    inbox.setup(app, lambda: _inbox_services(app))
    payments.setup(
        app,
        settings.provider_secret,
        lambda: payments.PaymentNotices(app[CONVERSATIONS], app[TRANSCRIPT], app[OUTBOX]),
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics)
    return app
