"""A whole Loket for a benchmark: its own Redis, sandbox, action server, Rasa and gateway.

Everything runs in a temporary folder on free ports, and the gateway is a separate process
(as in production), so the load generator never shares its event loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.core.settings import PROJECT_ROOT, Settings
from bot.ops.model import ModelInputs, ensure_model
from bot.ops.processes import ChildProcess, free_port, http_ok
from bot.ops.stack import Stack

ROOT = PROJECT_ROOT


@dataclass(frozen=True)
class Running:
    gateway_url: str
    settings: Settings  # every URL resolved
    stack: Stack
    gateway: ChildProcess
    data_dir: Path


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


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


@contextlib.contextmanager
def running(*, rest_channel: bool = False, pay_delay: float = 20.0) -> Iterator[Running]:
    """Start everything; `rest_channel` also opens Rasa's REST channel (for comparisons)."""
    model = ensure_model(ModelInputs(ROOT), ROOT / "models")
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        data = Path(tmp)
        credentials = data / "credentials.yml"
        extra = "\nrest:\n" if rest_channel else ""
        credentials.write_text((ROOT / "bot" / "credentials.yml").read_text() + extra)
        base = Settings(
            data_dir=data,
            rasa_port=free_port(),
            actions_port=free_port(),
            provider_port=free_port(),
            sandbox_pay_delay=pay_delay,
            rasa_token="bench-token",
        )
        stack = Stack(base, model, credentials=credentials)
        settings = stack.start()
        port = free_port()
        gateway = ChildProcess(
            "gateway",
            [sys.executable, "-m", "bot.ops.cli", "run"],
            log_path=data / "log" / "gateway.log",
            ready=http_ok(f"http://127.0.0.1:{port}/livez"),
            env={
                **os.environ,
                "REDIS_URL": settings.redis_url or "",
                "LOKET_RASA_URL": settings.rasa_url or "",
                "LOKET_ACTIONS_URL": settings.actions_url or "",
                "LOKET_PROVIDER_URL": settings.provider_url or "",
                "LOKET_RASA_TOKEN": settings.rasa_token,
                "LOKET_PORT": str(port),
                "LOKET_LOG_LEVEL": "WARNING",
                # The benchmark is the operator's own traffic from one address: the public
                # web chat's limits (docs/security.md) would throttle it.
                "LOKET_WEBCHAT_PER_MINUTE": "10000",
                "LOKET_WEBCHAT_ADDRESS_PER_MINUTE": "100000",
                "LOKET_WEBCHAT_NEW_PER_HOUR": "100000",
            },
            cwd=ROOT,
        )
        try:
            gateway.start(timeout=60)
            yield Running(
                f"http://127.0.0.1:{port}", dataclasses.replace(settings), stack, gateway, data
            )
        finally:
            gateway.stop()
            stack.stop()


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
