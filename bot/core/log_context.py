"""The conversation a log line is about, carried by the context rather than by every call.

Text logs already name the conversation in each message; JSON logs (LOKET_LOG_FORMAT=json)
get it as a field of every line written while `about(...)` is in force (bot/ops/logs.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import structlog.contextvars


def about(conversation_id: str) -> AbstractContextManager[None]:
    """Every log line written inside this block carries `conversation`."""
    return structlog.contextvars.bound_contextvars(conversation=conversation_id)
