"""The demo utility's seeded data: customers, bills, outages, a few transactions and a ticket.

Times are relative to the moment of seeding; seeding never overwrites what already exists,
except the outages, which are reference data refreshed on every start.
"""

from __future__ import annotations

from bot.sandbox import tariffs
from bot.sandbox.records import (
    Bill,
    Category,
    Customer,
    Kind,
    Outage,
    Ticket,
    TicketStatus,
    Transaction,
    TransactionStatus,
)

MINUTE = 60_000  # ms
HOUR = 60 * MINUTE
DAY = 24 * HOUR

PRE, POST = Kind.PREPAID, Kind.POSTPAID
COBLONG, SUKAJADI, CIMAHI = "Coblong, Bandung", "Sukajadi, Bandung", "Cimahi"
KEBAYORAN = "Kebayoran Baru, Jakarta Selatan"

CUSTOMERS = (
    Customer("14234567890", "532100123456", "BUDI SANTOSO", "R1", 1300, PRE, COBLONG),
    Customer("32109876543", "532100987654", "SITI RAHAYU", "R1M", 900, PRE, SUKAJADI),
    Customer("56012345678", "531700112233", "AGUS PRATAMA", "R1", 2200, PRE, CIMAHI),
    Customer("14567890123", "545100223344", "DEWI LESTARI", "R2", 3500, PRE, KEBAYORAN),
    Customer("56098765432", "531700445566", "RINA WULANDARI", "B1", 5500, PRE, CIMAHI),
    Customer("86011122233", "532100556677", "HENDRA GUNAWAN", "R1", 2200, POST, COBLONG),
    Customer("86044455566", "545100778899", "SRI WAHYUNI", "R2", 5500, POST, KEBAYORAN),
    Customer("86077788899", "532100990011", "YUSUF HIDAYAT", "B1", 3500, POST, SUKAJADI),
)  # fmt: skip


def _bill(customer_id: str, amount_due: int, *, paid: bool) -> Bill:
    customer = next(c for c in CUSTOMERS if c.customer_id == customer_id)
    return Bill(customer_id, customer.name, "2026-11", amount_due, "2026-12-20", paid)


BILLS = (
    _bill("532100556677", 287_450, paid=False),
    _bill("545100778899", 1_254_300, paid=True),
    _bill("532100990011", 845_000, paid=False),
)

SEEDED_TICKET_ID = "TKT240117"


def outages(now: int) -> dict[str, Outage]:
    """Current outages by a stable id, so re-seeding replaces rather than adds."""
    return {
        "sukajadi-maintenance": Outage(
            SUKAJADI,
            "Pemeliharaan jaringan di gardu distribusi (pemadaman terencana)",
            now - 45 * MINUTE,
            now + 2 * HOUR,
        ),
        "cimahi-cable": Outage(
            CIMAHI,
            "Gangguan kabel tegangan menengah akibat pohon tumbang",
            now - 20 * MINUTE,
            now + 3 * HOUR,
        ),
    }


def _transaction(
    ref: str,
    customer: Customer,
    amount: int,
    created: int,
    status: TransactionStatus,
    *,
    paid_at: int | None = None,
    token: str | None = None,
) -> Transaction:
    return Transaction(
        ref=ref,
        customer_id=customer.customer_id,
        quote=tariffs.quote(customer, amount),
        status=status,
        virtual_account="8808" + customer.meter_number + "0",
        created_at=created,
        expires_at=created + HOUR,
        paid_at=paid_at,
        token=token,
    )


def transactions(now: int) -> tuple[Transaction, ...]:
    """A delivered token, a payment whose token is still pending, an expired order."""
    budi, dewi = CUSTOMERS[0], CUSTOMERS[3]
    issued, paid, expired = (
        TransactionStatus.TOKEN_ISSUED,
        TransactionStatus.PAID,
        TransactionStatus.EXPIRED,
    )
    return (
        _transaction(
            "TRXDEMO0001", budi, 100_000, now - DAY, issued,
            paid_at=now - DAY + 2 * MINUTE, token="5821-0934-7716-2048-3395",
        ),
        _transaction(
            "TRXDEMO0002", budi, 50_000, now - 15 * MINUTE, paid, paid_at=now - 13 * MINUTE
        ),
        _transaction("TRXDEMO0003", dewi, 200_000, now - 2 * DAY, expired),
    )  # fmt: skip


def tickets(now: int) -> tuple[Ticket, ...]:
    budi = CUSTOMERS[0]
    return (
        Ticket(
            ticket_id=SEEDED_TICKET_ID,
            category=Category.METER,
            description="kWh meter berbunyi terus dan layarnya menampilkan tulisan PERIKSA",
            status=TicketStatus.IN_PROGRESS,
            note="Petugas kami dijadwalkan memeriksa meter Anda dalam 1x24 jam.",
            created_at=now - 3 * HOUR,
            updated_at=now - HOUR,
            area=budi.area,
            customer_id=budi.customer_id,
            meter_number=budi.meter_number,
        ),
    )
