"""Which language the customer writes in."""

from __future__ import annotations

import pytest

from actions.language import detect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status transaksi TRXDEMO0003", "id"),
        ("udh bayar tp token blm masuk", "id"),
        ("cek tagihan dong", "id"),
        ("listrik mati dr td pagi", "id"),
        ("how do I buy a token", "en"),
        ("my token has not arrived yet", "en"),
        ("I want to check my bill", "en"),
    ],
)
def test_language_of_a_message(text: str, expected: str) -> None:
    assert detect(text) == expected


@pytest.mark.parametrize("text", ["50000", "14234567890", "ok", "TRXDEMO0001"])
def test_no_signal_keeps_the_language_in_use(text: str) -> None:
    assert detect(text, "en") == "en"
    assert detect(text, "id") == "id"
