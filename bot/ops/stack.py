"""The processes behind the gateway: embedded Redis, the sandbox provider, the action server
and the Rasa server.

Each is started only when its URL is not configured; the stack stops what it started, in
reverse order, and while it runs starts again a child that died. Used by `loket run`, the test
suite and the benchmarks alike. Before it starts the first, it takes the data folder for
itself and stops whatever a crashed run left behind (bot/ops/pidfile.py).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from pathlib import Path

from bot.core.errors import ProcessFailed
from bot.core.settings import PROJECT_ROOT, Settings
from bot.gateway.payments import PATH as PAYMENTS_PATH
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.pidfile import PidFile
from bot.ops.processes import ChildProcess, free_port, http_ok
from bot.ops.services import (
    actions_command,
    actions_environment,
    rasa_command,
    rasa_environment,
)

log = logging.getLogger(__name__)

RASA_START_TIMEOUT = 240.0  # loading TensorFlow and the model on a small machine
SUPERVISE_EVERY_S = 2.0


def _port(child: ChildProcess) -> int:
    return int(child.argv[child.argv.index("--port") + 1])


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
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None
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
                    actions_command(port),
                    log_path=logs / "actions.log",
                    ready=http_ok(f"http://127.0.0.1:{port}/health"),
                    env=actions_environment(s.provider_url or ""),
                    cwd=self._root,
                )
                self._start(actions, timeout=120)
                s = dataclasses.replace(s, actions_url=f"http://127.0.0.1:{port}")
            if not s.rasa_urls:
                s = dataclasses.replace(s, rasa_urls=self._start_rasa(s, redis_url, logs))
        except BaseException:
            self.stop()
            raise
        self.settings = s
        self._watch = threading.Thread(target=self._supervise, name="stack supervisor", daemon=True)
        self._watch.start()
        return s

    def _start_rasa(self, s: Settings, redis_url: str, logs: Path) -> tuple[str, ...]:
        """The Rasa workers, loading side by side (each takes a minute or so)."""
        env = rasa_environment(redis_url, s.actions_url or "", s.rasa_token, s.bot_timeout)
        workers = []
        for n in range(1, s.rasa_workers + 1):
            port = s.rasa_port + n - 1 if s.rasa_port else free_port()
            workers.append(
                ChildProcess(
                    f"rasa server {n}",
                    rasa_command(
                        self._model,
                        port,
                        s.rasa_token,
                        root=self._root,
                        credentials=self._credentials,
                    ),
                    log_path=logs / f"rasa-{n}.log",
                    ready=http_ok(f"http://127.0.0.1:{port}/webhooks/loket/"),
                    env=env,
                    cwd=self._root,
                )
            )
        self._own(s.data_dir)
        for worker in workers:
            print(f"==> starting the {worker.name} (log: {worker.log_path})", flush=True)
            worker.spawn()
            self._recorded(worker.name, worker.pid)
            self._children.append(worker)
        for worker in workers:
            worker.wait_ready(timeout=RASA_START_TIMEOUT)
        return tuple(f"http://127.0.0.1:{port}" for port in (_port(w) for w in workers))

    def _supervise(self) -> None:
        """Restart a child that died while Loket runs (a Rasa worker killed by the kernel for
        memory, say), waiting longer after each failed restart; the gateway's pool routes
        around a dead Rasa worker meanwhile."""
        failures: dict[str, int] = {}
        due: dict[str, float] = {}
        while not self._stopping.wait(SUPERVISE_EVERY_S):
            for child in list(self._children):
                code = child.exited()
                if code is None or time.monotonic() < due.get(child.name, 0.0):
                    continue
                if self._stopping.is_set():
                    return
                log.warning("%s exited with code %s; restarting it (log: %s)", child.name, code,
                            child.log_path)  # fmt: skip
                if self._pidfile is not None and child.pid is not None:
                    self._pidfile.remove(child.pid)
                try:
                    # Started from this thread, the child gets its parent-death signal when the
                    # thread ends: at stop(), after which the children are stopped anyway.
                    child.start(timeout=RASA_START_TIMEOUT)
                    self._recorded(child.name, child.pid)
                    failures.pop(child.name, None)
                except ProcessFailed as exc:
                    failures[child.name] = n = failures.get(child.name, 0) + 1
                    due[child.name] = time.monotonic() + min(2.0**n, 300.0)
                    log.error("%s could not be restarted (%d times): %s", child.name, n, exc)

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
        self._stopping.set()
        if self._watch is not None and self._watch is not threading.current_thread():
            self._watch.join(timeout=RASA_START_TIMEOUT + 5)
        while self._children:
            self._children.pop().stop()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        if self._pidfile is not None:
            self._pidfile.release()
            self._pidfile = None
