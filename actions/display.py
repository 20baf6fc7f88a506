"""How values are shown to customers: times in WIB, tokens in groups of four, digits only."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def when(iso: str | None) -> str:
    """An ISO-8601 time as '23-11-2026 20:15 WIB' (the customers' clock), or '-'."""
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(WIB).strftime("%d-%m-%Y %H:%M WIB")


def token(digits: str | None) -> str:
    """A 20-digit token as '1234-5678-9012-3456-7890' (how meters print and people type it)."""
    clean = re.sub(r"[^0-9]", "", digits or "")
    return "-".join(clean[i : i + 4] for i in range(0, len(clean), 4))


def digits(text: str | None) -> str:
    """Only the digits of what the customer typed ('1234 5678 901' -> '12345678901').

    Full-width digits become ASCII (NFKC); other scripts' digits are not a meter's."""
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text or ""))
