"""The sandbox utility: one service object whose methods the web edge calls, one per route."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.sandbox import data, keys, tariffs
from bot.sandbox.callbacks import Callbacks
from bot.sandbox.complaints import Complaint, Complaints
from bot.sandbox.customers import Customers
from bot.sandbox.errors import InvalidInput, SandboxError
from bot.sandbox.inputs import ComplaintRequest, TokenRequest
from bot.sandbox.records import (
    Bill,
    Customer,
    Outage,
    Quote,
    Ticket,
    Transaction,
    TransactionStatus,
)
from bot.sandbox.transactions import Transactions
from handoff.errors import StoreUnavailable
from handoff.store import Store

log = logging.getLogger(__name__)

ORDER_TTL = 3600.0  # seconds a virtual account waits for payment
_LATE = 0.01  # s past the due moment, so the settle script's clock agrees it is due


class Utility:
    """With `callbacks`, an order carrying a reference is announced when its token is issued;
    with a pay delay too, a timer settles it when due instead of waiting for someone to ask."""

    def __init__(
        self,
        store: Store,
        *,
        pay_delay: float,
        order_ttl: float = ORDER_TTL,
        clock: Callable[[], float] = time.time,
        callbacks: Callbacks | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._pay_delay = pay_delay
        self._callbacks = callbacks
        self._timers: set[asyncio.Task[None]] = set()
        self.customers = Customers(store)
        self.transactions = Transactions(
            store, pay_delay=pay_delay, order_ttl=order_ttl, clock=clock, on_settled=self._settled
        )
        self.complaints = Complaints(store, clock=clock)

    def _settled(self, txn: Transaction) -> None:
        log.info("sandbox transaction %s settled: %s", txn.ref, txn.status.value)
        if self._callbacks is not None and txn.reference is not None:
            self._callbacks.notify(txn)

    def _settle_when_due(self, txn: Transaction) -> None:
        due = txn.created_at / 1000 + self._pay_delay - self._clock()
        task = asyncio.create_task(self._settle_at(txn.ref, max(due, 0.0)), name=f"pay {txn.ref}")
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _settle_at(self, ref: str, after: float) -> None:
        await asyncio.sleep(after + _LATE)
        try:
            for _ in range(5):  # the clocks may disagree by a few ms
                txn = await self.transactions.get(ref)
                if txn.status is not TransactionStatus.WAITING_PAYMENT:
                    return
                await asyncio.sleep(0.05)
        except (SandboxError, StoreUnavailable) as exc:  # a later read settles it instead
            log.warning("sandbox transaction %s: automatic payment failed: %s", ref, exc)

    async def close(self) -> None:
        """Stops the pay-delay timers; their orders are settled on their next read."""
        for task in self._timers:
            task.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    async def seed(self) -> None:
        """Writes the demo data; safe to repeat, it never resets transactions or tickets."""
        now = int(self._clock() * 1000)
        await self.customers.seed(data.CUSTOMERS, data.BILLS, data.outages(now))
        await self.transactions.seed(data.transactions(now))
        await self.complaints.seed(data.tickets(now))
        async with self._store.guard():
            await self._store.redis.set(keys.seeded(), now)
        log.info("sandbox data seeded: %s customers", len(data.CUSTOMERS))

    async def ensure_seeded(self) -> None:
        """Seeds again when the data is gone (a FLUSHALL between tests, or by an operator)."""
        async with self._store.guard():
            seeded = await self._store.redis.exists(keys.seeded())
        if not seeded:
            await self.seed()

    async def customer(self, number: str) -> Customer:
        return await self.customers.find(number)

    async def quote(self, request: TokenRequest) -> Quote:
        customer = await self.customers.find(request.number, "meter_number")
        return tariffs.quote(customer, request.amount)

    async def order(self, request: TokenRequest) -> Transaction:
        customer = await self.customers.find(request.number, "meter_number")
        quote = tariffs.quote(customer, request.amount)
        txn = await self.transactions.create(customer, quote, request.reference)
        if self._pay_delay > 0 and txn.reference is not None and self._callbacks is not None:
            self._settle_when_due(txn)
        return txn

    async def transaction(self, ref: str) -> Transaction:
        return await self.transactions.get(ref)

    async def pay(self, ref: str) -> Transaction:
        return await self.transactions.pay(ref)

    async def latest_transactions(self, number: str, limit: int) -> list[Transaction]:
        return await self.transactions.latest(await self.customers.find(number), limit)

    async def bill(self, number: str) -> Bill:
        return await self.customers.bill(number)

    async def open_complaint(self, request: ComplaintRequest) -> tuple[Ticket, bool]:
        """The ticket, and whether it is new (see Complaints.open)."""
        by_id = by_meter = None
        if request.customer_id is not None:
            by_id = await self.customers.find(request.customer_id, "customer_id")
        if request.meter_number is not None:
            by_meter = await self.customers.find(request.meter_number, "meter_number")
        if by_id and by_meter and by_id != by_meter:
            raise InvalidInput(
                "customer_id and meter_number belong to different customers",
                code="number_mismatch",
            )
        complaint = Complaint(
            request.description, request.category, by_id or by_meter, request.area
        )
        ticket, created = await self.complaints.open(complaint)
        if created:
            log.info("sandbox ticket %s opened (%s)", ticket.ticket_id, ticket.category.value)
        return ticket, created

    async def complaint(self, ticket_id: str) -> Ticket:
        return await self.complaints.get(ticket_id)

    async def outages(self, area: str) -> list[Outage]:
        return await self.customers.outages(area)
