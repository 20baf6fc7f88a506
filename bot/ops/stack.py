"""The processes behind the gateway: embedded Redis, the sandbox provider, the action server
and the Rasa server.

Each is started only when its URL is not configured; the stack stops what it started, in
reverse order. Used by `loket run`, the test suite and the benchmarks alike. Before it starts
the first, it takes the data folder for itself and stops whatever a crashed run left behind
(bot/ops/pidfile.py).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.errors import ConfigError
from bot.core.settings import PROJECT_ROOT, Settings
from bot.gateway.payments import PATH as PAYMENTS_PATH
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.model import rasa_env
from bot.ops.pidfile import PidFile
from bot.ops.processes import ChildProcess, free_port, http_ok

log = logging.getLogger(__name__)

RASA_START_TIMEOUT = 240.0  # loading TensorFlow and the model on a small machine


def rasa_lock_lifetime(bot_timeout: float) -> int:
    """Seconds Rasa keeps a conversation's ticket lock (its TICKET_LOCK_LIFETIME, 60 by
    default): half the gateway's bot timeout, so that a lock left behind when Rasa or Redis
    failed mid-turn expires before the gateway gives the next turn up. The gateway's own turn
    lock is what keeps one conversation's messages in order."""
    return max(5, int(bot_timeout // 2))


def rasa_redis_env(redis_url: str) -> dict[str, str]:
    """The LOKET_REDIS_* variables bot/endpoints.yml reads, from a redis:// URL."""
    parts = urlsplit(redis_url)
    if parts.scheme != "redis":
        raise ConfigError(
            "Rasa's Redis tracker store needs a plain redis:// REDIS_URL "
            f"(got {parts.scheme}://); TLS and unix sockets are not supported by it"
        )
    db = parts.path.lstrip("/") or "0"
    return {
        "LOKET_REDIS_HOST": parts.hostname or "localhost",
        "LOKET_REDIS_PORT": str(parts.port or 6379),
        "LOKET_REDIS_DB": db,
        "LOKET_REDIS_PASSWORD": parts.password or "",
    }


class Stack:
    """Starts what `settings` does not point at; after start, `settings` has every URL."""

    def __init__(
        self,
        settings: Settings,
        model: Path,
        *,
        root: Path = PROJECT_ROOT,
        credentials: Path | None = None,
    ) -> None:
        self.settings = settings
        self._model = model
        self._root = root
        self._credentials = credentials or root / "bot" / "credentials.yml"
        self._redis: EmbeddedRedis | None = None
        self._children: list[ChildProcess] = []
        self._pidfile: PidFile | None = None

    def start(self) -> Settings:
        s = self.settings
        logs = s.data_dir / "log"
        try:
            redis_url = s.redis_url
            if redis_url is None:
                self._own(s.data_dir)
                self._redis = EmbeddedRedis(s.data_dir / "redis").start()
                self._recorded("redis", self._redis.pid)
                redis_url = self._redis.url
                s = dataclasses.replace(s, redis_url=redis_url)
                log.info("embedded Redis on %s (data in %s)", redis_url, s.data_dir / "redis")
            if s.provider_url is None:
                port = s.provider_port or free_port()
                argv = [
                    sys.executable, "-m", "bot.sandbox", "--port", str(port),
                    "--pay-delay", str(s.sandbox_pay_delay),
                ]  # fmt: skip
                if s.provider_secret:  # paid tokens are announced to the gateway's callback
                    argv += ["--callback-url", f"http://127.0.0.1:{s.port}{PAYMENTS_PATH}"]
                sandbox = ChildProcess(
                    "sandbox provider",
                    argv,
                    log_path=logs / "sandbox.log",
                    ready=http_ok(f"http://127.0.0.1:{port}/health"),
                    # The Redis URL and the secret go in the environment: they stay out of `ps`.
                    env={**os.environ, "REDIS_URL": redis_url,
                         "LOKET_PROVIDER_SECRET": s.provider_secret},
                    cwd=self._root,
                )  # fmt: skip
                self._start(sandbox, timeout=30)
                s = dataclasses.replace(s, provider_url=f"http://127.0.0.1:{port}")
            if s.actions_url is None:
                port = s.actions_port or free_port()
                actions = ChildProcess(
                    "action server",
                    [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)],
                    log_path=logs / "actions.log",
                    ready=http_ok(f"http://127.0.0.1:{port}/health"),
                    env=rasa_env(
                        {"SANIC_HOST": "127.0.0.1", "LOKET_PROVIDER_URL": s.provider_url or ""}
                    ),
                    cwd=self._root,
                )
                self._start(actions, timeout=120)
                s = dataclasses.replace(s, actions_url=f"http://127.0.0.1:{port}")
            if s.rasa_url is None:
                port = s.rasa_port or free_port()
                env = rasa_env(
                    {
                        **rasa_redis_env(redis_url),
                        "LOKET_ACTIONS_URL": s.actions_url or "",
                        "LOKET_RASA_TOKEN": s.rasa_token,
                        "TICKET_LOCK_LIFETIME": str(rasa_lock_lifetime(s.bot_timeout)),
                    }
                )
                rasa = ChildProcess(
                    "rasa server",
                    self._rasa_argv(port, s.rasa_token),
                    log_path=logs / "rasa.log",
                    ready=http_ok(f"http://127.0.0.1:{port}/webhooks/loket/"),
                    env=env,
                    cwd=self._root,
                )
                self._start(rasa, timeout=RASA_START_TIMEOUT)
                s = dataclasses.replace(s, rasa_url=f"http://127.0.0.1:{port}")
        except BaseException:
            self.stop()
            raise
        self.settings = s
        return s

    def _rasa_argv(self, port: int, token: str) -> list[str]:
        argv = [
            sys.executable, "-m", "rasa", "run",
            "--model", str(self._model),
            "--enable-api", "--auth-token", token,
            "--interface", "127.0.0.1", "--port", str(port),
            "--endpoints", str(self._root / "bot" / "endpoints.yml"),
            "--credentials", str(self._credentials),
        ]  # fmt: skip
        return argv

    def _own(self, data_dir: Path) -> None:
        """Take the data folder before starting anything; stop an earlier run's leftovers."""
        if self._pidfile is not None:
            return
        pidfile = PidFile(data_dir)
        for child in pidfile.acquire():
            print(f"==> stopped the {child.name} (pid {child.pid}) an earlier run left behind",
                  flush=True)  # fmt: skip
        self._pidfile = pidfile

    def _recorded(self, name: str, pid: int | None) -> None:
        if self._pidfile is not None and pid is not None:
            self._pidfile.add(name, pid)

    def _start(self, child: ChildProcess, *, timeout: float) -> None:
        self._own(self.settings.data_dir)
        print(f"==> starting the {child.name} (log: {child.log_path})", flush=True)
        child.start(timeout=timeout)
        self._recorded(child.name, child.pid)
        self._children.append(child)

    def child(self, name: str) -> ChildProcess | None:
        """A child this stack started, by its name ("rasa server", "sandbox provider"...)."""
        return next((c for c in self._children if c.name == name), None)

    def pid(self, name: str) -> int | None:
        child = self.child(name)
        return child.pid if child else None

    def stop(self) -> None:
        while self._children:
            self._children.pop().stop()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        if self._pidfile is not None:
            self._pidfile.release()
            self._pidfile = None
