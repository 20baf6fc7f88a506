"""The children one run of Loket started, recorded under its data folder, so that a run after a
crash finds the ones still alive and stops them before starting its own.

The children also die with their parent on Linux (`processes.die_with_parent`); this record is
the second line: a child that ignored the signal, a platform without it, or one still shutting
down when the next run starts. An exclusive lock on the folder keeps a second run from
mistaking the first one's children for leftovers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.core.errors import ConfigError

log = logging.getLogger(__name__)

STOP_GRACE_S = 15.0  # what a leftover gets between SIGTERM and SIGKILL (Redis flushes its AOF)


def identity(pid: int) -> str | None:
    """What tells this process apart from a later one given the same pid: its start time.
    None when no such process runs (a zombie, already dead, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc here (macOS, BSD): ask ps
        return _ps_identity(pid)
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces
    state, start_ticks = fields[0], fields[19]
    return None if state in ("Z", "X") else start_ticks


def _ps_identity(pid: int) -> str | None:
    try:
        out = subprocess.run(["ps", "-o", "stat=,lstart=", "-p", str(pid)],
                             capture_output=True, text=True, timeout=5).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if not out or out.startswith("Z"):
        return None
    return out.split(None, 1)[1] if " " in out else out


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    pid: int
    identity: str

    def alive(self) -> bool:
        return identity(self.pid) == self.identity


class PidFile:
    """`<data dir>/run/children.json` and the lock beside it, held while a run owns the folder."""

    def __init__(self, data_dir: Path, *, stop_grace: float = STOP_GRACE_S) -> None:
        self.folder = data_dir / "run"
        self._stop_grace = stop_grace
        self.path = self.folder / "children.json"
        self._lock_path = self.folder / "lock"
        self._lock: int | None = None
        self._children: list[Child] = []

    def acquire(self) -> list[Child]:
        """Take the folder for this run and stop what a crashed run left running; the children
        that had to be stopped. ConfigError when another run holds the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(
                f"another `loket run` (pid {owner}) is using {self.folder.parent}; stop it "
                "first, or give this one its own folder with LOKET_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd
        leftovers = [c for c in self._read() if c.alive()]
        for child in leftovers:
            log.warning("stopping the %s (pid %d) left running by an earlier run", child.name,
                        child.pid)  # fmt: skip
            stop(child, self._stop_grace)
        self._children = []
        self._write()
        return leftovers

    def add(self, name: str, pid: int) -> None:
        """Record a child just started (a no-op before `acquire`)."""
        ident = identity(pid)
        if self._lock is None or ident is None:
            return
        self._children.append(Child(name, pid, ident))
        self._write()

    def remove(self, pid: int) -> None:
        self._children = [c for c in self._children if c.pid != pid]
        if self._lock is not None:
            self._write()

    def release(self) -> None:
        """Every child is stopped: forget them and give the folder up."""
        if self._lock is None:
            return
        self._children = []
        self.path.unlink(missing_ok=True)
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        os.close(self._lock)
        self._lock = None

    def _read(self) -> list[Child]:
        try:
            rows = json.loads(self.path.read_text())
            return [Child(str(r["name"]), int(r["pid"]), str(r["identity"])) for r in rows]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return []

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps([asdict(c) for c in self._children], indent=1))
        temporary.replace(self.path)


def stop(child: Child, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM to the child's process group (it leads its own), SIGKILL after `grace` s."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not child.alive():
                return
            time.sleep(0.1)
    log.error("the %s (pid %d) could not be stopped", child.name, child.pid)
