"""When the team can answer: its service hours, in its own time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_DAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SPEC = re.compile(
    r"\s*([a-z]{3})(?:-([a-z]{3}))?\s+([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})\s*"
)


# Indonesia's three time zones by the names people say; other zones by their IANA name.
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
               "Asia/Jayapura": "WIT"}  # fmt: skip


def zone_label(zone: str) -> str:
    """'WIB' for Asia/Jakarta; the zone's own name where Indonesia has no word for it."""
    return ZONE_LABELS.get(zone, zone)


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """Days and daily opening hours of the agents' team, in the team's time zone."""

    first_day: int  # 0 = Monday
    last_day: int
    opens: time
    closes: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str) -> ServiceHours:
        """'mon-sat 08:00-20:00' in e.g. 'Asia/Jakarta'; raises ValueError saying what is wrong."""
        match = _SPEC.fullmatch(spec.lower())
        if not match or match.group(1) not in DAYS or (match.group(2) or "mon") not in DAYS:
            raise ValueError(f"service hours must look like 'mon-sat 08:00-20:00', got {spec!r}")
        first = DAYS.index(match.group(1))
        last = DAYS.index(match.group(2)) if match.group(2) else first
        h1, m1, h2, m2 = (int(g) for g in match.groups()[2:])
        if not (0 <= h1 < 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
            raise ValueError(f"service hours have an impossible time: {spec!r}")
        closes = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        return cls(first, last, time(h1, m1), closes, ZoneInfo(zone))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        in_days = self.first_day <= local.weekday() <= self.last_day
        return in_days and self.opens <= local.time() < self.closes

    def describe(self, language: str) -> str:
        names = _DAY_EN if language == "en" else _HARI
        days = names[self.first_day]
        if self.last_day != self.first_day:
            days += "–" + names[self.last_day]
        zone = zone_label(str(self.zone))
        sep = ":" if language == "en" else "."
        opens, closes = (f"{t.hour:02d}{sep}{t.minute:02d}" for t in (self.opens, self.closes))
        return f"{days} {opens}–{closes} {zone}"
