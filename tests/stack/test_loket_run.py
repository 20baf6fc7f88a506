"""`loket run` killed with SIGKILL: no child outlives it, and the next start finds a clean slate.

Rasa is given by URL here (the drill `bench.drill_kill_loket` kills a run with its own Rasa
server too), so the run's children are the embedded Redis, the sandbox provider and the action
server; the model fixture makes sure `loket run` finds its model and does not train.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.ops.pidfile import Child
from bot.ops.processes import free_port, http_ok


def port_free(port: int) -> bool:
    """Nothing listens on it (closed connections' TIME_WAIT does not count, as for servers)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f} s"
        time.sleep(0.2)


class Run:
    """One `loket run` child process on its own data folder and ports."""

    def __init__(self, data: Path, ports: dict[str, int]) -> None:
        self.data = data
        self.ports = ports
        env = {
            **os.environ,
            "LOKET_DATA_DIR": str(data),
            "LOKET_PORT": str(ports["gateway"]),
            "LOKET_ACTIONS_PORT": str(ports["actions"]),
            "LOKET_PROVIDER_PORT": str(ports["provider"]),
            "LOKET_RASA_URL": "http://127.0.0.1:9",  # not started: this test is about the rest
            "LOKET_LOG_LEVEL": "WARNING",
        }
        env.pop("REDIS_URL", None)
        self.log = (data / "loket-run.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.ops.cli", "run"],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        ready = http_ok(f"http://127.0.0.1:{ports['gateway']}/livez")
        wait_for(lambda: ready() or self.proc.poll() is not None, 180, "loket run ready")
        assert self.proc.poll() is None, (data / "loket-run.log").read_text()[-3000:]

    def children(self) -> list[Child]:
        rows = json.loads((self.data / "run" / "children.json").read_text())
        return [Child(r["name"], r["pid"], r["identity"]) for r in rows]

    def redis_port(self) -> int:
        url = urlsplit((self.data / "redis" / "url").read_text().strip())
        return int(url.port or 0)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for run in started:
        run.close()


def test_kill_9_of_loket_run_leaves_no_child_and_a_restart_works(
    model: Path, tmp_path: Path, runs: list[Run]
) -> None:
    ports = {name: free_port() for name in ("gateway", "actions", "provider")}
    first = Run(tmp_path, ports)
    runs.append(first)
    children = first.children()
    assert {c.name for c in children} == {"redis", "sandbox provider", "action server"}
    assert all(c.alive() for c in children)
    redis_port = first.redis_port()

    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    wait_for(lambda: not any(c.alive() for c in children), 30, "every child gone")
    for port in (*ports.values(), redis_port):
        wait_for(lambda port=port: port_free(port), 10, f"port {port} free")

    second = Run(tmp_path, ports)  # same folder, same ports: a clean slate
    runs.append(second)
    again = second.children()
    assert {c.name for c in again} == {"redis", "sandbox provider", "action server"}
    assert not {c.pid for c in again} & {c.pid for c in children}
    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(timeout=60) == 0
    assert not any(c.alive() for c in again)
    assert not (tmp_path / "run" / "children.json").exists()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_training_dies_with_the_command_that_started_it(tmp_path: Path) -> None:
    """`rasa train` runs for minutes on every core: killing `loket train` (or a test or a
    benchmark that trains) must not leave it running."""
    script = (
        "from pathlib import Path\n"
        "from bot.ops.model import ensure_model\n"
        "from tests.support.models import worse_inputs\n"
        f"ensure_model(worse_inputs(Path({str(tmp_path / 'in')!r})), Path({str(tmp_path)!r}),"
        " quiet=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        training: list[int] = []

        def started() -> bool:
            training[:] = children_of(parent.pid)
            return bool(training)

        wait_for(started, 60, "rasa train")
        parent.kill()
        parent.wait()
        wait_for(lambda: not any(alive(p) for p in training), 15, "the training's end")
    finally:
        parent.kill()
        for pid in training:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
