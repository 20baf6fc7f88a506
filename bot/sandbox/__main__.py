"""`python -m bot.sandbox --port P --redis-url URL [--pay-delay S] [--callback-url URL]`: run
the sandbox provider.

The Redis URL may also come from REDIS_URL and the callback secret from LOKET_PROVIDER_SECRET,
which keeps both out of the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web

from bot.core.settings import redact_url
from bot.sandbox.app import create_app
from handoff.errors import StoreUnavailable
from handoff.store import Store, check_reachable

log = logging.getLogger("bot.sandbox")

DEFAULT_PORT = 5056
DEFAULT_PAY_DELAY = 20.0


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {raw!r}")
    return value


def _callback_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"must be a full http(s) URL, got {raw!r}")
    return raw.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox",
        description="Loket's sandbox provider: demo customers, tokens, bills, complaints.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis holding the sandbox's data (default: $REDIS_URL)",
    )
    parser.add_argument(
        "--pay-delay",
        type=_seconds,
        default=DEFAULT_PAY_DELAY,
        help="seconds after which an order counts as paid; 0: only `loket sandbox pay`",
    )
    parser.add_argument(
        "--callback-url",
        type=_callback_url,
        default=None,
        help="where to POST a signed `payment.settled` event when an order's token is issued",
    )
    parser.add_argument(
        "--callback-secret",
        default=os.environ.get("LOKET_PROVIDER_SECRET", ""),
        help="HMAC-SHA256 key for the callbacks' X-Loket-Signature (default: "
        "$LOKET_PROVIDER_SECRET)",
    )
    parser.add_argument("--no-seed", action="store_true", help="do not write the demo data")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    store = Store.from_url(args.redis_url)
    app = create_app(
        store, pay_delay=args.pay_delay, seed=not args.no_seed,
        callback_url=args.callback_url, callback_secret=args.callback_secret,
    )  # fmt: skip
    runner = web.AppRunner(app)
    try:
        await runner.setup()
        await web.TCPSite(runner, args.host, args.port).start()
        log.info("sandbox provider listening on http://%s:%s", args.host, args.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.redis_url:
        parser.error("give --redis-url or set REDIS_URL")
    if args.callback_url and not args.callback_secret:
        parser.error("--callback-url needs --callback-secret or LOKET_PROVIDER_SECRET")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    log.info(
        "sandbox provider starting (Redis %s, pay delay %s s, payment callbacks to %s)",
        redact_url(args.redis_url), args.pay_delay, args.callback_url or "nobody",
    )  # fmt: skip
    try:
        check_reachable(args.redis_url)
    except StoreUnavailable as exc:
        redis = redact_url(args.redis_url)
        print(f"sandbox: cannot reach Redis at {redis}: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args))
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
