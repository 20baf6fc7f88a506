"""The provider's answers as the actions see them, and their strict parsing.

A missing or ill-typed field raises ProviderUnavailable: the provider is not speaking the API
we expect, which the actions treat like an outage.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from actions.errors import ProviderUnavailable

TRANSACTION_STATUSES = ("waiting_payment", "paid", "token_issued", "expired")
TICKET_STATUSES = ("open", "in_progress", "resolved")
CATEGORIES = ("outage", "meter", "billing", "other")


@dataclass(frozen=True, slots=True)
class Customer:
    meter_number: str
    customer_id: str
    name: str
    tariff: str
    power_va: int
    kind: str  # "prepaid" | "postpaid"
    area: str

    @property
    def prepaid(self) -> bool:
        return self.kind == "prepaid"


@dataclass(frozen=True, slots=True)
class Quote:
    meter_number: str
    amount: int
    admin_fee: int
    total: int
    kwh: float


@dataclass(frozen=True, slots=True)
class Transaction:
    """A token order. Times are ISO-8601 strings with an offset, as the provider sent them."""

    ref: str
    meter_number: str
    amount: int
    admin_fee: int
    total: int
    status: str  # waiting_payment | paid | token_issued | expired
    virtual_account: str
    token: str | None
    kwh: float
    created_at: str
    paid_at: str | None
    expires_at: str | None = None
    reference: str | None = None  # the orderer's own id, as sent with the order (Loket's: the
    # conversation id); the full token is shown only to that conversation


@dataclass(frozen=True, slots=True)
class Bill:
    customer_id: str
    name: str
    period: str  # YYYY-MM
    amount_due: int
    due_date: str  # YYYY-MM-DD
    status: str  # unpaid | paid

    @property
    def paid(self) -> bool:
        return self.status == "paid"


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    status: str  # open | in_progress | resolved
    category: str  # outage | meter | billing | other
    description: str
    area: str | None
    created_at: str
    updated_at: str
    note: str
    customer_id: str | None = None
    meter_number: str | None = None
    existing: bool = False  # opening it again gave the ticket this customer already had


@dataclass(frozen=True, slots=True)
class Outage:
    area: str
    cause: str
    started_at: str
    estimated_restore: str


class Fields:
    """Typed reads from one JSON object of an answer; anything amiss is ProviderUnavailable."""

    def __init__(self, what: str, data: object) -> None:
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"the provider's {what} is not a JSON object")
        self._what = what
        self._data: dict[str, Any] = data

    def _bad(self, name: str, expected: str) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"the provider's {self._what} has no valid {name!r} ({expected} expected)"
        )

    def text(self, name: str) -> str:
        value = self._data.get(name)
        if not isinstance(value, str) or not value:
            raise self._bad(name, "a non-empty string")
        return value

    def optional(self, name: str, read: Callable[[str], str]) -> str | None:
        return None if self._data.get(name) is None else read(name)

    def flag(self, name: str) -> bool:
        """A boolean that may be left out (false)."""
        value = self._data.get(name, False)
        if not isinstance(value, bool):
            raise self._bad(name, "true or false")
        return value

    def integer(self, name: str) -> int:
        value = self._data.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(name, "an integer")
        return value

    def number(self, name: str) -> float:
        value = self._data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(name, "a number")
        return float(value)

    def choice(self, name: str, allowed: Collection[str]) -> str:
        value = self._data.get(name)
        if value not in allowed:
            raise self._bad(name, " or ".join(allowed))
        return str(value)

    def moment(self, name: str) -> str:
        value = self.text(name)
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self._bad(name, "an ISO-8601 time") from None
        return value

    def day(self, name: str) -> str:
        value = self.text(name)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise self._bad(name, "a YYYY-MM-DD date") from None
        return value

    def items(self, name: str) -> list[object]:
        value = self._data.get(name)
        if not isinstance(value, list):
            raise self._bad(name, "a list")
        return value


def parse_customer(data: object) -> Customer:
    f = Fields("customer", data)
    return Customer(
        meter_number=f.text("meter_number"),
        customer_id=f.text("customer_id"),
        name=f.text("name"),
        tariff=f.text("tariff"),
        power_va=f.integer("power_va"),
        kind=f.choice("kind", ("prepaid", "postpaid")),
        area=f.text("area"),
    )


def parse_quote(data: object) -> Quote:
    f = Fields("quote", data)
    return Quote(
        meter_number=f.text("meter_number"),
        amount=f.integer("amount"),
        admin_fee=f.integer("admin_fee"),
        total=f.integer("total"),
        kwh=f.number("kwh"),
    )


def parse_transaction(data: object) -> Transaction:
    f = Fields("transaction", data)
    return Transaction(
        ref=f.text("ref"),
        meter_number=f.text("meter_number"),
        amount=f.integer("amount"),
        admin_fee=f.integer("admin_fee"),
        total=f.integer("total"),
        status=f.choice("status", TRANSACTION_STATUSES),
        virtual_account=f.text("virtual_account"),
        token=f.optional("token", f.text),
        kwh=f.number("kwh"),
        created_at=f.moment("created_at"),
        paid_at=f.optional("paid_at", f.moment),
        expires_at=f.optional("expires_at", f.moment),
        reference=f.optional("reference", f.text),
    )


def parse_bill(data: object) -> Bill:
    f = Fields("bill", data)
    return Bill(
        customer_id=f.text("customer_id"),
        name=f.text("name"),
        period=f.text("period"),
        amount_due=f.integer("amount_due"),
        due_date=f.day("due_date"),
        status=f.choice("status", ("unpaid", "paid")),
    )


def parse_ticket(data: object) -> Ticket:
    f = Fields("ticket", data)
    return Ticket(
        ticket_id=f.text("ticket_id"),
        status=f.choice("status", TICKET_STATUSES),
        category=f.choice("category", CATEGORIES),
        description=f.text("description"),
        area=f.optional("area", f.text),
        created_at=f.moment("created_at"),
        updated_at=f.moment("updated_at"),
        note=f.text("note"),
        customer_id=f.optional("customer_id", f.text),
        meter_number=f.optional("meter_number", f.text),
        existing=f.flag("existing"),
    )


def parse_outage(data: object) -> Outage:
    f = Fields("outage", data)
    return Outage(
        area=f.text("area"),
        cause=f.text("cause"),
        started_at=f.moment("started_at"),
        estimated_restore=f.moment("estimated_restore"),
    )
