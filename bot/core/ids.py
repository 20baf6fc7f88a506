"""The syntax of ids that arrive from outside: whole-string, ASCII-only checks.

`re.match` with `$` accepts a trailing newline and `\\d` accepts any Unicode digit ("١٢"),
so every id check here uses `fullmatch` and ASCII classes; a stream id must also fit Redis's
two 64-bit halves, or Redis itself refuses it (a 500 instead of a 400).
"""

from __future__ import annotations

import re

_STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
_U64 = 2**64 - 1


def is_stream_id(text: str) -> bool:
    """True for a Redis stream id such as '1718000000000-0' (a transcript line, an event)."""
    match = _STREAM_ID.fullmatch(text)
    return bool(match) and all(int(part) <= _U64 for part in match.groups())  # type: ignore[union-attr]


def matches(pattern: re.Pattern[str], text: object) -> bool:
    """`pattern` matches all of `text` (a str), never just a prefix or up to a newline."""
    return isinstance(text, str) and pattern.fullmatch(text) is not None
