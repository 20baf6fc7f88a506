"""Where Loket's log lines go and how they look: text for a terminal, JSON for a collector.

JSON lines (LOKET_LOG_FORMAT=json) carry `time`, `level`, `logger`, `event` (the message),
`conversation` when the line is about one (bot/core/log_context.py), and `exception` with the
traceback. Lines from libraries (aiohttp, Rasa's client) take the same shape.
"""

from __future__ import annotations

import logging
import sys

import structlog

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUIET = ("aiohttp.access",)  # one line a request: too much at INFO


def json_formatter() -> logging.Formatter:
    stamped: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=stamped,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )


def configure(level: str, form: str) -> None:
    """Set up the root logger once, at start (`form` is "text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if form == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
