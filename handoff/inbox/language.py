"""The inbox's own words: one dictionary per language (handoff/static/i18n/<lang>.json), which
the page loads, and which the login page (rendered here, before anyone is signed in) reads too.

Indonesian unless the agent chose English; on the login page, the language last chosen in this
browser (a cookie the page sets) or `?lang=`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from aiohttp import web

LANGUAGES = ("id", "en")
DEFAULT = "id"
COOKIE = "loket_lang"
DICTIONARIES = Path(__file__).resolve().parent.parent / "static" / "i18n"


@functools.cache
def dictionary(language: str) -> dict[str, str]:
    path = DICTIONARIES / f"{language if language in LANGUAGES else DEFAULT}.json"
    words: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return words


def text(language: str, key: str, **params: object) -> str:
    """The sentence `key` in `language`, its {placeholders} filled."""
    found = dictionary(language).get(key, key)
    for name, value in params.items():
        found = found.replace("{" + name + "}", str(value))
    return found


def chosen(request: web.Request) -> str:
    """The login page's language: `?lang=`, else this browser's last choice, else Indonesian."""
    for candidate in (request.query.get("lang", ""), request.cookies.get(COOKIE, "")):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT
