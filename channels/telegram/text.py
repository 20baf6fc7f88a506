"""Splitting a long text into Telegram-sized messages at paragraph, line or word boundaries."""

from __future__ import annotations

# Telegram counts a message's length in UTF-16 code units (an emoji outside the BMP is 2).
MAX_MESSAGE_UNITS = 4096
_BOUNDARIES = ("\n\n", "\n", " ")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """The largest number of characters of `text` whose UTF-16 length is at most `limit`."""
    if utf16_len(text) <= limit:
        return len(text)
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """`text` in parts of at most `limit` UTF-16 units, cut at the last paragraph break, else
    line break, else space in the second half of a part, else hard; blank parts dropped."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        end = max(_fitting_prefix(rest, limit), 1)  # a lone character wider than `limit`
        if end == len(rest):
            parts.append(rest)
            break
        cut = end
        for boundary in _BOUNDARIES:
            found = rest.rfind(boundary, end // 2, end)
            if found > 0:
                cut = found
                break
        part = rest[:cut].strip()
        if part:
            parts.append(part)
        rest = rest[cut:].strip()
    return parts
