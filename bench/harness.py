"""A whole Loket for a benchmark: its own Redis, sandbox, action server, Rasa and gateway.

Everything runs in a temporary folder on free ports, and the gateway is a separate process
(as in production), so the load generator never shares its event loop. Redis is started here
rather than by the stack, so a drill can stop and restart it (and the gateway) mid-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bot.core.settings import PROJECT_ROOT, Settings
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.model import ModelInputs, ensure_model
from bot.ops.processes import ChildProcess, free_port, http_ok
from bot.ops.stack import Stack

ROOT = PROJECT_ROOT
T = TypeVar("T")

# Children die with the thread that started them (bot/ops/processes.py), so a drill that
# restarts one from async code does it in this thread, which lives as long as the process.
_SUPERVISOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-supervisor")


async def supervised(work: Callable[[], T]) -> T:
    """Run blocking process work (start, restart) off the event loop, in the one thread that
    outlives every child it starts."""
    return await asyncio.get_running_loop().run_in_executor(_SUPERVISOR, work)


def gateway_process(
    settings: Settings,
    port: int,
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    name: str = "gateway",
    rasa_urls: Sequence[str] = (),
) -> ChildProcess:
    """A gateway replica (`loket run --gateway-only`) on `port`, not yet started, using every
    Rasa worker of `settings` unless `rasa_urls` names some; `env` adds to its environment."""
    s = settings
    return ChildProcess(
        name,
        [sys.executable, "-m", "bot.ops.cli", "run", "--gateway-only"],
        log_path=data_dir / "log" / f"{name}.log",
        ready=http_ok(f"http://127.0.0.1:{port}/livez"),
        env={
            **os.environ,
            "REDIS_URL": s.redis_url or "",
            "LOKET_RASA_URL": ",".join(rasa_urls or s.rasa_urls),
            "LOKET_ACTIONS_URL": s.actions_url or "",
            "LOKET_PROVIDER_URL": s.provider_url or "",
            "LOKET_RASA_TOKEN": s.rasa_token,
            "LOKET_BOT_TIMEOUT": str(s.bot_timeout),
            "LOKET_PORT": str(port),
            "LOKET_DATA_DIR": str(data_dir),
            "LOKET_LOG_LEVEL": "WARNING",
            # A benchmark or drill is the operator's own traffic from one address: the public
            # web chat's limits (docs/security.md) would throttle it.
            "LOKET_WEBCHAT_PER_MINUTE": "10000",
            "LOKET_WEBCHAT_ADDRESS_PER_MINUTE": "100000",
            "LOKET_WEBCHAT_NEW_PER_HOUR": "100000",
            **(env or {}),
        },
        cwd=ROOT,
    )


class Running:
    """The running Loket: its settings (every URL resolved), stack, Redis and gateway."""

    def __init__(self, settings: Settings, stack: Stack, redis: EmbeddedRedis, data: Path) -> None:
        self.settings = settings
        self.stack = stack
        self.redis = redis
        self.data_dir = data
        self.port = free_port()
        self.gateway_url = f"http://127.0.0.1:{self.port}"
        self.gateway = ChildProcess(  # replaced by start_gateway
            "gateway", [], log_path=data / "log" / "gateway.log", ready=lambda: False
        )

    def start_gateway(self, env: Mapping[str, str] | None = None, *, timeout: float = 60) -> None:
        """Start the gateway (`loket run --gateway-only`) on this run's port; `env` adds to its
        environment (channels). Blocking: from async code, run it in a thread."""
        self.gateway = gateway_process(self.settings, self.port, self.data_dir, env)
        self.gateway.start(timeout=timeout)

    def pids(self) -> dict[str, int]:
        """Every process of this Loket by name, for memory and CPU figures."""
        found = {"gateway": self.gateway.pid, "redis": self.redis.pid}
        workers = [f"rasa server {n}" for n in range(1, self.settings.rasa_workers + 1)]
        for name in (*workers, "action server", "sandbox provider"):
            found[name] = self.stack.pid(name)
        return {name: pid for name, pid in found.items() if pid is not None}


def rss_mb(pid: int | None) -> str:
    """Resident memory of a process in MB, from /proc."""
    if pid is None:
        return "-"
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return f"{int(line.split()[1]) / 1024:.0f}"
    except OSError:
        pass
    return "-"


def peak_mb(pid: int) -> float | None:
    """The most resident memory the process has had (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time the process has used so far (user + system), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain text table: first column left-aligned, the rest right-aligned."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


@contextlib.contextmanager
def running(
    *,
    rest_channel: bool = False,
    pay_delay: float = 20.0,
    gateway: bool = True,
    bot_timeout: float = 30.0,
    rasa_workers: int = 1,
) -> Iterator[Running]:
    """Start everything; `rest_channel` also opens Rasa's REST channel (for comparisons);
    `gateway=False` leaves the gateway to `Running.start_gateway` (channels, fault drills);
    `rasa_workers` Rasa servers (the gateway uses them all)."""
    model = ensure_model(ModelInputs(ROOT), ROOT / "models")
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        data = Path(tmp)
        credentials = data / "credentials.yml"
        extra = "\nrest:\n" if rest_channel else ""
        credentials.write_text((ROOT / "bot" / "credentials.yml").read_text() + extra)
        redis = EmbeddedRedis(data / "redis").start()
        base = Settings(
            redis_url=redis.url,
            data_dir=data,
            rasa_port=free_port(),
            actions_port=free_port(),
            provider_port=free_port(),
            sandbox_pay_delay=pay_delay,
            rasa_token="bench-token",
            bot_timeout=bot_timeout,
            rasa_workers=rasa_workers,
        )
        stack = Stack(base, model, credentials=credentials)
        loket: Running | None = None
        try:
            loket = Running(stack.start(), stack, redis, data)
            if gateway:
                loket.start_gateway()
            yield loket
        finally:
            if loket is not None:
                loket.gateway.stop()
            stack.stop()
            redis.stop()


class WebChat:
    """Opens web-chat conversations on first use and sends each one's secret, as the page does
    (the opening is part of a conversation's first message, as it is for a customer)."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self._session = session
        self._base = base
        self._secrets: dict[str, str] = {}

    async def headers(self, chat_id: str) -> dict[str, str]:
        if chat_id not in self._secrets:
            async with self._session.post(
                f"{self._base}/chat/api/conversations", json={"chat_id": chat_id}
            ) as resp:
                body = await resp.json()
                if resp.status != 201:
                    raise RuntimeError(f"cannot open {chat_id}: {resp.status} {body}")
                self._secrets[chat_id] = body["secret"]
        return {"X-Loket-Chat-Secret": self._secrets[chat_id]}

    async def post(self, chat_id: str, text: str) -> tuple[int, dict[str, Any]]:
        async with self._session.post(
            f"{self._base}/chat/api/messages",
            json={"chat_id": chat_id, "text": text},
            headers=await self.headers(chat_id),
        ) as resp:
            return resp.status, await resp.json()
