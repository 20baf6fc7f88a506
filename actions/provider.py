"""The client the actions use to reach the utility's provider API (or the sandbox standing in).

Every call opens its own short-lived HTTP session with a total timeout, so nothing is left
open between actions. Answers are parsed strictly: a missing or ill-typed field means the
provider is not speaking the API we expect, which the actions treat like an outage.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote as quote_path
from urllib.parse import urlsplit

import aiohttp

from actions.answers import (
    Bill,
    Customer,
    Fields,
    Outage,
    Quote,
    Ticket,
    Transaction,
    parse_bill,
    parse_customer,
    parse_outage,
    parse_quote,
    parse_ticket,
    parse_transaction,
)
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
        return parse_customer(await self._call("GET", f"/customers/{_segment(number)}"))

    async def quote(self, meter_number: str, amount: int) -> Quote:
        body = {"meter_number": meter_number, "amount": amount}
        return parse_quote(await self._call("POST", "/tokens/quote", body=body))

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
        return parse_transaction(await self._call("POST", "/tokens/orders", body=body))

    async def transaction(self, ref: str) -> Transaction:
        return parse_transaction(await self._call("GET", f"/transactions/{_segment(ref)}"))

    async def latest_transactions(self, meter_number: str, limit: int = 3) -> list[Transaction]:
        """The meter's most recent transactions, newest first."""
        path = f"/customers/{_segment(meter_number)}/transactions"
        data = await self._call("GET", path, params={"limit": str(limit)})
        return [
            parse_transaction(t) for t in Fields("transaction list", data).items("transactions")
        ]

    async def bill(self, customer_id: str) -> Bill:
        return parse_bill(await self._call("GET", f"/bills/{_segment(customer_id)}"))

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
        return parse_ticket(await self._call("POST", "/complaints", body=body))

    async def complaint(self, ticket_id: str) -> Ticket:
        return parse_ticket(await self._call("GET", f"/complaints/{_segment(ticket_id)}"))

    async def outages(self, area: str) -> list[Outage]:
        """Current outages whose area matches `area`."""
        data = await self._call("GET", "/outages", params={"area": area})
        return [parse_outage(o) for o in Fields("outage list", data).items("outages")]
