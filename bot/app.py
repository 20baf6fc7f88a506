"""The composition root: reads settings, creates clients, wires the gateway's aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from bot.core.channel import DeliveryState, Media, MediaUnavailable, Sender
from bot.core.clients import resolver
from bot.core.errors import (
    BadMessage,
    BotUnavailable,
    ChatFull,
    ConfigError,
    ConversationTaken,
    MessageTooLong,
    NotAllowed,
    SecretMissing,
    TooManyRequests,
    UnknownConversation,
)
from bot.core.hours import ServiceHours
from bot.core.messages import ConversationKey, Inbound
from bot.core.metrics import Metrics
from bot.core.settings import PROJECT_ROOT, Settings, redact_url
from bot.core.templates import TemplateSpec
from bot.gateway import health, payments
from bot.gateway.deployer import Deployer, DeployPolicy
from bot.gateway.model_tasks import ChildTasks
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from bot.gateway.router import Router, Team
from bot.gateway.webchat import ChatLimits, WebChatGate
from bot.nlu import NluBook
from channels import telegram, webchat, whatsapp
from handoff import Conversations, LockTimeout, StoreUnavailable, Transcript, inbox
from handoff.assignment import Assigner
from handoff.backfill import Backfill
from handoff.csat import Surveys
from handoff.deploys import Deploys
from handoff.guests import Guests
from handoff.handoffs import Handoffs
from handoff.limits import Limits
from handoff.outbox import Outbox
from handoff.presence import Presence
from handoff.review_items import ReviewItems
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
GUESTS = web.AppKey("guests", Guests)
WEBCHAT = web.AppKey("webchat", WebChatGate)
DEPLOYER = web.AppKey("deployer", Deployer)

SWEEP_EVERY_S = 600  # how often web-chat conversations past their retention are deleted


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
    except SecretMissing as exc:
        return _error(401, str(exc))
    except NotAllowed as exc:
        return _error(403, str(exc))
    except UnknownConversation as exc:
        return _error(404, str(exc))
    except ConversationTaken as exc:
        return _error(409, str(exc))
    except TooManyRequests as exc:
        return _error(429, str(exc), **{"Retry-After": str(exc.retry_after)})
    except ChatFull as exc:
        return _error(503, str(exc), **{"Retry-After": "60"})
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
    except (BadHttpMessage, web.RequestPayloadError):
        # Raised while reading the body: e.g. "Content-Encoding: gzip" over bytes that are not.
        return _error(400, "the request body could not be read (check its Content-Encoding)")
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
        deploys = Deploys(store)
        rasa = RasaPool(
            [RasaClient(session, url, settings.rasa_token, settings.bot_timeout)
             for url in settings.rasa_urls],
            metrics,
            gate=deploys,  # a worker loading another model takes no new turns
        )  # fmt: skip
        review = ReviewItems(store)
        app[DEPLOYER] = Deployer(
            rasa, deploys, settings.data_dir, settings.models_dir,
            DeployPolicy(settings.deploy_tolerance, drain_timeout=settings.bot_timeout + 5),
            ChildTasks(settings.data_dir, settings.models_dir), review,
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
            assigner=assigner, surveys=Surveys(store, outbox), review=review,
        )  # fmt: skip
        app[ROUTER] = router
        app[INTAKE] = Intake(store, router.handle, consumer=consumer,
                             turn_timeout=settings.bot_timeout, metrics=metrics)  # fmt: skip
        senders: dict[str, Sender] = app[SENDERS]
        app[COURIER] = Courier(store, outbox, senders, consumer=consumer, metrics=metrics)
        app[GUESTS] = Guests(
            store, max_conversations=settings.webchat_max_conversations,
            retention_s=settings.webchat_retention_days * 86_400,
        )  # fmt: skip
        limits = ChatLimits(settings.webchat_per_minute, settings.webchat_address_per_minute,
                            settings.webchat_new_per_hour)  # fmt: skip
        app[WEBCHAT] = WebChatGate(app[GUESTS], Limits(store), transcript, router.handle, limits)
        stop_probing = asyncio.Event()
        workers = [
            asyncio.create_task(app[INTAKE].worker.run(), name="inbound worker"),
            asyncio.create_task(app[COURIER].worker.run(), name="delivery worker"),
            asyncio.create_task(rasa.watch(stop_probing), name="rasa pool probe"),
            asyncio.create_task(app[DEPLOYER].run(stop_probing), name="model jobs"),
        ]
        stopping = asyncio.Event()
        sweeper = asyncio.create_task(_sweep(app[GUESTS], stopping), name="web chat retention")
        # Conversations older than the search indexes get their entries, once, in the background.
        backfill = asyncio.create_task(_backfill(store), name="search backfill")
        yield
        stop_probing.set()
        stopping.set()  # not cancelled: a Redis command cut off mid-way can spoil its connection
        backfill.cancel()
        await asyncio.gather(backfill, return_exceptions=True)
        await sweeper
        await asyncio.gather(app[INTAKE].worker.stop(grace=10), app[COURIER].worker.stop(grace=5))
        _, stuck = await asyncio.wait(workers, timeout=5)  # a blocking read ends within 1 s
        for task in stuck:
            task.cancel()
        await session.close()
        await store.close()

    return ctx


async def _sweep(guests: Guests, stopping: asyncio.Event) -> None:
    """Delete web-chat conversations past their retention period, now and every 10 minutes,
    until `stopping` is set."""
    while not stopping.is_set():
        try:
            await guests.sweep()
        except StoreUnavailable:
            log.warning("web chat retention sweep skipped: Redis unavailable")
        except Exception:  # the next sweep may fare better; the loop must outlive one failure
            log.exception("web chat retention sweep failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), SWEEP_EVERY_S)


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
                        settings.auto_assign != "off", csat=settings.csat),
        address_of=resolver(settings.trusted_proxies),
        session_idle_s=settings.inbox_idle_minutes * 60,
        examples=_examples(settings),
    )  # fmt: skip


def _examples(settings: Settings) -> NluBook | None:
    """Where trainers' labels are written: nlu_data/ (LOKET_NLU_DATA_DIR), if this gateway has
    it (an image without the training data has no labels to write)."""
    folder, domain = settings.nlu_data_dir, PROJECT_ROOT / "bot" / "domain.yml"
    if not folder.is_dir() or not domain.is_file():
        log.warning("no NLU data at %s: trainers' labels are refused", folder)
        return None
    return NluBook(folder, domain)  # paths as "nlu_data/bill.yml", wherever the folder is


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

    address_of = resolver(settings.trusted_proxies)
    recent: list[tuple[float, dict[str, Any]]] = []  # the last report, reused for a second

    async def backlog() -> dict[str, int]:
        # Messages accepted but not yet through their turn, and lines not yet sent: a growing
        # number means the workers are behind (or stuck on an unreachable channel).
        return {"inbound": await app[INTAKE].backlog(), "outbox": await app[COURIER].backlog()}

    async def report_now() -> dict[str, Any]:
        report = await health.check(
            app[STORE], app[RASA], app[SESSION], settings.actions_url or "", settings.provider_url
        )
        senders: dict[str, Sender] = app[SENDERS]
        report["channels"] = ["webchat"] * settings.webchat + sorted(senders)
        if report["redis"]["ok"]:
            with contextlib.suppress(StoreUnavailable):
                report["backlog"] = await backlog()
        return report

    async def healthz(request: web.Request) -> web.Response:
        # Public: however often it is asked, the parts are checked at most once a second.
        now = asyncio.get_running_loop().time()
        if not recent or now - recent[0][0] >= 1.0:
            recent[:] = [(now, await report_now())]
        report = recent[0][1]
        details = health.may_see_details(request, settings.health_token, address_of)
        return health.response(report, details=details)

    async def metrics(request: web.Request) -> web.Response:
        if not health.may_scrape(request, settings.metrics_token, address_of):
            return _error(403, "metrics are served to localhost or with LOKET_METRICS_TOKEN")
        with contextlib.suppress(StoreUnavailable):
            for stream, count in (await backlog()).items():
                app[METRICS].backlog.labels(stream).set(count)
        return health.exposition(app[METRICS])

    async def livez(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    if settings.webchat:  # LOKET_WEBCHAT=off: no /chat at all
        webchat.setup(app, lambda: app[WEBCHAT], address_of, settings.webchat_frame_ancestors)
    for channel in (telegram, whatsapp):  # after _resources: `accept` works once they start
        sender = channel.install(app, settings, accept, receipt)
        if sender is not None:
            app[SENDERS][sender.channel] = sender
    inbox.setup(app, lambda: _inbox_services(app))
    inbox.setup_models(app, lambda: app[STORE], settings.data_dir)
    payments.setup(
        app,
        settings.provider_secret,
        lambda: payments.PaymentNotices(app[CONVERSATIONS], app[TRANSCRIPT], app[OUTBOX]),
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics)
    return app
