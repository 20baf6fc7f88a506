"""Runtime settings: one frozen dataclass built from a mapping (the environment)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfoNotFoundError

from bot.core.clients import Network, parse_networks
from bot.core.errors import ConfigError
from bot.core.hours import ServiceHours
from bot.core.templates import TemplateSpec, parse_templates

PROJECT_ROOT = Path(__file__).resolve().parents[2]


_N = TypeVar("_N", int, float)


def _number(env: Mapping[str, str], name: str, parse: Callable[[str], _N], kind: str) -> _N | None:
    """The variable read with `parse` (int or float); None when unset; "must be `kind`" else."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    port = _number(env, name, int, "a port number")
    if port is None:
        return default
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be between 0 and 65535, got {port}")
    return port


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if not parts.scheme or not parts.netloc:
        raise ConfigError(f"{name} must be a full URL such as http://host:port, got {raw!r}")
    return raw.rstrip("/")


def _urls(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """One URL or several, separated by commas."""
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    urls = tuple(u.strip() for u in raw.split(","))
    return tuple(_url({name: u}, name) or "" for u in urls if u)


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, float, "seconds")
    if value is None:
        return default
    if not 0 <= value <= 86_400:
        raise ConfigError(f"{name} must be between 0 and 86400 seconds, got {env[name].strip()!r}")
    return value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, float, "a number between 0 and 1")
    if value is None:
        return default
    if not 0 <= value <= 1:
        raise ConfigError(f"{name} must be between 0 and 1, got {env[name].strip()!r}")
    return value


def _whole(
    env: Mapping[str, str], name: str, default: int, highest: int, *, lowest: int = 0
) -> int:
    value = _number(env, name, int, "a whole number")
    if value is None:
        return default
    if not lowest <= value <= highest:
        raise ConfigError(f"{name} must be between {lowest} and {highest}, got {value}")
    return value


def _templates(env: Mapping[str, str]) -> tuple[TemplateSpec, ...]:
    try:
        return parse_templates(env.get("LOKET_WHATSAPP_TEMPLATES", ""))
    except ValueError as exc:
        raise ConfigError(f"LOKET_WHATSAPP_TEMPLATES: {exc}") from None


