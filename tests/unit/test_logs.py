"""JSON log lines: one object a line, with the conversation a line is about."""

from __future__ import annotations

import io
import json
import logging

from bot.core.log_context import about
from bot.ops.logs import json_formatter


def test_json_lines_carry_the_conversation_and_the_traceback() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("loket.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with about("telegram:42"):
            logger.warning("%s: delivery failed: %s", "telegram:42", "HTTP 502")
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("turn failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["conversation"] == "telegram:42" and first["level"] == "warning"
    assert first["event"] == "telegram:42: delivery failed: HTTP 502"
    assert first["logger"] == "loket.test.logs" and first["time"].endswith("Z")
    assert "conversation" not in second  # outside the block, about nothing
    assert "ValueError: bad" in second["exception"]
