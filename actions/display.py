"""How values are shown to customers, in their language: rupiah and kWh with the language's
separators ("Rp50.000", "69,2 kWh"; in English "Rp50,000", "69.2 kWh"), times on the service's
clock (LOKET_TIMEZONE, WIB by default), tokens in groups of four, digits only."""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Indonesia's time zones as people say them; others by their IANA name (bot/core/hours.py
# keeps the same table for the gateway, which actions may not import).
_ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                "Asia/Jayapura": "WIT"}  # fmt: skip
_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def _lang(language: str) -> str:
    return "en" if language == "en" else "id"


def number(value: float, language: str = "id", decimals: int = 1) -> str:
    """69.2 as '69,2' in Indonesian (1.234,5 with thousands), '69.2' in English (1,234.5)."""
    shown = f"{value:,.{decimals}f}"
    if _lang(language) == "en":
        return shown
    return shown.translate(str.maketrans({",": ".", ".": ","}))


def rupiah(amount: int, language: str = "id") -> str:
    """Rp50.000 (Indonesian thousands separator); Rp50,000 in English."""
    return "Rp" + number(amount, language, decimals=0)


@functools.lru_cache(maxsize=4)
def _zone(name: str) -> tuple[ZoneInfo, str]:
    try:
        return ZoneInfo(name), _ZONE_LABELS.get(name, name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Jakarta"), "WIB"


def service_zone() -> tuple[ZoneInfo, str]:
    """The service's time zone (LOKET_TIMEZONE, as the gateway reads it) and its label."""
    return _zone(os.environ.get("LOKET_TIMEZONE", "").strip() or "Asia/Jakarta")


def _moment(iso: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(service_zone()[0])


def when(iso: str | None, language: str = "id") -> str:
    """An ISO-8601 time on the service's clock: '23 Nov 2026 20.15 WIB' ('20:15' in English),
    or '-'."""
    if not iso:
        return "-"
    moment = _moment(iso)
    if moment is None:
        return iso
    sep = ":" if _lang(language) == "en" else "."
    clock = f"{moment.hour:02d}{sep}{moment.minute:02d}"
    return f"{day(iso, language)} {clock} {service_zone()[1]}"


def day(iso: str | None, language: str = "id") -> str:
    """An ISO-8601 date or time as '20 Des 2026' ('20 Dec 2026' in English), or '-'."""
    if not iso:
        return "-"
    moment = _moment(iso) if "T" in iso or " " in iso.strip() else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(iso[:10])
        except ValueError:
            return iso
    return f"{moment.day} {_MONTHS[_lang(language)][moment.month - 1]} {moment.year}"


def token(digits: str | None) -> str:
    """A 20-digit token as '1234-5678-9012-3456-7890' (how meters print and people type it)."""
    clean = re.sub(r"[^0-9]", "", digits or "")
    return "-".join(clean[i : i + 4] for i in range(0, len(clean), 4))


def digits(text: str | None) -> str:
    """Only the digits of what the customer typed ('1234 5678 901' -> '12345678901').

    Full-width digits become ASCII (NFKC); other scripts' digits are not a meter's."""
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text or ""))
