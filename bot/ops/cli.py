"""The `loket` command: run everything, train the model, poke the sandbox provider."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from aiohttp import web
from dotenv import load_dotenv

from bot.app import create_app
from bot.core.errors import ConfigError, LoketError
from bot.core.settings import PROJECT_ROOT, Settings, redact_url
from bot.ops import logs
from bot.ops.commands import agents, handoffs, models, nlu, report, review, serve
from bot.ops.model import ModelInputs, ensure_model
from bot.ops.stack import Stack
from handoff.errors import StoreUnavailable
from handoff.store import check_reachable

log = logging.getLogger("loket")


def _settings() -> Settings:
    load_dotenv(PROJECT_ROOT / ".env")  # real environment variables win over .env
    settings = Settings.from_env(os.environ)
    logs.configure(settings.log_level, settings.log_format)
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
    channels = ", ".join(
        (["web chat"] if settings.webchat else [])
        + (["Telegram (" + ("webhook" if settings.telegram_webhook_url else "polling") + ")"]
           if settings.telegram_token else [])
        + (["WhatsApp"] if settings.whatsapp_token else [])
    )  # fmt: skip
    base = f"http://{shown_host}:{settings.port}"
    chat = (
        f"    Chat with the bot:   {base}/chat   (no account needed)\n"
        if settings.webchat
        else "    Web chat:            off (LOKET_WEBCHAT=off)\n"
    )
    print(
        "\n"
        "  Loket is running.\n"
        f"{chat}"
        f"    Agents' inbox:       {base}/inbox  (first: .venv/bin/loket agents add NAME "
        "--role admin)\n"
        f"    Channels:            {channels}\n"
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
    if args.gateway_only:
        # A replica: Redis, Rasa and the action server run elsewhere and are given by URL.
        needed = {
            "REDIS_URL": settings.redis_url,
            "LOKET_RASA_URL": settings.rasa_url,
            "LOKET_ACTIONS_URL": settings.actions_url,
        }
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ConfigError(f"--gateway-only needs {', '.join(missing)} to be set")
        asyncio.run(_serve(settings))
        return
    model = ensure_model(ModelInputs(PROJECT_ROOT), settings.models_dir)
    stack = Stack(settings, model)
    try:
        resolved = stack.start()
        asyncio.run(_serve(resolved))
    finally:
        stack.stop()


def cmd_models(args: argparse.Namespace) -> None:
    models.run(_settings(), args)


def cmd_serve(args: argparse.Namespace) -> None:
    args.serve(_settings(), args, os.environ)


def cmd_handoffs(args: argparse.Namespace) -> None:
    handoffs.run(_settings(), args)


def cmd_agents(args: argparse.Namespace) -> None:
    agents.run(_settings(), args)


def cmd_review(args: argparse.Namespace) -> None:
    review.run(_settings(), args)


def cmd_report(args: argparse.Namespace) -> None:
    report.run(_settings(), args)


def cmd_nlu(args: argparse.Namespace) -> None:
    status = nlu.run(_settings(), args)
    if status:
        raise SystemExit(status)


def _provider_url(settings: Settings) -> str:
    return settings.provider_url or f"http://127.0.0.1:{settings.provider_port}"


def cmd_sandbox_pay(args: argparse.Namespace) -> None:
    """Pretend the customer paid an order, as the bank would tell the sandbox provider."""
    base = _provider_url(_settings())
    ref = args.ref.strip().upper()
    request = urllib.request.Request(
        f"{base}/transactions/{urllib.parse.quote(ref, safe='')}/pay", data=b"", method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            answer = json.load(resp)
    except urllib.error.HTTPError as exc:
        with exc:
            error = _error_text(exc.read())
        raise LoketError(f"the sandbox provider refused {ref}: {error}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise LoketError(
            f"cannot reach the sandbox provider at {base} ({exc}); start it with `loket run` "
            "or set LOKET_PROVIDER_URL"
        ) from None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise LoketError(f"{base} did not answer like the sandbox provider; check its URL")
    print(f"{answer.get('ref', ref)}: {answer.get('status')}")
    if answer.get("token"):
        print(f"token: {answer['token']}")


def _error_text(body: bytes) -> str:
    try:
        answer = json.loads(body)
        return f"{answer['error']} ({answer['code']})"
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:200] or "no details"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loket", description="Loket: a customer-service bot that hands over to people."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="train if needed, then start Redis, Rasa, the action server and the gateway"
    )
    run.add_argument(
        "--gateway-only",
        action="store_true",
        help="start only the gateway (a replica): REDIS_URL, LOKET_RASA_URL and "
        "LOKET_ACTIONS_URL name the shared Redis, Rasa server and action server",
    )
    run.set_defaults(func=cmd_run)
    models.add_parsers(sub)
    for name in ("train", "evaluate", "deploy", "models"):
        sub.choices[name].set_defaults(func=cmd_models)
    sandbox = sub.add_parser("sandbox", help="act on the sandbox provider's demo data")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    pay = sandbox_sub.add_parser(
        "pay", help="mark a token order as paid (the token is issued at once)"
    )
    pay.add_argument("ref", help="the transaction reference, e.g. TRXAB12CD34")
    pay.set_defaults(func=cmd_sandbox_pay)
    serve.add_parsers(sub)
    for name in ("rasa", "actions"):
        sub.choices[name].set_defaults(func=cmd_serve)
    handoffs.add_parser(sub).set_defaults(func=cmd_handoffs)
    agents.add_parser(sub).set_defaults(func=cmd_agents)
    review.add_parser(sub).set_defaults(func=cmd_review)
    report.add_parser(sub).set_defaults(func=cmd_report)
    nlu.add_parser(sub).set_defaults(func=cmd_nlu)
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
    except BrokenPipeError:  # `loket handoffs show ... | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
