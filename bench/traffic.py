"""Simulated customers for the drills, and the tally of what reached them.

Every customer message asks about a transaction reference of its own ("cek transaksi
TRX00000042"); the bot's answer names that reference, so each reply that reaches a channel's
API is matched to the one message it answers. A customer posts the platform's own webhook as
the platform does: one message of a chat at a time, the next only after a 2xx, and a message
answered with anything else (or nothing) is posted again, with the same update id or wamid,
until it is acknowledged.

`tally` then counts, for the acknowledged messages: answered, lost (no answer, not handed to
people), duplicated (answered more than once), out of order (answered after a later message of
its conversation was).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import aiohttp

from bench import peers
from bench.harness import table
from bench.peers import Arrival
from bot.core.messages import ConversationKey
from handoff import Conversations, Role, Transcript
from handoff.status import WITH_PEOPLE
from handoff.store import Store

REF = re.compile(r"TRX[0-9A-Za-z]{8}")
PHRASES = (
    "cek transaksi {ref}",
    "status pembelian {ref} gimana?",
    "token {ref} belum masuk",
    "udah bayar {ref} tp token blm masuk",
    "check transaction {ref}",
    "transaksi {ref} kok belum ada tokennya",
)
POST_TIMEOUT = aiohttp.ClientTimeout(total=30)


@dataclass
class Message:
    """One customer message and what happened to its webhook."""

    ref: str
    conversation: str
    seq: int
    text: str
    first_try: float = 0.0
    received: float | None = None  # when the attempt that was acknowledged started
    acked: float | None = None
    attempts: int = 0
    refusals: list[int] = field(default_factory=list)  # statuses before the 2xx; 0: no answer
    asks_about_ref: bool = True  # False: a text of the drill's own, whose answer names no ref


@dataclass
class Customer:
    channel: str  # "telegram", "whatsapp" or "rest"
    chat: str
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # a chat's messages one at a time

    @property
    def conversation(self) -> str:
        return f"{self.channel}:{self.chat}"


class Traffic:
    """Makes customers and their messages, and posts them to the gateway (or to Rasa's REST
    channel, for the baseline); every message made is kept in `messages`."""

    def __init__(
        self, session: aiohttp.ClientSession, gateway_url: str, *, give_up: float = 300.0
    ) -> None:
        self._session = session
        self.gateway_url = gateway_url  # where webhooks go; a benchmark may point it elsewhere
        self.give_up = give_up
        self.messages: list[Message] = []
        self.rest_arrivals: list[Arrival] = []
        # A run of its own: references, chats and the platforms' message ids never repeat an
        # earlier run's on the same Redis (it would take them for retries and drop them).
        self._run = secrets.token_hex(2)[:3].upper()
        self._numbers = itertools.count(1)
        self._chats = itertools.count(secrets.randbelow(10**6) * 1000 + 1)
        self._update_ids = itertools.count(secrets.randbelow(10**8) * 10 + 1)

    def customer(self, channel: str) -> Customer:
        n = next(self._chats)
        chat = str(7_000_000_000 + n) if channel == "telegram" else f"6281{n:09d}"
        return Customer(channel, chat)

    def customers(self, count: int, channels: Sequence[str]) -> list[Customer]:
        return [self.customer(channels[i % len(channels)]) for i in range(count)]

    def message(self, customer: Customer, seq: int, text: str = "") -> Message:
        """A new message; unless `text` is given, it asks about a reference of its own."""
        n = next(self._numbers)
        ref = f"TRX{self._run}{n:05d}"
        asked = text or PHRASES[n % len(PHRASES)].format(ref=ref)
        message = Message(ref, customer.conversation, seq, asked, asks_about_ref=not text)
        self.messages.append(message)
        return message

    async def send(
        self, customer: Customer, seq: int, *, text: str = "", rasa_url: str = ""
    ) -> Message:
        """A new message from `customer`, posted until acknowledged (or `give_up` s passed)."""
        message = self.message(customer, seq, text)
        async with customer.turn:
            if customer.channel == "rest":
                await self._rest(message, customer, rasa_url)
            else:
                await self._webhook(message, customer)
        return message

    async def conversation(self, customer: Customer, turns: int, first: int = 1) -> None:
        """`turns` messages, each posted as soon as the previous one was acknowledged."""
        for seq in range(first, first + turns):
            await self.send(customer, seq)

    async def _webhook(self, message: Message, customer: Customer) -> None:
        n = next(self._update_ids)
        if customer.channel == "telegram":
            url = f"{self.gateway_url}/channels/telegram/webhook"
            body = peers.telegram_update(n, int(customer.chat), message.text)
            headers = peers.telegram_headers()
        else:
            url = f"{self.gateway_url}/channels/whatsapp/webhook"
            body = peers.whatsapp_webhook(customer.chat, f"wamid.drill{n:012d}", message.text)
            headers = peers.whatsapp_headers(body)
        message.first_try = time.perf_counter()
        wait = 0.5
        while True:
            start = time.perf_counter()
            message.attempts += 1
            try:
                async with self._session.post(
                    url, data=body, headers=headers, timeout=POST_TIMEOUT
                ) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                status = 0
            if 200 <= status < 300:
                message.received, message.acked = start, time.perf_counter()
                return
            message.refusals.append(status)
            if time.perf_counter() - message.first_try > self.give_up:
                return
            await asyncio.sleep(wait)
            wait = min(wait * 2, 4.0)

    async def _rest(self, message: Message, customer: Customer, rasa_url: str) -> None:
        """Rasa's REST channel answers in the response: the baseline's "send call"."""
        message.first_try = message.received = time.perf_counter()
        message.attempts = 1
        try:
            async with self._session.post(
                f"{rasa_url}/webhooks/rest/webhook",
                json={"sender": customer.chat, "message": message.text},
                timeout=POST_TIMEOUT,
            ) as resp:
                replies = await resp.json() if resp.status == 200 else []
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            replies, status = [], 0
        if status != 200:
            message.refusals.append(status)
            return
        message.acked = now = time.perf_counter()
        for reply in replies:
            self.rest_arrivals.append(Arrival("rest", customer.chat, reply.get("text") or "", now))


async def settle(
    messages: Sequence[Message],
    arrivals: Callable[[], Sequence[Arrival]],
    *,
    quiet: float,
    limit: float,
    busy: Callable[[], Awaitable[bool]] | None = None,
) -> None:
    """Wait until every acknowledged message has an answer among `arrivals()`; or until
    nothing new has arrived for `quiet` seconds while `busy()` (work still queued) is false;
    or until `limit` seconds have passed."""
    deadline = time.perf_counter() + limit
    seen, last_change = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        now = arrivals()
        answered = answered_refs(now)
        if all(m.ref in answered for m in messages if m.acked is not None and m.asks_about_ref):
            return
        if len(now) != seen or (busy is not None and await busy()):
            seen, last_change = len(now), time.perf_counter()
        elif time.perf_counter() - last_change > quiet:
            return
        await asyncio.sleep(0.2)


@dataclass
class Tally:
    sent: int = 0
    acknowledged: int = 0
    answered: int = 0
    lost: int = 0
    to_people: int = 0  # no answer from the bot: the conversation is with people, who got it
    duplicated: int = 0
    out_of_order: int = 0
    unattributed: int = 0  # replies naming no reference of these messages (handoff notices...)
    latencies: list[float] = field(default_factory=list)  # receipt to first answer, seconds
    lost_refs: list[str] = field(default_factory=list)

    def row(self) -> list[str]:
        return [
            str(v)
            for v in (
                self.sent,
                self.acknowledged,
                self.answered,
                self.lost,
                self.duplicated,
                self.out_of_order,
                self.to_people,
                self.unattributed,
            )
        ]


TALLY_HEADERS = [
    "sent",
    "acknowledged",
    "answered",
    "lost",
    "duplicated",
    "out of order",
    "with people",
    "other replies",
]


def tally(
    messages: Sequence[Message],
    arrivals: Iterable[Arrival],
    with_people: frozenset[str] = frozenset(),
) -> Tally:
    """Count what reached the customers. `with_people` names the references of unanswered
    messages that reached the agents instead (their conversation was handed over)."""
    by_ref = {m.ref: m for m in messages}
    answers: dict[str, list[float]] = defaultdict(list)
    result = Tally(sent=len(messages))
    for arrival in arrivals:
        refs = {r for r in REF.findall(arrival.text) if r in by_ref}
        if not refs:
            result.unattributed += 1
        for ref in refs:
            answers[ref].append(arrival.at)
    first: dict[str, float] = {}
    for m in messages:
        times = sorted(answers.get(m.ref, ()))
        if m.acked is not None:
            result.acknowledged += 1
        if times:
            result.answered += 1
            first[m.ref] = times[0]
            if m.received is not None:
                result.latencies.append(times[0] - m.received)
        if len(times) > 1:
            result.duplicated += 1
        if m.acked is not None and not times:
            if m.ref in with_people:
                result.to_people += 1
            else:
                result.lost += 1
                result.lost_refs.append(m.ref)
    by_conversation: dict[str, list[Message]] = defaultdict(list)
    for m in messages:
        if m.ref in first:
            by_conversation[m.conversation].append(m)
    for answered in by_conversation.values():
        answered.sort(key=lambda m: m.seq)
        earliest_later = float("inf")
        for m in reversed(answered):
            if first[m.ref] > earliest_later:
                result.out_of_order += 1
            earliest_later = min(earliest_later, first[m.ref])
    return result


async def reached_people(
    store: Store, messages: Sequence[Message], answered: set[str]
) -> frozenset[str]:
    """The unanswered messages whose conversation is now with people and whose text is in its
    transcript, for the agents to read."""
    found: set[str] = set()
    pending = [m for m in messages if m.acked is not None and m.ref not in answered]
    conversations, transcript = Conversations(store), Transcript(store)
    for cid in {m.conversation for m in pending}:
        key = ConversationKey.parse(cid)
        if (await conversations.state(key)).status not in WITH_PEOPLE:
            continue
        texts = {e.text for e in await transcript.read(key) if e.role is Role.CUSTOMER}
        found.update(m.ref for m in pending if m.conversation == cid and m.text in texts)
    return frozenset(found)


def answered_refs(arrivals: Iterable[Arrival]) -> set[str]:
    return {r for a in arrivals for r in REF.findall(a.text)}


def quantiles(seconds: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    if not seconds:
        return (0.0, 0.0, 0.0)
    ms = [s * 1000 for s in seconds]
    if len(ms) == 1:
        return (ms[0], ms[0], ms[0])
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return (cuts[49], cuts[94], cuts[98])


def print_tally(title: str, rows: Sequence[tuple[str, Tally]]) -> None:
    print(f"\n{title}")
    print(table(["", *TALLY_HEADERS], [[name, *t.row()] for name, t in rows]))
    for name, t in rows:
        if t.lost_refs:
            print(f"{name}: lost {', '.join(t.lost_refs[:10])}" + (" ..." if t.lost > 10 else ""))
