"""The inbox's parts, built once when the app starts and shared by its views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from handoff.inbox.accounts import Accounts
from handoff.inbox.canned import Canned
from handoff.inbox.desk import Desk, InboxServices
from handoff.inbox.events import LiveEvents
from handoff.inbox.ratelimit import LoginLimiter
from handoff.inbox.sessions import Sessions
from handoff.presence import Presence


@dataclass(frozen=True, slots=True)
class Parts:
    accounts: Accounts
    sessions: Sessions
    limiter: LoginLimiter
    canned: Canned
    presence: Presence
    desk: Desk
    live: LiveEvents
    address_of: Callable[[str | None, str | None], str]  # the client, via trusted proxies

    @classmethod
    def build(cls, services: InboxServices) -> Parts:
        store = services.store
        accounts = Accounts(store)
        presence = Presence(store)
        return cls(
            accounts=accounts,
            sessions=Sessions(store, services.session_idle_s),
            limiter=LoginLimiter(store),
            canned=Canned(store),
            presence=presence,
            desk=Desk(services, accounts, presence),
            live=LiveEvents(store, presence),
            address_of=services.address_of,
        )


PARTS = web.AppKey("inbox", Parts)
