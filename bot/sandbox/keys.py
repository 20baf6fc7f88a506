"""The sandbox provider's Redis keys: the demo utility's own data, not Loket's state.

A deployment with a real provider API never writes these. `{sandbox}` is a Redis Cluster hash
tag: the sandbox is small, and keeping all of it in one slot lets one Lua script touch any of
its keys.
"""

PREFIX = "loket:v1:{sandbox}"


def customer(customer_id: str) -> str:
    """Hash: meter_number, customer_id, name, tariff, power_va, kind, area."""
    return f"{PREFIX}:customer:{customer_id}"


def meters() -> str:
    """Hash: 11-digit meter number -> 12-digit customer id."""
    return f"{PREFIX}:meters"


def bill(customer_id: str) -> str:
    """Hash: the postpaid customer's current bill (period, amount_due, due_date, status)."""
    return f"{PREFIX}:bill:{customer_id}"


def transaction(ref: str) -> str:
    """Hash: one token order (amounts, status, virtual account, token; times in ms)."""
    return f"{PREFIX}:txn:{ref}"


def transactions(meter_number: str) -> str:
    """Sorted set: a meter's transaction refs, scored by created_at (ms since epoch)."""
    return f"{PREFIX}:meter:{meter_number}:txns"


def ticket(ticket_id: str) -> str:
    """Hash: one complaint ticket (category, description, area, status, note; times in ms)."""
    return f"{PREFIX}:ticket:{ticket_id}"


def open_report(customer_id: str, area: str) -> str:
    """String (expires after a day): the ticket of the outage this customer reported for this
    area (lowercased), so a second report of it gets the same ticket."""
    return f"{PREFIX}:report:{customer_id}:{area}"


def outages() -> str:
    """Hash: outage id -> JSON {area, cause, started_at, estimated_restore} (ms)."""
    return f"{PREFIX}:outages"


def seeded() -> str:
    """String: set once the demo data is written; missing (e.g. after FLUSHALL) means seed again."""
    return f"{PREFIX}:seeded"
