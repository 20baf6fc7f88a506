"""Reading JSON that arrives from outside: UTF-8 only, and one clear error for anything else.

`json.loads` raises more than JSONDecodeError: a body nested a few thousand levels deep
(`[[[[…`) raises RecursionError, which would otherwise reach the client as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.errors import BadMessage


def read_json(raw: bytes) -> Any:
    """The decoded JSON value of a request body, or BadMessage saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("the body must be UTF-8 encoded JSON") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise BadMessage("the body is not valid JSON (nested too deeply)") from None
    except ValueError:
        raise BadMessage("the body is not valid JSON") from None


def read_json_object(raw: bytes) -> dict[str, Any]:
    value = read_json(raw)
    if not isinstance(value, dict):
        raise BadMessage("the body must be a JSON object")
    return value
