"""The inbox's parts, built once when the app starts and shared by its views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.core.examples import ExampleBook
from handoff.contacts import Contacts
from handoff.inbox.accounts import Accounts
from handoff.inbox.canned import Canned
from handoff.inbox.desk import Desk
from handoff.inbox.events import LiveEvents
from handoff.inbox.finder import Finder
from handoff.inbox.outreach import Outreach
from handoff.inbox.ratelimit import LoginLimiter
from handoff.inbox.services import InboxServices, InboxSettings
from handoff.inbox.sessions import Sessions
from handoff.presence import Presence
from handoff.review_items import ReviewItems
from handoff.search import Search
from handoff.transcript import Transcript


@dataclass(frozen=True, slots=True)
class Parts:
    accounts: Accounts
    sessions: Sessions
    limiter: LoginLimiter
    canned: Canned
    presence: Presence
    desk: Desk
    live: LiveEvents
    finder: Finder
    outreach: Outreach
    settings: InboxSettings
    address_of: Callable[[str | None, str | None], str]  # the client, via trusted proxies
    review: ReviewItems  # the trainers' review list
    examples: ExampleBook | None  # nlu_data/, where labels go (None: this gateway has none)
    transcript: Transcript

    @classmethod
    def build(cls, services: InboxServices) -> Parts:
        store = services.store
        accounts = Accounts(store)
        presence = Presence(store)
        contacts = Contacts(store)
        outreach = Outreach(services, contacts)
        desk = Desk(services, accounts, presence, outreach)
        return cls(
            accounts=accounts,
            sessions=Sessions(store, services.session_idle_s),
            limiter=LoginLimiter(store),
            canned=Canned(store),
            presence=presence,
            desk=desk,
            live=LiveEvents(store, presence),
            finder=Finder(services, desk, Search(store), contacts),
            outreach=outreach,
            settings=services.settings,
            address_of=services.address_of,
            review=ReviewItems(store),
            examples=services.examples,
            transcript=services.transcript,
        )


PARTS = web.AppKey("inbox", Parts)
