"""How actions show numbers, rupiah and times to customers: the Indonesian way in Indonesian
("Rp50.000", "69,2 kWh", "20.15 WIB"), the English way in English, on the service's clock."""

from __future__ import annotations

import pytest

from actions.display import day, number, rupiah, service_zone, token, when


def test_rupiah_and_kwh_take_the_languages_separators() -> None:
    assert rupiah(1_000_000) == "Rp1.000.000"
    assert rupiah(2_500) == "Rp2.500"
    assert rupiah(50_000, "en") == "Rp50,000"
    assert number(69.23) == "69,2"
    assert number(69.25, "en") == "69.2"  # banker's rounding of the float, as Python's format
    assert number(1234.56) == "1.234,6"
    assert number(1234.56, "en") == "1,234.6"


def test_times_are_on_the_service_clock_with_its_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOKET_TIMEZONE", raising=False)
    assert when("2026-11-23T13:15:00Z") == "23 Nov 2026 20.15 WIB"
    assert when("2026-12-23T13:15:00+00:00", "en") == "23 Dec 2026 20:15 WIB"
    assert when("2026-08-17T01:00:00Z") == "17 Agu 2026 08.00 WIB"
    monkeypatch.setenv("LOKET_TIMEZONE", "Asia/Makassar")
    assert when("2026-11-23T13:15:00Z") == "23 Nov 2026 21.15 WITA"
    monkeypatch.setenv("LOKET_TIMEZONE", "Europe/Amsterdam")
    assert service_zone()[1] == "Europe/Amsterdam"
    assert when("2026-11-23T13:15:00Z", "en") == "23 Nov 2026 14:15 Europe/Amsterdam"


def test_dates_and_odd_values() -> None:
    assert day("2026-12-20") == "20 Des 2026"
    assert day("2026-05-20", "en") == "20 May 2026"
    assert when(None) == "-" and day("") == "-"
    assert when("not a time") == "not a time"
    assert token("12345678901234567890") == "1234-5678-9012-3456-7890"
