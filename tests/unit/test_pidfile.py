"""The record of `loket run`'s children: a crashed run's leftovers are stopped, a live run's
folder is not taken, and a pid now used by another process is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.ops.pidfile import Child, PidFile, identity

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
)


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started as `loket run` starts its children (each leads its own session)."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def spawn(procs: list[subprocess.Popen[bytes]], *argv: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv or ("sleep", "600"), start_new_session=True)
    procs.append(proc)
    return proc


def crash(pidfile: PidFile) -> None:
    """The run dies: the kernel drops its lock, the record stays behind."""
    assert pidfile._lock is not None
    os.close(pidfile._lock)
    pidfile._lock = None


def test_a_crashed_runs_children_are_stopped_by_the_next_run(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    first = PidFile(tmp_path)
    assert first.acquire() == []
    redis, stubborn = spawn(spawned), spawn(spawned, sys.executable, "-c", IGNORES_SIGTERM)
    first.add("redis", redis.pid)
    first.add("action server", stubborn.pid)
    crash(first)
    assert redis.poll() is None and stubborn.poll() is None

    stopped = PidFile(tmp_path, stop_grace=0.5).acquire()
    assert [c.name for c in stopped] == ["redis", "action server"]
    assert redis.wait(timeout=5) is not None
    assert stubborn.wait(timeout=5) is not None  # SIGKILL once the grace ran out


def test_a_running_loket_keeps_its_folder(tmp_path: Path) -> None:
    running = PidFile(tmp_path)
    running.acquire()
    with pytest.raises(ConfigError, match=rf"another `loket run` \(pid {os.getpid()}\)"):
        PidFile(tmp_path).acquire()
    running.release()
    assert not running.path.exists()
    PidFile(tmp_path).acquire()  # free again


def test_a_pid_now_used_by_another_process_is_left_alone(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    stranger = spawn(spawned)
    record = PidFile(tmp_path)
    record.acquire()
    record._children = [Child("sandbox provider", stranger.pid, "an earlier start time")]
    record._write()
    crash(record)
    assert PidFile(tmp_path, stop_grace=0.5).acquire() == []
    assert stranger.poll() is None


def test_identity_tells_a_live_process_from_a_gone_one(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = spawn(spawned)
    assert identity(proc.pid) is not None
    assert identity(proc.pid) == identity(proc.pid)
    proc.kill()
    proc.wait()
    assert identity(proc.pid) is None


def test_an_unreadable_record_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "children.json").write_text("{not json")
    assert PidFile(tmp_path).acquire() == []
