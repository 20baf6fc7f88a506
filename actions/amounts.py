"""Token nominals as customers write them: "50rb", "Rp50.000", "50k", "lima puluh ribu", and in
regional words: Javanese "seket ewu", "satus ewu"; Sundanese "lima puluh rebu", "saratus rebu";
Jakarta's "gocap", "cepek", "gopek" (50, 100, 500: thousands when said of a token)."""

from __future__ import annotations

import re

NOMINALS = (20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)

_UNITS = {
    # Indonesian
    "nol": 0, "satu": 1, "se": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6,
    "tujuh": 7, "delapan": 8, "sembilan": 9, "sepuluh": 10, "sebelas": 11, "seratus": 100,
    "seribu": 1000, "sejuta": 1_000_000,
    # Javanese (ngoko and krama), Sundanese
    "siji": 1, "setunggal": 1, "loro": 2, "rong": 2, "kalih": 2, "telu": 3, "telung": 3,
    "papat": 4, "patang": 4, "limang": 5, "gangsal": 5, "nem": 6, "enem": 6,
    "pitu": 7, "pitung": 7, "wolu": 8, "wolung": 8, "sanga": 9, "sangang": 9,
    "selawe": 25, "seket": 50, "sewidak": 60, "satus": 100, "sangatus": 100,
    "sewu": 1000, "sayuta": 1_000_000, "hiji": 1, "opat": 4, "genep": 6,
    "dalapan": 8, "salapan": 9, "saratus": 100, "sarebu": 1000, "sajuta": 1_000_000,
    # Jakarta (from Hokkien)
    "gocap": 50, "cepek": 100, "nopek": 200, "gopek": 500, "ceban": 10_000,
    # English
    "zero": 0, "one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "puluh": 10, "belas": None, "ratus": 100, "hundred": 100, "atus": 100, "welas": None,
    "ribu": 1000, "rb": 1000, "k": 1000, "thousand": 1000, "ewu": 1000, "rebu": 1000,
    "ewon": 1000,
    "juta": 1_000_000, "jt": 1_000_000, "m": 1_000_000, "million": 1_000_000,
}  # fmt: skip

# "Rp 50.000", "50,000", "50000", "50rb", "50 ribu", "1jt", "1,5 juta", "50k"
_NUMERIC = re.compile(
    r"(?:rp\.?\s*)?(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)\s*"
    r"(rb|ribu|k|rebu|ewu|ewon|jt|juta|m|million|thousand)?\b"
)
_MULTIPLIER = {
    "rb": 1000, "ribu": 1000, "rebu": 1000, "ewu": 1000, "ewon": 1000, "k": 1000, "thousand": 1000,
    "jt": 1_000_000, "juta": 1_000_000, "m": 1_000_000, "million": 1_000_000,
}  # fmt: skip


def _numeric(text: str) -> int | None:
    match = _NUMERIC.search(text)
    if not match:
        return None
    digits, unit = match.group(1), match.group(2)
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", digits):
        value = float(digits.replace(".", "").replace(",", ""))
    else:
        value = float(digits.replace(",", "."))
    if unit:
        value *= _MULTIPLIER[unit]
    return round(value)


def _words(text: str) -> int | None:
    total, current, seen = 0, 0, False
    for word in re.findall(r"[a-z]+", text):
        if word in _UNITS:
            current += _UNITS[word]
            seen = True
        elif word in ("belas", "welas") and seen:
            current += 10
        elif word in _SCALES and seen:
            scale = _SCALES[word] or 1
            if scale >= 1000:
                total += max(current, 1) * scale
                current = 0
            else:
                current = max(current, 1) * scale
        elif seen and word not in ("dan", "and", "rupiah", "rp"):
            break
    value = total + current
    return value if seen and value else None


def parse_amount(text: str) -> int | None:
    """The rupiah amount in `text`, or None. A bare small number ("50") means thousands."""
    lowered = text.lower().strip()
    if re.search(r"\d{11,}", lowered):  # a meter number or customer id, not an amount
        return None
    value = _numeric(lowered)
    if value is None:
        value = _words(lowered)
    if value is None:
        return None
    if value * 1000 in NOMINALS:  # "yang 50 aja", "100"
        value *= 1000
    return value


def is_nominal(amount: int) -> bool:
    return amount in NOMINALS
