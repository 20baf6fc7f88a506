"""`loket rasa` and `loket actions`: one Rasa worker or the action server in the foreground,
for a server or a container where each process is started on its own (docs/deploy.md).

Each replaces itself with the real process (exec), so a supervisor's signals reach it
directly. `loket run` starts the same processes, with the same commands, on a laptop.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from bot.core.errors import ConfigError
from bot.core.settings import PROJECT_ROOT, Settings
from bot.ops.model import ModelInputs, model_path
from bot.ops.services import actions_command, actions_environment, rasa_command, rasa_environment


def _needs(env: Mapping[str, str], command: str, *names: str) -> None:
    missing = [name for name in names if not env.get(name, "").strip()]
    if missing:
        raise ConfigError(f"`loket {command}` needs {', '.join(missing)} to be set")


def rasa(settings: Settings, args: argparse.Namespace, env: Mapping[str, str]) -> None:
    # The token must be the one the gateways were given, not a random one per start.
    _needs(env, "rasa", "REDIS_URL", "LOKET_ACTIONS_URL", "LOKET_RASA_TOKEN")
    model = model_path(ModelInputs(PROJECT_ROOT), settings.models_dir)
    if not model.exists():
        raise ConfigError(
            f"there is no trained model for these inputs ({model}): run `loket train` first"
        )
    argv = rasa_command(model, args.port, settings.rasa_token, host=args.host)
    environment = rasa_environment(
        settings.redis_url or "",
        settings.actions_url or "",
        settings.rasa_token,
        settings.bot_timeout,
    )
    print(f"==> rasa worker on {args.host}:{args.port} serving {model.name}", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execve(argv[0], argv, environment)


def actions(settings: Settings, args: argparse.Namespace, env: Mapping[str, str]) -> None:
    _needs(env, "actions", "LOKET_PROVIDER_URL")
    argv = actions_command(args.port)
    print(f"==> action server on {args.host}:{args.port}", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execve(argv[0], argv, actions_environment(settings.provider_url or "", host=args.host))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser(
        "rasa",
        help="one Rasa worker in the foreground (REDIS_URL, LOKET_ACTIONS_URL, LOKET_RASA_TOKEN)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worker.add_argument("--port", type=int, default=5005)
    worker.add_argument("--host", default="127.0.0.1", help="0.0.0.0 in a container")
    worker.set_defaults(serve=rasa)
    server = sub.add_parser(
        "actions",
        help="the action server in the foreground (LOKET_PROVIDER_URL)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server.add_argument("--port", type=int, default=5055)
    server.add_argument("--host", default="127.0.0.1", help="0.0.0.0 in a container")
    server.set_defaults(serve=actions)
