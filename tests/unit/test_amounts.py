"""Token nominals as customers write them."""

from __future__ import annotations

import pytest

from actions.amounts import is_nominal, parse_amount


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("50rb", 50_000),
        ("50 rb", 50_000),
        ("50 ribu", 50_000),
        ("50ribu", 50_000),
        ("Rp50.000", 50_000),
        ("Rp 50.000", 50_000),
        ("rp. 100.000", 100_000),
        ("50.000", 50_000),
        ("50000", 50_000),
        ("50k", 50_000),
        ("50 K", 50_000),
        ("100,000 rupiah", 100_000),
        ("1jt", 1_000_000),
        ("1 juta", 1_000_000),
        ("1,5 juta", 1_500_000),
        ("lima puluh ribu", 50_000),
        # regional words: Javanese, Sundanese, Jakarta
        ("20 ewu", 20_000),
        ("seket ewu", 50_000),
        ("satus ewu", 100_000),
        ("rong atus ewu", 200_000),
        ("limang atus ewu", 500_000),
        ("50 rebu", 50_000),
        ("saratus rebu", 100_000),
        ("lima puluh rebu", 50_000),
        ("sayuta", 1_000_000),
        ("gocap", 50_000),
        ("cepek aja", 100_000),
        ("gopek", 500_000),
        ("token listrik 100 ewu nggih", 100_000),
        ("dua puluh ribu", 20_000),
        ("seratus ribu", 100_000),
        ("dua ratus ribu", 200_000),
        ("lima ratus ribu", 500_000),
        ("satu juta", 1_000_000),
        ("sejuta", 1_000_000),
        ("fifty thousand", 50_000),
        ("one million", 1_000_000),
        ("a hundred thousand", 100_000),
        ("twenty thousand rupiah", 20_000),
        ("yang 100 aja", 100_000),
        ("mau beli token 50rb dong", 50_000),
        ("eh salah, 200rb aja", 200_000),
        ("20", 20_000),
    ],
)
def test_amounts_as_people_write_them(text: str, amount: int) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize("text", ["", "halo", "berapa ya", "12345678901", "nomor 531234567890"])
def test_no_amount(text: str) -> None:
    assert parse_amount(text) is None


def test_only_offered_nominals_are_valid() -> None:
    assert is_nominal(50_000)
    assert not is_nominal(75_000)
    assert not is_nominal(1_500_000)
