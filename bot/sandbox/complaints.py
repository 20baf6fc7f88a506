"""Complaint tickets: opened by a customer (or for an area), then followed by the utility."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.sandbox import keys
from bot.sandbox.customers import hash_args
from bot.sandbox.errors import TicketNotFound
from bot.sandbox.records import Category, Customer, Ticket, TicketStatus
from bot.sandbox.scripts import CREATE_IF_ABSENT
from handoff.store import Store

_TICKET_ID = re.compile(r"TKT[0-9]{6}")

NEXT_STEPS = {
    Category.OUTAGE: (
        "Laporan gangguan Anda sudah kami terima; petugas akan memeriksa jaringan di lokasi "
        "Anda. Cek perkembangannya dengan nomor tiket {ticket_id}."
    ),
    Category.METER: (
        "Petugas kami akan menghubungi Anda dalam 1x24 jam untuk menjadwalkan pemeriksaan "
        "meter. Simpan nomor tiket {ticket_id}."
    ),
    Category.BILLING: (
        "Tim penagihan akan meninjau tagihan Anda dan memberi kabar dalam 3 hari kerja. "
        "Simpan nomor tiket {ticket_id}."
    ),
    Category.OTHER: (
        "Pengaduan Anda sudah kami terima dan akan ditindaklanjuti dalam 3 hari kerja. "
        "Simpan nomor tiket {ticket_id}."
    ),
}


@dataclass(frozen=True, slots=True)
class Complaint:
    """What a customer reports; `customer` is resolved from the number they gave, if any."""

    description: str
    category: Category
    customer: Customer | None = None
    area: str | None = None


def new_ticket_id() -> str:
    return f"TKT{secrets.randbelow(900_000) + 100_000}"


class Complaints:
    def __init__(self, store: Store, *, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._create = store.redis.register_script(CREATE_IF_ABSENT)

    async def _insert(self, ticket: Ticket) -> bool:
        async with self._store.guard():
            created = await self._create(
                keys=[keys.ticket(ticket.ticket_id)],
                args=["0", "", *hash_args(ticket.to_fields())],
            )
        return bool(created)

    async def seed(self, tickets: Iterable[Ticket]) -> None:
        """Adds the tickets that do not exist yet; existing ones are left as they are."""
        for ticket in tickets:
            await self._insert(ticket)

    async def open(self, complaint: Complaint) -> Ticket:
        now = int(self._clock() * 1000)
        customer = complaint.customer
        while True:  # ticket ids are random; never overwrite an existing one
            ticket_id = new_ticket_id()
            ticket = Ticket(
                ticket_id=ticket_id,
                category=complaint.category,
                description=complaint.description,
                status=TicketStatus.OPEN,
                note=NEXT_STEPS[complaint.category].format(ticket_id=ticket_id),
                created_at=now,
                updated_at=now,
                area=complaint.area or (customer.area if customer else None),
                customer_id=customer.customer_id if customer else None,
                meter_number=customer.meter_number if customer else None,
            )
            if await self._insert(ticket):
                return ticket

    async def get(self, ticket_id: str) -> Ticket:
        ticket_id = ticket_id.strip().upper()
        if not _TICKET_ID.fullmatch(ticket_id):
            raise TicketNotFound(f"no complaint ticket has the id {ticket_id!r}")
        async with self._store.guard():
            fields = await self._store.redis.hgetall(keys.ticket(ticket_id))
        if not fields:
            raise TicketNotFound(f"no complaint ticket has the id {ticket_id}")
        return Ticket.from_fields(fields)
