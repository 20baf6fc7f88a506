"""How each of Loket's processes is started: the Rasa server and the action server, by the
stack on a laptop and by `loket rasa` / `loket actions` on a server or in a container."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.errors import ConfigError
from bot.core.settings import PROJECT_ROOT
from bot.ops.model import rasa_env


def rasa_redis_env(redis_url: str) -> dict[str, str]:
    """The LOKET_REDIS_* variables bot/endpoints.yml reads, from a redis:// URL."""
    parts = urlsplit(redis_url)
    if parts.scheme != "redis":
        raise ConfigError(
            "Rasa's Redis tracker store needs a plain redis:// REDIS_URL "
            f"(got {parts.scheme}://); TLS and unix sockets are not supported by it"
        )
    db = parts.path.lstrip("/") or "0"
    return {
        "LOKET_REDIS_HOST": parts.hostname or "localhost",
        "LOKET_REDIS_PORT": str(parts.port or 6379),
        "LOKET_REDIS_DB": db,
        "LOKET_REDIS_PASSWORD": parts.password or "",
    }


def rasa_command(
    model: Path,
    port: int,
    token: str,
    *,
    host: str = "127.0.0.1",
    root: Path = PROJECT_ROOT,
    credentials: Path | None = None,
) -> list[str]:
    """`rasa run` serving `model` with Loket's channel, endpoints and the API for the gateway."""
    return [
        sys.executable, "-m", "rasa", "run",
        "--model", str(model),
        "--enable-api", "--auth-token", token,
        "--interface", host, "--port", str(port),
        "--endpoints", str(root / "bot" / "endpoints.yml"),
        "--credentials", str(credentials or root / "bot" / "credentials.yml"),
    ]  # fmt: skip


def rasa_lock_lifetime(bot_timeout: float) -> int:
    """Seconds Rasa keeps a conversation's ticket lock (its TICKET_LOCK_LIFETIME, 60 by
    default): half the gateway's bot timeout, so that a lock left behind when Rasa or Redis
    failed mid-turn expires before the gateway gives the next turn up. The gateway's own turn
    lock is what keeps one conversation's messages in order."""
    return max(5, int(bot_timeout // 2))


def rasa_environment(
    redis_url: str, actions_url: str, token: str, bot_timeout: float
) -> dict[str, str]:
    return rasa_env(
        {
            **rasa_redis_env(redis_url),
            "LOKET_ACTIONS_URL": actions_url,
            "LOKET_RASA_TOKEN": token,
            "TICKET_LOCK_LIFETIME": str(rasa_lock_lifetime(bot_timeout)),
        }
    )


def actions_command(port: int) -> list[str]:
    return [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)]


def actions_environment(provider_url: str, *, host: str = "127.0.0.1") -> dict[str, str]:
    return rasa_env({"SANIC_HOST": host, "LOKET_PROVIDER_URL": provider_url})
