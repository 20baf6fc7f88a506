"""The client the actions use to reach the utility's provider API (or the sandbox standing in).

Every call opens its own short-lived HTTP session with a total timeout, so nothing is left
open between actions. Answers are parsed strictly: a missing or ill-typed field means the
provider is not speaking the API we expect, which the actions treat like an outage.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote as quote_path
from urllib.parse import urlsplit

import aiohttp

from actions.errors import (
    InvalidRequest,
    NotFound,
    ProviderError,
    ProviderMisconfigured,
    ProviderUnavailable,
)

__all__ = [
    "Bill",
    "Customer",
    "InvalidRequest",
    "NotFound",
    "Outage",
    "Provider",
    "ProviderError",
    "ProviderMisconfigured",
    "ProviderUnavailable",
    "Quote",
    "Ticket",
    "Transaction",
]

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:5056"
DEFAULT_TIMEOUT = 5.0  # seconds per call, connecting included
MAX_ANSWER = 1024 * 1024  # bytes; a larger answer is not one of ours

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


@dataclass(frozen=True, slots=True)
class Outage:
    area: str
    cause: str
    started_at: str
    estimated_restore: str


class _Fields:
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


def _customer(data: object) -> Customer:
    f = _Fields("customer", data)
    return Customer(
        meter_number=f.text("meter_number"),
        customer_id=f.text("customer_id"),
        name=f.text("name"),
        tariff=f.text("tariff"),
        power_va=f.integer("power_va"),
        kind=f.choice("kind", ("prepaid", "postpaid")),
        area=f.text("area"),
    )


def _quote(data: object) -> Quote:
    f = _Fields("quote", data)
    return Quote(
        meter_number=f.text("meter_number"),
        amount=f.integer("amount"),
        admin_fee=f.integer("admin_fee"),
        total=f.integer("total"),
        kwh=f.number("kwh"),
    )


def _transaction(data: object) -> Transaction:
    f = _Fields("transaction", data)
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
    )


def _bill(data: object) -> Bill:
    f = _Fields("bill", data)
    return Bill(
        customer_id=f.text("customer_id"),
        name=f.text("name"),
        period=f.text("period"),
        amount_due=f.integer("amount_due"),
        due_date=f.day("due_date"),
        status=f.choice("status", ("unpaid", "paid")),
    )


def _ticket(data: object) -> Ticket:
    f = _Fields("ticket", data)
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
    )


def _outage(data: object) -> Outage:
    f = _Fields("outage", data)
    return Outage(
        area=f.text("area"),
        cause=f.text("cause"),
        started_at=f.moment("started_at"),
        estimated_restore=f.moment("estimated_restore"),
    )


def _answer(status: int, body: bytes, what: str) -> object:
    """The decoded body of a successful answer; every other answer raised as our error."""
    try:
        data = json.loads(body)
    except ValueError:  # includes UnicodeDecodeError
        data = None
    if 200 <= status < 300:
        if data is None:
            raise ProviderUnavailable(f"the provider answered {what} with something not JSON")
        return data
    if status in (408, 429) or status >= 500:
        raise ProviderUnavailable(f"the provider failed on {what} (HTTP {status})")
    error = data.get("error") if isinstance(data, dict) else None
    code = data.get("code") if isinstance(data, dict) else None
    if not (400 <= status < 500 and isinstance(error, str) and isinstance(code, str)):
        raise ProviderUnavailable(f"the provider answered {what} with HTTP {status}, not our API")
    if status == 404:
        raise NotFound(error, code=code)
    raise InvalidRequest(error, code=code)


def _segment(value: str) -> str:
    """One path segment, escaped so that a '/' or '?' typed by a customer stays inside it."""
    return quote_path(str(value), safe="")


class Provider:
    """The provider API at `base_url`; each method is one HTTP call of at most `timeout` s."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Provider:
        """Reads LOKET_PROVIDER_URL and LOKET_PROVIDER_TIMEOUT (seconds)."""
        url = environ.get("LOKET_PROVIDER_URL", "").strip() or DEFAULT_URL
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ProviderMisconfigured(
                f"LOKET_PROVIDER_URL must be a full URL such as http://host:port, got {url!r}"
            )
        raw = environ.get("LOKET_PROVIDER_TIMEOUT", "").strip() or str(DEFAULT_TIMEOUT)
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 60:
            raise ProviderMisconfigured(
                f"LOKET_PROVIDER_TIMEOUT must be seconds above 0 and at most 60, got {raw!r}"
            )
        return cls(url, timeout)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> object:
        what = f"{method} {path.split('/')[1]}"  # no customer numbers in messages and logs
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.request(method, self.base_url + path, json=body, params=params) as resp,
            ):
                received = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    received += chunk
                    if len(received) > MAX_ANSWER:
                        raise ProviderUnavailable(f"the provider's answer to {what} is too large")
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("provider at %s unreachable on %s: %r", self.base_url, what, exc)
            raise ProviderUnavailable(
                f"the provider at {self.base_url} is unreachable ({type(exc).__name__})"
            ) from exc
        return _answer(status, bytes(received), what)

    async def lookup_customer(self, number: str) -> Customer:
        """By 11-digit meter number or 12-digit customer id."""
        return _customer(await self._call("GET", f"/customers/{_segment(number)}"))

    async def quote(self, meter_number: str, amount: int) -> Quote:
        body = {"meter_number": meter_number, "amount": amount}
        return _quote(await self._call("POST", "/tokens/quote", body=body))

    async def create_order(
        self, meter_number: str, amount: int, reference: str | None = None
    ) -> Transaction:
        """A token order waiting for payment into its virtual account.

        `reference` (the conversation id) comes back in the provider's payment callback, so
        the token reaches the customer's chat as soon as the payment is confirmed.
        """
        body: dict[str, object] = {"meter_number": meter_number, "amount": amount}
        if reference:
            body["reference"] = reference
        return _transaction(await self._call("POST", "/tokens/orders", body=body))

    async def transaction(self, ref: str) -> Transaction:
        return _transaction(await self._call("GET", f"/transactions/{_segment(ref)}"))

    async def latest_transactions(self, meter_number: str, limit: int = 3) -> list[Transaction]:
        """The meter's most recent transactions, newest first."""
        path = f"/customers/{_segment(meter_number)}/transactions"
        data = await self._call("GET", path, params={"limit": str(limit)})
        return [_transaction(t) for t in _Fields("transaction list", data).items("transactions")]

    async def bill(self, customer_id: str) -> Bill:
        return _bill(await self._call("GET", f"/bills/{_segment(customer_id)}"))

    async def open_complaint(
        self,
        *,
        description: str,
        category: str,
        customer_id: str | None = None,
        meter_number: str | None = None,
        area: str | None = None,
    ) -> Ticket:
        """Needs at least one of customer_id, meter_number or area."""
        body = {"description": description, "category": category}
        optional = {"customer_id": customer_id, "meter_number": meter_number, "area": area}
        body.update({k: v for k, v in optional.items() if v is not None})
        return _ticket(await self._call("POST", "/complaints", body=body))

    async def complaint(self, ticket_id: str) -> Ticket:
        return _ticket(await self._call("GET", f"/complaints/{_segment(ticket_id)}"))

    async def outages(self, area: str) -> list[Outage]:
        """Current outages whose area matches `area`."""
        data = await self._call("GET", "/outages", params={"area": area})
        return [_outage(o) for o in _Fields("outage list", data).items("outages")]
