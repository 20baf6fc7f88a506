"""Customers, their bills and the outages in their areas, as the sandbox keeps them in Redis."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from bot.sandbox import keys
from bot.sandbox.errors import CustomerNotFound, InvalidInput, NotFound, NotPostpaid
from bot.sandbox.records import Bill, Customer, Kind, Outage
from bot.sandbox.scripts import CREATE_IF_ABSENT
from handoff.store import Store

_NUMBER = re.compile(r"[0-9]{11}|[0-9]{12}")


def check_number(raw: object, field: str = "number") -> str:
    """An 11-digit meter number or a 12-digit customer id; raises InvalidInput otherwise."""
    number = raw.strip() if isinstance(raw, str) else ""
    if not _NUMBER.fullmatch(number):
        raise InvalidInput(
            f"{field} must be an 11-digit meter number or a 12-digit customer id",
            code="invalid_number",
        )
    return number


def hash_args(fields: Mapping[str, str]) -> list[str]:
    """A mapping as the flat field, value, ... list HSET and the Lua scripts take."""
    return [item for pair in fields.items() for item in pair]


class Customers:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._create = store.redis.register_script(CREATE_IF_ABSENT)

    async def seed(
        self,
        customers: Iterable[Customer],
        bills: Iterable[Bill],
        outages: Mapping[str, Outage],
    ) -> None:
        """Customers and outages are reference data (rewritten); bills are kept once written."""
        customers = list(customers)
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            for c in customers:
                fields = c.to_fields()
                pipe.hset(keys.customer(c.customer_id), mapping={f: fields[f] for f in fields})
            pipe.hset(keys.meters(), mapping={c.meter_number: c.customer_id for c in customers})
            pipe.delete(keys.outages())
            if outages:
                pipe.hset(
                    keys.outages(),
                    mapping={k: json.dumps(o.to_fields()) for k, o in outages.items()},
                )
            await pipe.execute()
            for bill in bills:
                key = keys.bill(bill.customer_id)
                await self._create(keys=[key], args=["0", "", *hash_args(bill.to_fields())])

    async def find(self, number: object, field: str = "number") -> Customer:
        """The customer with this meter number or customer id."""
        number = check_number(number, field)
        async with self._store.guard():
            customer_id: str | None = number
            if len(number) == 11:
                customer_id = await self._store.redis.hget(keys.meters(), number)
            fields = {}
            if customer_id:
                fields = await self._store.redis.hgetall(keys.customer(customer_id))
        if not fields:
            raise CustomerNotFound(f"no customer has the number {number}")
        return Customer.from_fields(fields)

    async def bill(self, number: object) -> Bill:
        customer = await self.find(number)
        if customer.kind is not Kind.POSTPAID:
            raise NotPostpaid(f"customer {customer.customer_id} is prepaid and gets no bills")
        async with self._store.guard():
            fields = await self._store.redis.hgetall(keys.bill(customer.customer_id))
        if not fields:
            raise NotFound(
                f"customer {customer.customer_id} has no bill yet", code="bill_not_found"
            )
        return Bill.from_fields(customer, fields)

    async def outages(self, area: str) -> list[Outage]:
        """Outages whose area contains `area`, ignoring case, earliest first."""
        async with self._store.guard():
            raw = await self._store.redis.hvals(keys.outages())
        wanted = area.casefold()
        found = (Outage.from_fields(json.loads(r)) for r in raw)
        return sorted((o for o in found if wanted in o.area.casefold()), key=lambda o: o.started_at)
