"""Token nominals, the admin fee and the price of a kWh per tariff: what a quote is made of."""

from __future__ import annotations

from bot.sandbox.errors import InvalidInput, NotPrepaid
from bot.sandbox.records import Customer, Kind, Quote

NOMINALS = (20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)  # rupiah
ADMIN_FEE = 2_500  # rupiah per purchase, charged on top of the nominal

# Rupiah per kWh, close to the utility's published non-subsidised prices; the sandbox ignores
# the regional street-lighting tax, so its kWh are an estimate, as the real quote's are too.
RATES = {"R1M": 1352.00, "R1": 1444.70, "R2": 1699.53, "B1": 1444.70}
DEFAULT_RATE = 1444.70


def check_amount(amount: object) -> int:
    """The amount as an int when it is one of the nominals; raises InvalidInput otherwise."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount not in NOMINALS:
        allowed = ", ".join(str(n) for n in NOMINALS)
        raise InvalidInput(f"amount must be one of {allowed}", code="invalid_amount")
    return amount


def quote(customer: Customer, amount: object) -> Quote:
    """What buying a token of `amount` rupiah costs `customer` and roughly how many kWh it gives."""
    if customer.kind is not Kind.PREPAID:
        raise NotPrepaid(f"customer {customer.customer_id} is postpaid and buys no tokens")
    nominal = check_amount(amount)
    rate = RATES.get(customer.tariff, DEFAULT_RATE)
    return Quote(
        meter_number=customer.meter_number,
        amount=nominal,
        admin_fee=ADMIN_FEE,
        kwh=round(nominal / rate, 2),
    )
