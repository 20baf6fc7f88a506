"""The `loket` command and the benchmarks run as a newcomer runs them: child processes from the
project root."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.core.settings import PROJECT_ROOT


def loket(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_bench(name: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The benchmark as its docstring says to run it: a module, from the project root."""
    return subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
