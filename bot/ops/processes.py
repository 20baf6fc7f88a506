"""Child processes Loket owns (Redis, the action server, Rasa): start, wait until ready, stop.

On Linux every child is started with a parent-death signal: when the process that started it
dies — even by `kill -9`, which leaves it no chance to stop its children — the kernel sends the
child SIGTERM, so no child outlives its owner and keeps its port or its data files. The signal
follows the *thread* that started the child: start children from a thread that lives as long
as they should (the main thread, or an executor kept for the purpose).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.core.errors import ProcessFailed

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once in the parent (a forked child must not load libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


_PRCTL = _prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive SIGTERM when its parent dies (Linux); None
    where the kernel offers no such thing."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was asked for
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def free_port() -> int:
    """A TCP port that was free a moment ago on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness check: GET `url` answers 200."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    return check


class ChildProcess:
    """One supervised child; its output goes to `log_path`, shown when it fails to start."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        ready: Callable[[], bool],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._ready = ready
        self._env = env
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, timeout: float) -> None:
        self.spawn()
        self.wait_ready(timeout=timeout)

    def spawn(self) -> None:
        """Start the process without waiting for it (several can then load side by side)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,  # Ctrl-C goes to us; we stop children in order
                preexec_fn=die_with_parent(),
            )

    def wait_ready(self, *, timeout: float) -> None:
        """Wait until the readiness check passes; raises ProcessFailed (and stops the child)
        when it exits or is not ready in time."""
        proc = self._proc
        if proc is None:
            raise ProcessFailed(f"{self.name} was never started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ProcessFailed(
                    f"{self.name} exited with code {proc.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{self.tail()}"
                )
            if self._ready():
                log.info("%s ready (pid %s)", self.name, proc.pid)
                return
            time.sleep(0.2)
        self.stop()
        raise ProcessFailed(
            f"{self.name} was not ready after {timeout:.0f} s; last lines of "
            f"{self.log_path}:\n{self.tail()}"
        )

    def exited(self) -> int | None:
        """The exit code of a child that was started and has died since, else None."""
        return self._proc.poll() if self._proc is not None else None

    def stop(self, *, timeout: float = 15) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill(self) -> None:
        """Stop the child at once with SIGKILL, giving it no chance to clean up (fault drills)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
