"""Builders for the inbox tests: accounts, handoffs, an inbox app on real Redis, browsers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import errors_middleware
from bot.core.channel import Media, MediaUnavailable
from bot.core.clients import parse_networks, resolver
from bot.core.examples import ExampleBook
from bot.core.messages import ConversationKey, IntentScore
from bot.core.templates import TemplateSpec
from handoff import Entry, Role, Transcript
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.inbox import Accounts, Agent, AgentRole, InboxServices, InboxSettings, setup
from handoff.outbox import Outbox
from handoff.store import Store
from handoff.summary import Summary
from tests.support.builders import RecordingSender

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


async def add_agent(store: Store, name: str, role: str = "agent") -> Agent:
    return await Accounts(store).add(name, AgentRole(role), PASSWORD)


def make_summary() -> Summary:
    return Summary(
        wanted=(IntentScore("buy_token", 0.91),),
        collected={"meter_number": "12345678901"},
        last_action="utter_ask_meter_number",
        failed_turns=1,
        customer_messages=2,
    )


async def open_handoff(
    store: Store,
    chat_id: str,
    *,
    channel: str = "webchat",
    texts: Sequence[str] = ("mau beli token", "saya mau bicara dengan petugas"),
    reason: str = "asked_for_human",
) -> ConversationKey:
    """A conversation where the customer said `texts`, the bot answered once, then handed over."""
    key = ConversationKey(channel, chat_id)
    transcript = Transcript(store)
    await transcript.append(key, [Entry(Role.CUSTOMER, texts[0])])
    await transcript.append(
        key, [Entry(Role.BOT, "Nomor meter Anda?", intent="buy_token", confidence=0.91)]
    )
    await transcript.append(key, [Entry(Role.CUSTOMER, t) for t in texts[1:]])
    await Handoffs(store).request(
        key, reason=reason, detail="", language="id", summary=make_summary(),
        note="Handed over: the customer asked for a person",
    )  # fmt: skip
    return key


def make_services(
    store: Store,
    *,
    reply_window: dict[str, float] | None = None,
    media: dict[str, Media] | None = None,
    senders: dict[str, RecordingSender] | None = None,
    settings: InboxSettings | None = None,
    trusted_proxies: str = "",
    idle_s: int = 8 * 3600,
    examples: ExampleBook | None = None,
) -> InboxServices:
    """The inbox's services on real Redis; `senders` stand for the channels' own (typing, read
    marks, templates), recording what they are asked."""
    handoffs = Handoffs(store)
    windows = reply_window or {}
    files = media or {}
    channels = senders or {}

    async def fetch_media(channel: str, ref: str) -> Media:
        if ref not in files:
            raise MediaUnavailable(f"{channel} has no file {ref}")
        return files[ref]

    async def typing(key: ConversationKey) -> None:
        if key.channel in channels:
            await channels[key.channel].typing(key)

    async def mark_read(key: ConversationKey, message_id: str) -> None:
        if key.channel in channels:
            await channels[key.channel].mark_read(key, message_id)

    def templates(channel: str) -> tuple[TemplateSpec, ...]:
        return channels[channel].templates if channel in channels else ()

    return InboxServices(
        store=store, conversations=Conversations(store), handoffs=handoffs,
        transcript=Transcript(store), outbox=Outbox(store),
        hand_back=handoffs.hand_back, reply_window=windows.get, fetch_media=fetch_media,
        typing=typing, mark_read=mark_read, templates=templates,
        settings=settings or InboxSettings(),
        address_of=resolver(parse_networks(trusted_proxies)), session_idle_s=idle_s,
        examples=examples,
    )  # fmt: skip


def make_app(services: InboxServices) -> web.Application:
    app = web.Application(middlewares=[errors_middleware])
    setup(app, lambda: services)
    return app


class Browser:
    """One agent's browser: its own cookie jar, the CSRF token the page would send."""

    def __init__(self, server: TestServer | str) -> None:
        """`server`: the app under test, or the base URL of a running gateway."""
        self.server = server
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    def url(self, path: str) -> str:
        if isinstance(self.server, str):
            return self.server + path
        return str(self.server.make_url(path))

    async def login(
        self, name: str, password: str = PASSWORD, *, forwarded_for: str = ""
    ) -> aiohttp.ClientResponse:
        async with self.http.get(self.url("/inbox/login")) as page:
            found = _CSRF_FIELD.search(await page.text())
        assert found, "the login page has no CSRF field"
        resp = await self.http.post(
            self.url("/inbox/login"),
            data={"name": name, "password": password, "csrf": found.group(1)},
            headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
            allow_redirects=False,
        )
        await resp.read()
        if resp.status == 303:
            async with self.http.get(self.url("/inbox/api/me")) as me:
                self.csrf = (await me.json())["csrf"]
        return resp

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if method != "GET" else {}
        async with self.http.request(
            method, self.url("/inbox/api/" + path), json=body, headers=headers
        ) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, data

    async def close(self) -> None:
        await self.http.close()


def conv_path(key: ConversationKey, action: str = "") -> str:
    return f"conversations/{key.id}" + (f"/{action}" if action else "")
