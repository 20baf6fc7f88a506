"""Kill drill for `loket run` itself: SIGKILL mid-load; no child may outlive it, and a restart
on the same folder must find a clean slate and answer every acknowledged message exactly once.

    .venv/bin/python -m bench.drill_kill_loket [--conversations 20] [--turns 6] [--gap 3]
                                               [--at 15] [--down 3] [--rasa-url URL]

Runs `loket run` as an operator does — it starts its own Redis, sandbox provider, action
server and Rasa server — in a temporary folder on free ports, with Telegram (webhook) and
WhatsApp pointed at local servers speaking each API. Customers write; `--at` seconds in, the
`loket run` process (not its children) is killed with SIGKILL. The drill then watches the
children it had recorded (`<data>/run/children.json`) and the ports they held, starts
`loket run` again on the same folder and ports `--down` seconds after the kill, and lets the
customers go on (their webhooks are posted again until acknowledged). Prints what survived the
kill and for how long, the restart, and the tally: lost, duplicated and out-of-order messages
among those acknowledged. `--rasa-url` (with `--rasa-token`) uses a Rasa server already
running instead of starting one: quicker, for smoke runs. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.drill import Rig, drill_parser
from bench.harness import ROOT, supervised, table
from bench.traffic import Tally, print_tally
from bot.ops.model import ModelInputs, ensure_model
from bot.ops.pidfile import Child
from bot.ops.processes import ChildProcess, free_port, http_ok

RASA_START = 300.0  # seconds `loket run` may take to be ready (Rasa loads TensorFlow)


def listening(port: int) -> bool:
    """Whether something still listens on the port (TIME_WAIT does not count, as for servers)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


@dataclass(frozen=True)
class Outcome:
    tally: Tally
    children: int  # recorded by the killed run
    survivors: int  # of those, alive 30 s after the kill
    ports_freed: bool


class LoketRun:
    """`loket run` as a child process, on one data folder and fixed ports."""

    def __init__(self, data: Path, args: argparse.Namespace) -> None:
        self.data = data
        self.ports = {name: free_port() for name in ("gateway", "actions", "provider", "rasa")}
        self.gateway_url = f"http://127.0.0.1:{self.ports['gateway']}"
        self._env = {
            **os.environ,
            "LOKET_DATA_DIR": str(data),
            "LOKET_PORT": str(self.ports["gateway"]),
            "LOKET_ACTIONS_PORT": str(self.ports["actions"]),
            "LOKET_PROVIDER_PORT": str(self.ports["provider"]),
            "LOKET_RASA_PORT": str(self.ports["rasa"]),
            "LOKET_RASA_TOKEN": args.rasa_token,
            "LOKET_LOG_LEVEL": "WARNING",
        }
        self._env.pop("REDIS_URL", None)
        if args.rasa_url:
            self._env["LOKET_RASA_URL"] = args.rasa_url
            del self.ports["rasa"]
        self.process: ChildProcess | None = None
        self.starts: list[float] = []  # seconds each start took

    def start(self, channels: Mapping[str, str]) -> None:
        started = time.perf_counter()
        self.process = ChildProcess(
            "loket run",
            [sys.executable, "-m", "bot.ops.cli", "run"],
            log_path=self.data / "loket-run.log",
            ready=http_ok(f"{self.gateway_url}/livez"),
            env={**self._env, **channels},
            cwd=ROOT,
        )
        self.process.start(timeout=RASA_START)
        self.starts.append(time.perf_counter() - started)

    def kill(self) -> None:
        """SIGKILL to `loket run` alone, as `kill -9 <pid>` does; its children are left to
        the kernel's parent-death signal."""
        assert self.process is not None and self.process.pid is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.stop()  # reaps it

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=60)

    def children(self) -> list[Child]:
        try:
            rows = json.loads((self.data / "run" / "children.json").read_text())
        except (OSError, ValueError):
            return []
        return [Child(str(r["name"]), int(r["pid"]), str(r["identity"])) for r in rows]

    def redis_url(self) -> str:
        return (self.data / "redis" / "url").read_text().strip()

    def redis_port(self) -> int:
        return urlsplit(self.redis_url()).port or 0


async def watch(
    children: Sequence[Child], ports: Sequence[int], limit: float
) -> tuple[float | None, float | None]:
    """Seconds until every child is gone and until every port is free (None: not in time)."""
    start = time.perf_counter()
    gone = free = None
    while time.perf_counter() - start < limit and (gone is None or free is None):
        now = time.perf_counter() - start
        if gone is None and not any(c.alive() for c in children):
            gone = now
        if free is None and not any(listening(p) for p in ports):
            free = now
        await asyncio.sleep(0.05)
    return gone, free


async def drill(args: argparse.Namespace, data: Path) -> Outcome:
    run = LoketRun(data, args)
    rig = Rig(run.gateway_url, run.redis_url, run.start, run.stop, quiet=args.quiet)
    async with rig:
        load = rig.load(args.conversations, args.turns, args.gap)
        await asyncio.sleep(args.at)
        children = run.children()
        ports = [*run.ports.values(), run.redis_port()]
        replies_before = len(rig.arrivals())
        await supervised(run.kill)
        gone, free = await watch(children, ports, limit=30)
        survivors = [c for c in children if c.alive()]
        await asyncio.sleep(max(0.0, args.down - (gone or 0)))
        await rig.start_gateway()
        await load
        result = await rig.finish()
    names = ", ".join(sorted(c.name for c in children))
    print(
        f"\n`loket run` killed with SIGKILL {args.at:g} s into {args.conversations} "
        f"conversations x {args.turns} messages ({replies_before} replies sent by then)"
    )
    print(
        table(
            ["", "value"],
            [
                ["children recorded", f"{len(children)} ({names})"],
                ["children alive 30 s after the kill", str(len(survivors))],
                ["seconds until every child was gone", f"{gone:.2f}" if gone is not None else "-"],
                ["seconds until every port was free", f"{free:.2f}" if free is not None else "-"],
                [
                    "seconds the first / second start took",
                    " / ".join(f"{s:.0f}" for s in run.starts),
                ],
            ],
        )
    )
    print_tally(
        "messages (lost/duplicated/out of order count acknowledged messages)",
        [("loket run killed", result)],
    )
    return Outcome(result, len(children), len(survivors), free is not None)


def parser() -> argparse.ArgumentParser:
    p = drill_parser("drill_kill_loket", __doc__ or "", conversations=20, turns=6, gap=3.0)
    p.add_argument("--at", type=float, default=15.0, help="seconds into the load")
    p.add_argument("--down", type=float, default=3.0, help="seconds before the restart")
    p.add_argument(
        "--rasa-url",
        default="",
        help="use this Rasa server (with its own stores) "
        "instead of one started by loket run: quicker, for smoke runs",
    )
    p.add_argument("--rasa-token", default="drill-token", help="that server's token")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    ensure_model(ModelInputs(ROOT), ROOT / "models")  # trained here, not inside the timing
    with tempfile.TemporaryDirectory(prefix="loket-kill-") as tmp:
        asyncio.run(drill(args, Path(tmp)))


if __name__ == "__main__":
    main()
