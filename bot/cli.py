"""The `loket` command: run everything, train the model."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from aiohttp import web
from dotenv import load_dotenv

from bot.app import create_app
from bot.errors import ConfigError, LoketError
from bot.settings import PROJECT_ROOT, Settings, redact_url
from bot.stack import Stack
from bot.training import ModelInputs, ensure_model
from handoff.errors import StoreUnavailable
from handoff.store import check_reachable

log = logging.getLogger("loket")


def _settings() -> Settings:
    load_dotenv(PROJECT_ROOT / ".env")  # real environment variables win over .env
    settings = Settings.from_env(os.environ)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for noisy in ("aiohttp.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


async def _serve(settings: Settings) -> None:
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise LoketError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "set LOKET_PORT to a free port"
        ) from exc
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    base = f"http://{shown_host}:{settings.port}"
    print(
        "\n"
        "  Loket is running.\n"
        f"    Chat with the bot:   {base}/chat   (no account needed)\n"
        f"    Health:              {base}/healthz\n"
        f"    Redis:               {redact_url(settings.redis_url or '')}\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("==> stopping", flush=True)
        await runner.cleanup()


def cmd_run(args: argparse.Namespace) -> None:
    settings = _settings()
    if settings.redis_url:
        try:
            check_reachable(settings.redis_url)
        except StoreUnavailable as exc:
            raise ConfigError(
                f"cannot reach Redis at REDIS_URL={redact_url(settings.redis_url)}: {exc}; "
                "unset REDIS_URL to use the embedded Redis"
            ) from exc
    model = ensure_model(ModelInputs(PROJECT_ROOT), settings.models_dir)
    stack = Stack(settings, model)
    try:
        resolved = stack.start()
        asyncio.run(_serve(resolved))
    finally:
        stack.stop()


def cmd_train(args: argparse.Namespace) -> None:
    settings = _settings()
    ensure_model(ModelInputs(PROJECT_ROOT), settings.models_dir, force=args.force)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loket", description="Loket: a customer-service bot that hands over to people."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="train if needed, then start Redis, Rasa, the action server and the gateway"
    )
    run.set_defaults(func=cmd_run)
    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if the model is current")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LoketError as exc:
        print(f"loket: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
