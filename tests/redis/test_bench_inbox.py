"""bench/inbox.py, a tiny real run: its own Redis, a gateway and a fake Cloud API, no Rasa."""

from __future__ import annotations

import subprocess
import sys

from bot.core.settings import PROJECT_ROOT

TINY = ("--handoffs", "2", "--agents", "2", "--messages", "6", "--rate", "50")


def test_a_tiny_inbox_benchmark_delivers_every_event_and_reply() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.inbox", *TINY],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "events expected 12, received 12; replies sent 6, reached the channel 6\n" in out
    for path in ("webhook -> agent's live stream", "agent reply -> channel send call", "floor"):
        assert path in out
