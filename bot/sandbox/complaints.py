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
REPORT_WINDOW_S = 24 * 3600  # a customer's outage report of one area covers that long

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

    async def open(self, complaint: Complaint) -> tuple[Ticket, bool]:
        """The ticket and whether it is new: an identified customer's second outage report of
        the same area, while the first ticket is not resolved (within a day), gets the first
        ticket back instead of a new one."""
        report = _report_key(complaint)
        if report is not None:
            async with self._store.guard():
                earlier = await self._store.redis.get(report)
            if earlier:
                try:
                    ticket = await self.get(earlier)
                except TicketNotFound:
                    ticket = None
                if ticket is not None and ticket.status is not TicketStatus.RESOLVED:
                    return ticket, False
        ticket = await self._new(complaint)
        if report is not None:
            async with self._store.guard():
                await self._store.redis.set(report, ticket.ticket_id, ex=REPORT_WINDOW_S)
        return ticket, True

    async def _new(self, complaint: Complaint) -> Ticket:
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


def _report_key(complaint: Complaint) -> str | None:
    """Where an identified customer's outage report of one area is remembered (None: not one)."""
    customer = complaint.customer
    area = complaint.area or (customer.area if customer else None)
    if complaint.category is not Category.OUTAGE or customer is None or not area:
        return None
    return keys.open_report(customer.customer_id, " ".join(area.lower().split()))
