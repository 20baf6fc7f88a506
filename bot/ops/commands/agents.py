"""`loket agents ...`: create and manage the inbox's agent accounts from a terminal.

Passwords are read with getpass (asked twice), or from standard input with
`--password-stdin` for scripts; they never appear in the command line or the logs.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.core.errors import LoketError
from bot.core.settings import Settings
from bot.ops.commands.handoffs import with_store
from handoff.inbox import Accounts, AgentRole


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise LoketError("no password on standard input")
        return password
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise LoketError("the passwords do not match")
    return first


async def _add(accounts: Accounts, args: argparse.Namespace) -> None:
    agent = await accounts.add(args.name, AgentRole(args.role), read_password(args))
    print(f"added {agent.name} ({agent.role.value}); they sign in at /inbox/login")


async def _list(accounts: Accounts, args: argparse.Namespace) -> None:
    agents = await accounts.all()
    if not agents:
        print("no agent accounts yet: loket agents add NAME --role agent")
    for agent in agents:
        since = datetime.fromtimestamp(agent.created_at / 1000).strftime("%Y-%m-%d")
        print(f"{agent.name:<32} {agent.role.value:<8} since {since}")


async def _remove(accounts: Accounts, args: argparse.Namespace) -> None:
    await accounts.remove(args.name)
    print(f"removed {args.name}; their sessions and API token no longer work")


async def _passwd(accounts: Accounts, args: argparse.Namespace) -> None:
    await accounts.require(args.name)
    await accounts.set_password(args.name, read_password(args))
    print(f"password of {args.name} changed; their open sessions were ended")


async def _token(accounts: Accounts, args: argparse.Namespace) -> None:
    token = await accounts.issue_token(args.name)
    print(token)
    print(
        f"API token for {args.name} (shown once; any earlier token stopped working). "
        "Send it as: Authorization: Bearer <token>",
        file=sys.stderr,
    )


Command = Callable[[Accounts, argparse.Namespace], Awaitable[None]]
COMMANDS: dict[str, Command] = {
    "add": _add, "list": _list, "remove": _remove, "passwd": _passwd, "token": _token,
}  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> None:
    command = COMMANDS[args.agents_command]
    with_store(settings, lambda store: command(Accounts(store), args))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    agents = sub.add_parser("agents", help="create and manage the inbox's agent accounts")
    actions = agents.add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account (asks for the password twice)")
    add.add_argument("name", help="1-32 letters, digits or _.-")
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in AgentRole],
        help="agent: works the queue; trainer: reads only; admin: everything",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (one line)"
    )
    actions.add_parser("list", help="all accounts with their roles")
    remove = actions.add_parser("remove", help="delete an account, its sessions and API token")
    remove.add_argument("name")
    passwd = actions.add_parser("passwd", help="set a new password (ends the agent's sessions)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    token = actions.add_parser(
        "token", help="issue an API token for integrations (replaces the previous one)"
    )
    token.add_argument("name")
    return agents
