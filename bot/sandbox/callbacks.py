"""Payment callbacks: the sandbox tells the orderer, signed, when an order's token is issued.

Each event is one JSON POST to the callback URL with `X-Loket-Signature: sha256=<hex>`, the
HMAC-SHA256 of the raw body with the shared secret — what a real provider's callback does.
Every event is sent by its own task, owned here and ended on shutdown; failures are retried
with backoff, then logged. They never reach the customer's payment.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import aiohttp

from bot.sandbox.records import Transaction, iso

log = logging.getLogger(__name__)

EVENT = "payment.settled"
SIGNATURE_HEADER = "X-Loket-Signature"
_PERMANENT = range(400, 500)  # the receiver refused this event; sending it again cannot help
_TRANSIENT = (408, 429)


def signature(secret: str, body: bytes) -> str:
    """The header value for `body`: "sha256=" and the hex HMAC-SHA256 with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def settled_event(txn: Transaction) -> dict[str, Any]:
    return {
        "event": EVENT,
        "ref": txn.ref,
        "status": txn.status.value,
        "token": txn.token,
        "amount": txn.quote.amount,
        "reference": txn.reference,
        "paid_at": iso(txn.paid_at) if txn.paid_at is not None else None,
    }


class Callbacks:
    """POSTs settled payments to `url`; `attempts` tries, `backoff` s doubling between them."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        attempts: int = 4,
        backoff: float = 1.0,
    ) -> None:
        self.url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._attempts = attempts
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    def notify(self, txn: Transaction) -> None:
        """Send the event for `txn` in the background (the payer does not wait for it)."""
        if self._session is None:
            log.warning("payment %s settled while callbacks are stopped: not announced", txn.ref)
            return
        body = json.dumps(settled_event(txn), ensure_ascii=False).encode()
        task = asyncio.create_task(self._deliver(txn.ref, body), name=f"callback {txn.ref}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(self, ref: str, body: bytes) -> None:
        assert self._session is not None
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: signature(self._secret, body)}  # fmt: skip
        reason = ""
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._session.post(self.url, data=body, headers=headers) as resp:
                    status = resp.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                reason = type(exc).__name__
            else:
                if status < 300:
                    log.info("payment %s announced to %s", ref, self.url)
                    return
                if status in _PERMANENT and status not in _TRANSIENT:
                    log.warning("payment %s: callback refused with HTTP %s", ref, status)
                    return
                reason = f"HTTP {status}"
            if attempt < self._attempts:
                log.info("payment %s: callback attempt %s failed (%s)", ref, attempt, reason)
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        log.warning("payment %s: callback to %s failed %s times (%s); giving up",
                    ref, self.url, self._attempts, reason)  # fmt: skip

    async def close(self, grace: float = 2.0) -> None:
        """Let events in flight finish for `grace` seconds, cancel the rest, close the session."""
        if self._sending:
            _, stuck = await asyncio.wait(set(self._sending), timeout=grace)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
            if stuck:
                log.warning("%s payment callbacks cancelled at shutdown", len(stuck))
        if self._session is not None:
            await self._session.close()
            self._session = None
