"""The sandbox's value types, their Redis hash fields and their JSON shapes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


def iso(ms: int) -> str:
    """ISO-8601 UTC with an explicit offset, which Python 3.10's fromisoformat reads back."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="seconds")


def _optional_ms(raw: str | None) -> int | None:
    return int(raw) if raw else None


class Kind(str, enum.Enum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"


class TransactionStatus(str, enum.Enum):
    WAITING_PAYMENT = "waiting_payment"
    PAID = "paid"  # paid, token not issued yet
    TOKEN_ISSUED = "token_issued"
    EXPIRED = "expired"


class TicketStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class Category(str, enum.Enum):
    OUTAGE = "outage"
    METER = "meter"
    BILLING = "billing"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Customer:
    meter_number: str  # 11 digits
    customer_id: str  # 12 digits (ID pelanggan)
    name: str
    tariff: str
    power_va: int
    kind: Kind
    area: str

    def to_fields(self) -> dict[str, str]:
        return {
            "meter_number": self.meter_number,
            "customer_id": self.customer_id,
            "name": self.name,
            "tariff": self.tariff,
            "power_va": str(self.power_va),
            "kind": self.kind.value,
            "area": self.area,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Customer:
        return cls(
            meter_number=fields["meter_number"],
            customer_id=fields["customer_id"],
            name=fields["name"],
            tariff=fields["tariff"],
            power_va=int(fields["power_va"]),
            kind=Kind(fields["kind"]),
            area=fields["area"],
        )

    def as_json(self) -> dict[str, Any]:
        return {**self.to_fields(), "power_va": self.power_va}


@dataclass(frozen=True, slots=True)
class Bill:
    customer_id: str
    name: str
    period: str  # YYYY-MM
    amount_due: int
    due_date: str  # YYYY-MM-DD
    paid: bool

    def to_fields(self) -> dict[str, str]:
        return {
            "period": self.period,
            "amount_due": str(self.amount_due),
            "due_date": self.due_date,
            "status": "paid" if self.paid else "unpaid",
        }

    @classmethod
    def from_fields(cls, customer: Customer, fields: Mapping[str, str]) -> Bill:
        return cls(
            customer_id=customer.customer_id,
            name=customer.name,
            period=fields["period"],
            amount_due=int(fields["amount_due"]),
            due_date=fields["due_date"],
            paid=fields["status"] == "paid",
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            **self.to_fields(),
            "amount_due": self.amount_due,
        }


@dataclass(frozen=True, slots=True)
class Quote:
    meter_number: str
    amount: int
    admin_fee: int
    kwh: float

    @property
    def total(self) -> int:
        return self.amount + self.admin_fee

    def as_json(self) -> dict[str, Any]:
        return {
            "meter_number": self.meter_number,
            "amount": self.amount,
            "admin_fee": self.admin_fee,
            "total": self.total,
            "kwh": self.kwh,
        }


@dataclass(frozen=True, slots=True)
class Transaction:
    ref: str
    customer_id: str
    quote: Quote
    status: TransactionStatus
    virtual_account: str
    created_at: int  # ms since epoch, like every time below
    expires_at: int
    paid_at: int | None = None
    token: str | None = None
    reference: str | None = None  # the orderer's own id (Loket: the conversation id)

    def to_fields(self) -> dict[str, str]:
        fields = {
            "ref": self.ref,
            "meter_number": self.quote.meter_number,
            "customer_id": self.customer_id,
            "amount": str(self.quote.amount),
            "admin_fee": str(self.quote.admin_fee),
            "kwh": f"{self.quote.kwh:.2f}",
            "status": self.status.value,
            "virtual_account": self.virtual_account,
            "created_at": str(self.created_at),
            "expires_at": str(self.expires_at),
        }
        if self.paid_at is not None:
            fields["paid_at"] = str(self.paid_at)
        if self.token is not None:
            fields["token"] = self.token
        if self.reference is not None:
            fields["reference"] = self.reference
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Transaction:
        return cls(
            ref=fields["ref"],
            customer_id=fields["customer_id"],
            quote=Quote(
                meter_number=fields["meter_number"],
                amount=int(fields["amount"]),
                admin_fee=int(fields["admin_fee"]),
                kwh=float(fields["kwh"]),
            ),
            status=TransactionStatus(fields["status"]),
            virtual_account=fields["virtual_account"],
            created_at=int(fields["created_at"]),
            expires_at=int(fields["expires_at"]),
            paid_at=_optional_ms(fields.get("paid_at")),
            token=fields.get("token") or None,
            reference=fields.get("reference") or None,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            **self.quote.as_json(),
            "status": self.status.value,
            "virtual_account": self.virtual_account,
            "token": self.token,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "paid_at": iso(self.paid_at) if self.paid_at is not None else None,
            "reference": self.reference,
        }


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str
    category: Category
    description: str
    status: TicketStatus
    note: str
    created_at: int
    updated_at: int
    area: str | None = None
    customer_id: str | None = None
    meter_number: str | None = None

    def to_fields(self) -> dict[str, str]:
        fields = {
            "ticket_id": self.ticket_id,
            "category": self.category.value,
            "description": self.description,
            "status": self.status.value,
            "note": self.note,
            "created_at": str(self.created_at),
            "updated_at": str(self.updated_at),
        }
        optional = {
            "area": self.area,
            "customer_id": self.customer_id,
            "meter_number": self.meter_number,
        }
        fields.update({k: v for k, v in optional.items() if v is not None})
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Ticket:
        return cls(
            ticket_id=fields["ticket_id"],
            category=Category(fields["category"]),
            description=fields["description"],
            status=TicketStatus(fields["status"]),
            note=fields["note"],
            created_at=int(fields["created_at"]),
            updated_at=int(fields["updated_at"]),
            area=fields.get("area"),
            customer_id=fields.get("customer_id"),
            meter_number=fields.get("meter_number"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "status": self.status.value,
            "category": self.category.value,
            "description": self.description,
            "area": self.area,
            "customer_id": self.customer_id,
            "meter_number": self.meter_number,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Outage:
    area: str
    cause: str
    started_at: int
    estimated_restore: int

    def to_fields(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "cause": self.cause,
            "started_at": self.started_at,
            "estimated_restore": self.estimated_restore,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Outage:
        return cls(
            area=str(fields["area"]),
            cause=str(fields["cause"]),
            started_at=int(fields["started_at"]),
            estimated_restore=int(fields["estimated_restore"]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "cause": self.cause,
            "started_at": iso(self.started_at),
            "estimated_restore": iso(self.estimated_restore),
        }
