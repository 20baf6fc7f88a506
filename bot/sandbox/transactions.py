"""Token orders: created waiting for payment, paid (by hand or after a delay), then issued."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable

from bot.sandbox import keys
from bot.sandbox.customers import hash_args
from bot.sandbox.errors import TransactionExpired, TransactionNotFound
from bot.sandbox.records import Customer, Quote, Transaction, TransactionStatus
from bot.sandbox.scripts import CREATE_IF_ABSENT, SETTLE
from handoff.store import Store

_REF = re.compile(r"TRX[0-9A-Z]{8}")
_REF_ALPHABET = string.ascii_uppercase + string.digits
MAX_LIMIT = 20


def new_ref() -> str:
    return "TRX" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))


def new_token() -> str:
    """Twenty digits in groups of four, as printed on the utility's receipts."""
    digits = "".join(secrets.choice(string.digits) for _ in range(20))
    return "-".join(digits[i : i + 4] for i in range(0, 20, 4))


def new_virtual_account() -> str:
    """Sixteen digits: the sandbox bank's 4-digit prefix and a random 12-digit number."""
    return "8808" + "".join(secrets.choice(string.digits) for _ in range(12))


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class Transactions:
    """`pay_delay` seconds after an order is created it counts as paid (0: only by hand);
    unpaid orders expire after `order_ttl` seconds. Both are applied when an order is read.

    `on_settled` is called with the transaction whenever a call issued its token — once per
    order, whichever call (a payment, a read, the pay-delay timer) got there first.
    """

    def __init__(
        self,
        store: Store,
        *,
        pay_delay: float,
        order_ttl: float,
        clock: Callable[[], float],
        on_settled: Callable[[Transaction], None] | None = None,
    ) -> None:
        self._store = store
        self._pay_delay = pay_delay
        self._order_ttl = order_ttl
        self._clock = clock
        self._on_settled = on_settled
        self._create = store.redis.register_script(CREATE_IF_ABSENT)
        self._settle = store.redis.register_script(SETTLE)

    def _now(self) -> int:
        return _ms(self._clock())

    async def _insert(self, txn: Transaction) -> bool:
        index = keys.transactions(txn.quote.meter_number)
        async with self._store.guard():
            created = await self._create(
                keys=[keys.transaction(txn.ref), index],
                args=[txn.created_at, txn.ref, *hash_args(txn.to_fields())],
            )
        return bool(created)

    async def seed(self, transactions: Iterable[Transaction]) -> None:
        """Adds the transactions that do not exist yet; existing ones are left as they are."""
        for txn in transactions:
            await self._insert(txn)

    async def create(
        self, customer: Customer, quote: Quote, reference: str | None = None
    ) -> Transaction:
        """A new order waiting for payment into a fresh virtual account."""
        now = self._now()
        while True:  # a clash among 36^8 references is rare; never overwrite one
            txn = Transaction(
                ref=new_ref(),
                customer_id=customer.customer_id,
                quote=quote,
                status=TransactionStatus.WAITING_PAYMENT,
                virtual_account=new_virtual_account(),
                created_at=now,
                expires_at=now + _ms(self._order_ttl),
                reference=reference,
            )
            if await self._insert(txn):
                return txn

    async def _settled(self, ref: str, *, pay_now: bool) -> Transaction:
        ref = ref.strip().upper()
        if not _REF.fullmatch(ref):
            raise TransactionNotFound(f"no transaction has the reference {ref!r}")
        args = [self._now(), _ms(self._pay_delay), "1" if pay_now else "0", new_token()]
        async with self._store.guard():
            found = await self._settle(keys=[keys.transaction(ref)], args=args)
        if not found:
            raise TransactionNotFound(f"no transaction has the reference {ref}")
        settled, flat = found
        txn = Transaction.from_fields(dict(zip(flat[::2], flat[1::2], strict=True)))
        if settled and self._on_settled is not None:
            self._on_settled(txn)
        return txn

    async def get(self, ref: str) -> Transaction:
        """The transaction, with any payment or expiry that is due applied first."""
        return await self._settled(ref, pay_now=False)

    async def pay(self, ref: str) -> Transaction:
        """The customer pays: the token is issued. Paying again changes nothing."""
        txn = await self._settled(ref, pay_now=True)
        if txn.status is TransactionStatus.EXPIRED:
            raise TransactionExpired(f"transaction {txn.ref} expired before it was paid")
        return txn

    async def latest(self, customer: Customer, limit: int) -> list[Transaction]:
        """The customer's most recent transactions, newest first."""
        index = keys.transactions(customer.meter_number)
        async with self._store.guard():
            refs = await self._store.redis.zrevrange(index, 0, limit - 1)
        found = []
        for ref in refs:
            try:
                found.append(await self.get(ref))
            except TransactionNotFound:  # removed by hand from Redis; the index lags behind
                continue
        return found
