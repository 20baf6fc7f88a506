"""`loket handoffs ...`: the queue and one conversation's story, from a terminal.

For operators on the server (and for trying handoffs before the agents' inbox is open);
they act on Redis directly through the same handoff service the gateway uses.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.core.errors import ConfigError, LoketError
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from handoff import Transcript
from handoff.backfill import Backfill
from handoff.errors import HandoffError, StoreUnavailable
from handoff.handoffs import Handoffs
from handoff.store import Store


def redis_url(settings: Settings) -> str:
    """REDIS_URL, or the embedded Redis that `loket run` started."""
    if settings.redis_url:
        return settings.redis_url
    url_file = settings.data_dir / "redis" / "url"
    if not url_file.exists():
        raise ConfigError(
            "Loket is not running (no embedded Redis): start `loket run` or set REDIS_URL"
        )
    return url_file.read_text().strip()


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%d-%m %H:%M:%S")


async def _list(handoffs: Handoffs, transcript: Transcript, args: argparse.Namespace) -> None:
    waiting = await handoffs.waiting()
    if not waiting:
        print("no conversation is waiting for an agent")
        return
    now = time.time() * 1000
    for position, cid in enumerate(waiting, start=1):
        handoff = await handoffs.get(ConversationKey.parse(cid))
        if handoff is None:
            continue
        waited = (now - handoff.created_at) / 60_000
        print(f"{position:>3}. {cid}  {handoff.reason}  [{handoff.language}]  "
              f"waiting {waited:.0f} min  — {handoff.summary.one_line()}")  # fmt: skip


async def _show(handoffs: Handoffs, transcript: Transcript, args: argparse.Namespace) -> None:
    key = ConversationKey.parse(args.conversation)
    handoff = await handoffs.get(key)
    if handoff is not None:
        print(f"{key.id}: {handoff.status.value}"
              f"{' with ' + handoff.assignee if handoff.assignee else ''}, "
              f"handed over {_clock(handoff.created_at)} because {handoff.reason}"
              f"{' (' + handoff.detail + ')' if handoff.detail else ''}")  # fmt: skip
        for fact in handoff.summary.facts():
            print(f"  {fact.label + ':':<17}{', '.join(fact.lines) or '-'}")
    entries = await transcript.read(key)
    if not entries:
        raise LoketError(f"no conversation {key.id}")
    print()
    for e in entries:
        why = f"  [{e.intent} {e.confidence:.2f}]" if e.intent and e.confidence is not None else ""
        print(f"{_clock(e.ts)}  {e.role.value:<8} {e.text}{why}")


async def _hand_back(handoffs: Handoffs, transcript: Transcript, args: argparse.Namespace) -> None:
    await handoffs.hand_back(ConversationKey.parse(args.conversation), by=args.by)
    print(f"{args.conversation} is back with the bot (Rasa resumes on the next message)")


async def _close(handoffs: Handoffs, transcript: Transcript, args: argparse.Namespace) -> None:
    await handoffs.close(ConversationKey.parse(args.conversation), args.by, args.resolution)
    print(f"{args.conversation} closed: {args.resolution}")


Command = Callable[[Handoffs, Transcript, argparse.Namespace], Awaitable[None]]
COMMANDS: dict[str, Command] = {
    "list": _list, "show": _show, "hand-back": _hand_back, "close": _close,
}  # fmt: skip


def with_store(settings: Settings, work: Callable[[Store], Awaitable[None]]) -> None:
    """Run one terminal command against Loket's Redis; its errors become clear messages."""

    async def go() -> None:
        store = Store.from_url(redis_url(settings))
        try:
            await work(store)
        except StoreUnavailable as exc:
            raise LoketError(f"cannot reach Redis: {exc}") from exc
        except HandoffError as exc:
            raise LoketError(str(exc)) from exc
        finally:
            await store.close()

    asyncio.run(go())


async def _reindex(store: Store) -> None:
    done = await Backfill(store).run()
    print(f"indexed {done.conversations} conversation(s): {done.handoffs} handoff(s) added to "
          f"histories, {done.words} word entries")  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> None:
    if args.handoffs_command == "reindex":
        with_store(settings, _reindex)
        return
    command = COMMANDS[args.handoffs_command]
    with_store(settings, lambda store: command(Handoffs(store), Transcript(store), args))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    handoffs = sub.add_parser(
        "handoffs", help="see the queue, read a conversation, hand back or close"
    )
    actions = handoffs.add_subparsers(dest="handoffs_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="conversations waiting for an agent, oldest first")
    show = actions.add_parser("show", help="a conversation's handoff summary and full transcript")
    show.add_argument("conversation", help="e.g. webchat:web-123 or telegram:42")
    back = actions.add_parser("hand-back", help="give a conversation back to the bot")
    back.add_argument("conversation")
    back.add_argument("--by", default="operator", help="who did it (shown in the transcript)")
    close = actions.add_parser("close", help="close a handed-over conversation")
    close.add_argument("conversation")
    close.add_argument("--resolution", required=True, help="e.g. solved, duplicate, no reply")
    close.add_argument("--by", default="operator")
    actions.add_parser(
        "reindex",
        help="build the inbox's search indexes and handoff histories from older conversations "
        "(done once by itself when the gateway starts; safe to repeat)",
    )
    return handoffs