AUTO_ASSIGN = ("off", "round-robin")


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "yes", "1"):
        return True
    if raw in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get(name, ""))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _frame_ancestors(env: Mapping[str, str]) -> str:
    """Who may show the web chat in a frame: CSP source expressions, 'none' by default."""
    raw = env.get("LOKET_WEBCHAT_FRAME_ANCESTORS", "").strip()
    if not raw:
        return "'none'"
    sources = raw.split()
    for source in sources:
        parts = urlsplit(source)
        if source not in ("'self'", "'none'") and (
            parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/")
        ):
            raise ConfigError(
                "LOKET_WEBCHAT_FRAME_ANCESTORS must be origins such as https://www.example.com "
                f"(or 'self'), separated by spaces; got {source!r}"
            )
    return " ".join(s.rstrip("/") for s in sources)


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REDIS_URL", "").strip()
    if not raw:
        return None
    if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            "REDIS_URL must start with redis://, rediss:// or unix:// "
            f"(for example redis://localhost:6379/0), got {redact_url(raw)!r}"
        )
    return raw


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Loket reads from its environment; see docs/operating.md, "Configuration"."""

    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = PROJECT_ROOT / "var"
    models_dir: Path = PROJECT_ROOT / "models"
    nlu_data_dir: Path = PROJECT_ROOT / "nlu_data"  # where trainers' labelled examples go
    rasa_urls: tuple[str, ...] = ()  # Rasa servers already running; empty: Loket starts them
    rasa_workers: int = 1  # how many Rasa servers `loket run` starts when rasa_urls is empty
    rasa_port: int = 5005  # the first started one's port; the others take the next ports
    actions_url: str | None = None
    actions_port: int = 5055
    provider_url: str | None = None
    provider_port: int = 5056
    sandbox_pay_delay: float = 20.0
    provider_secret: str = ""  # signs the provider's payment callbacks; "" refuses them all
    rasa_token: str = ""
    bot_timeout: float = 30.0
    service_hours: str = "mon-sat 08:00-20:00"  # when agents answer, in `timezone`
    timezone: str = "Asia/Jakarta"
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one JSON object a line, with the conversation id
    metrics_token: str = ""  # GET /metrics wants it as a bearer token; unset: localhost only
    # The agents' inbox: minutes a conversation may wait before its SLA clock turns red (0: no
    # clock); "round-robin" assigns each new handoff to the next online agent.
    sla_minutes: int = 10
    auto_assign: str = "off"
    # Telegram: polling when no webhook URL is set (see docs/telegram.md)
    telegram_token: str = ""
    telegram_webhook_url: str | None = None  # public https base URL that reaches this gateway
    telegram_secret: str = ""  # X-Telegram-Bot-Api-Secret-Token; derived from the token if unset
    telegram_api_url: str = "https://api.telegram.org"
    # WhatsApp Cloud API or a bridge speaking it (see docs/whatsapp.md)
    whatsapp_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_templates: tuple[TemplateSpec, ...] = ()  # approved, for after the 24-hour window

    # Public edges (see docs/security.md)
    trusted_proxies: tuple[Network, ...] = ()  # whose X-Forwarded-For names the client
    health_token: str = ""  # Bearer token for /healthz details; "" = only from this machine
    webchat: bool = True  # LOKET_WEBCHAT=off removes /chat altogether
    webchat_per_minute: int = 20  # messages per conversation per minute
    webchat_address_per_minute: int = 60  # messages from one client address per minute
    webchat_new_per_hour: int = 20  # new conversations from one client address per hour
    webchat_max_conversations: int = 10_000  # kept at once; the oldest idle ones make room
    webchat_retention_days: int = 30  # a web-chat conversation idle this long is deleted
    webchat_frame_ancestors: str = "'none'"  # CSP frame-ancestors of /chat
    inbox_idle_minutes: int = 480  # an agent's session ends after this long without activity
    csat: bool = True  # LOKET_CSAT=off: no satisfaction question when an agent closes
    # A new model may score at most this much macro-F1 below the serving one on the held-out
    # set, or its deploy is refused (docs/training.md)
    deploy_tolerance: float = 0.01

    @property
    def rasa_url(self) -> str | None:
        """The first Rasa server: any of them answers for any conversation (trackers are in
        Redis); this one is asked about trackers and the model."""
        return self.rasa_urls[0] if self.rasa_urls else None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        data_dir = Path(env.get("LOKET_DATA_DIR", "") or PROJECT_ROOT / "var")
        models_dir = Path(env.get("LOKET_MODELS_DIR", "") or PROJECT_ROOT / "models")
        timeout_raw = env.get("LOKET_BOT_TIMEOUT", "").strip() or "30"
        try:
            bot_timeout = float(timeout_raw)
        except ValueError:
            raise ConfigError(f"LOKET_BOT_TIMEOUT must be seconds, got {timeout_raw!r}") from None
        if not 1 <= bot_timeout < 60:
            # Rasa's conversation lock lives 60 s; a turn must finish well inside it.
            raise ConfigError("LOKET_BOT_TIMEOUT must be at least 1 and below 60 seconds")
        hours = env.get("LOKET_SERVICE_HOURS", "").strip() or "mon-sat 08:00-20:00"
        zone = env.get("LOKET_TIMEZONE", "").strip() or "Asia/Jakarta"
        try:
            ServiceHours.parse(hours, zone)
        except ValueError as exc:
            raise ConfigError(f"LOKET_SERVICE_HOURS: {exc}") from None
        except (ZoneInfoNotFoundError, KeyError):
            raise ConfigError(
                f"LOKET_TIMEZONE must be a time zone like Asia/Jakarta, got {zone!r}"
            ) from None
        return cls(
            redis_url=_redis_url(env),
            host=env.get("LOKET_HOST", "").strip() or "127.0.0.1",
            port=_port(env, "LOKET_PORT", 8080),
            data_dir=data_dir,
            models_dir=models_dir,
            nlu_data_dir=Path(env.get("LOKET_NLU_DATA_DIR", "") or PROJECT_ROOT / "nlu_data"),
            rasa_urls=_urls(env, "LOKET_RASA_URL"),
            rasa_workers=_whole(env, "LOKET_RASA_WORKERS", os.cpu_count() or 1, 16, lowest=1),
            rasa_port=_port(env, "LOKET_RASA_PORT", 5005),
            actions_url=_url(env, "LOKET_ACTIONS_URL"),
            actions_port=_port(env, "LOKET_ACTIONS_PORT", 5055),
            provider_url=_url(env, "LOKET_PROVIDER_URL"),
            provider_port=_port(env, "LOKET_PROVIDER_PORT", 5056),
            sandbox_pay_delay=_seconds(env, "LOKET_SANDBOX_PAY_DELAY", 20.0),
            provider_secret=env.get("LOKET_PROVIDER_SECRET", "").strip()
            or secrets.token_urlsafe(32),
            rasa_token=env.get("LOKET_RASA_TOKEN", "").strip() or secrets.token_urlsafe(24),
            bot_timeout=bot_timeout,
            service_hours=hours,
            timezone=zone,
            log_level=(env.get("LOKET_LOG_LEVEL", "").strip() or "INFO").upper(),
            log_format=_choice(env, "LOKET_LOG_FORMAT", ("text", "json")),
            metrics_token=env.get("LOKET_METRICS_TOKEN", "").strip(),
            sla_minutes=_whole(env, "LOKET_SLA_MINUTES", 10, 24 * 60),
            auto_assign=_choice(env, "LOKET_AUTO_ASSIGN", AUTO_ASSIGN),
            telegram_token=env.get("LOKET_TELEGRAM_TOKEN", "").strip(),
            telegram_webhook_url=_url(env, "LOKET_TELEGRAM_WEBHOOK_URL"),
            telegram_secret=env.get("LOKET_TELEGRAM_SECRET", "").strip(),
            telegram_api_url=_url(env, "LOKET_TELEGRAM_API_URL") or "https://api.telegram.org",
            whatsapp_token=env.get("LOKET_WHATSAPP_TOKEN", "").strip(),
            whatsapp_app_secret=env.get("LOKET_WHATSAPP_APP_SECRET", "").strip(),
            whatsapp_verify_token=env.get("LOKET_WHATSAPP_VERIFY_TOKEN", "").strip(),
            whatsapp_phone_number_id=env.get("LOKET_WHATSAPP_PHONE_NUMBER_ID", "").strip(),
            whatsapp_api_url=_url(env, "LOKET_WHATSAPP_API_URL")
            or "https://graph.facebook.com/v21.0",
            whatsapp_templates=_templates(env),
            trusted_proxies=_networks(env, "LOKET_TRUSTED_PROXIES"),
            health_token=env.get("LOKET_HEALTH_TOKEN", "").strip(),
            webchat=_switch(env, "LOKET_WEBCHAT", True),
            webchat_per_minute=_whole(env, "LOKET_WEBCHAT_PER_MINUTE", 20, 10_000, lowest=1),
            webchat_address_per_minute=_whole(
                env, "LOKET_WEBCHAT_ADDRESS_PER_MINUTE", 60, 100_000, lowest=1
            ),
            webchat_new_per_hour=_whole(env, "LOKET_WEBCHAT_NEW_PER_HOUR", 20, 100_000, lowest=1),
            webchat_max_conversations=_whole(
                env, "LOKET_WEBCHAT_MAX_CONVERSATIONS", 10_000, 10_000_000, lowest=1
            ),
            webchat_retention_days=_whole(env, "LOKET_WEBCHAT_RETENTION_DAYS", 30, 3650, lowest=1),
            webchat_frame_ancestors=_frame_ancestors(env),
            inbox_idle_minutes=_whole(env, "LOKET_INBOX_IDLE_MINUTES", 480, 1440, lowest=1),
            csat=_switch(env, "LOKET_CSAT", True),
            deploy_tolerance=_fraction(env, "LOKET_DEPLOY_TOLERANCE", 0.01),
        )
