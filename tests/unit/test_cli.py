"""The `loket` command as a newcomer meets it."""

from __future__ import annotations

from bot.ops.processes import free_port
from tests.support.cli import loket


def test_help_lists_the_subcommands() -> None:
    result = loket("--help")
    assert result.returncode == 0
    assert "run" in result.stdout and "train" in result.stdout


def test_run_with_unreachable_redis_fails_fast_naming_redis_url() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    result = loket("run", env={"REDIS_URL": url})
    assert result.returncode == 2
    assert "REDIS_URL=redis://:***@127.0.0.1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "training" not in result.stdout  # failed before any slow work


def test_bad_setting_is_named() -> None:
    result = loket("run", env={"LOKET_PORT": "http"})
    assert result.returncode == 2
    assert "LOKET_PORT" in result.stderr
