"""The sandbox utility: one service object whose methods the web edge calls, one per route."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.sandbox import data, tariffs
from bot.sandbox.complaints import Complaint, Complaints
from bot.sandbox.customers import Customers
from bot.sandbox.errors import InvalidInput
from bot.sandbox.inputs import ComplaintRequest, TokenRequest
from bot.sandbox.records import Bill, Customer, Outage, Quote, Ticket, Transaction
from bot.sandbox.transactions import Transactions
from handoff import keys
from handoff.store import Store

log = logging.getLogger(__name__)

ORDER_TTL = 3600.0  # seconds a virtual account waits for payment


class Utility:
    def __init__(
        self,
        store: Store,
        *,
        pay_delay: float,
        order_ttl: float = ORDER_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._clock = clock
        self.customers = Customers(store)
        self.transactions = Transactions(
            store, pay_delay=pay_delay, order_ttl=order_ttl, clock=clock
        )
        self.complaints = Complaints(store, clock=clock)

    async def seed(self) -> None:
        """Writes the demo data; safe to repeat, it never resets transactions or tickets."""
        now = int(self._clock() * 1000)
        await self.customers.seed(data.CUSTOMERS, data.BILLS, data.outages(now))
        await self.transactions.seed(data.transactions(now))
        await self.complaints.seed(data.tickets(now))
        async with self._store.guard():
            await self._store.redis.set(keys.sandbox_seeded(), now)
        log.info("sandbox data seeded: %s customers", len(data.CUSTOMERS))

    async def ensure_seeded(self) -> None:
        """Seeds again when the data is gone (a FLUSHALL between tests, or by an operator)."""
        async with self._store.guard():
            seeded = await self._store.redis.exists(keys.sandbox_seeded())
        if not seeded:
            await self.seed()

    async def customer(self, number: str) -> Customer:
        return await self.customers.find(number)

    async def quote(self, request: TokenRequest) -> Quote:
        customer = await self.customers.find(request.number, "meter_number")
        return tariffs.quote(customer, request.amount)

    async def order(self, request: TokenRequest) -> Transaction:
        customer = await self.customers.find(request.number, "meter_number")
        return await self.transactions.create(customer, tariffs.quote(customer, request.amount))

    async def transaction(self, ref: str) -> Transaction:
        return await self.transactions.get(ref)

    async def pay(self, ref: str) -> Transaction:
        txn = await self.transactions.pay(ref)
        log.info("sandbox transaction %s paid: %s", txn.ref, txn.status.value)
        return txn

    async def latest_transactions(self, number: str, limit: int) -> list[Transaction]:
        return await self.transactions.latest(await self.customers.find(number), limit)

    async def bill(self, number: str) -> Bill:
        return await self.customers.bill(number)

    async def open_complaint(self, request: ComplaintRequest) -> Ticket:
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
        ticket = await self.complaints.open(complaint)
        log.info("sandbox ticket %s opened (%s)", ticket.ticket_id, ticket.category.value)
        return ticket

    async def complaint(self, ticket_id: str) -> Ticket:
        return await self.complaints.get(ticket_id)

    async def outages(self, area: str) -> list[Outage]:
        return await self.customers.outages(area)
