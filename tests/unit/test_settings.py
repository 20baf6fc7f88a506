"""Settings come from a mapping, and a bad value fails naming its variable."""

from __future__ import annotations

import os
import re

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings, redact_url


def test_defaults_need_no_configuration() -> None:
    s = Settings.from_env({})
    assert s.redis_url is None  # embedded Redis
    assert s.port == 8080
    assert s.rasa_url is None and s.actions_url is None  # started by Loket
    assert len(s.rasa_token) >= 24
    assert s.provider_url is None and s.provider_port == 5056  # the sandbox, started by Loket
    assert s.sandbox_pay_delay == 20


def test_provider_values_are_read() -> None:
    s = Settings.from_env(
        {
            "LOKET_PROVIDER_URL": "https://provider.example/api/",
            "LOKET_PROVIDER_PORT": "6000",
            "LOKET_SANDBOX_PAY_DELAY": "0",
        }
    )
    assert (s.provider_url, s.provider_port) == ("https://provider.example/api", 6000)
    assert s.sandbox_pay_delay == 0  # payments only through `loket sandbox pay`


def test_values_are_read() -> None:
    s = Settings.from_env(
        {"REDIS_URL": "redis://h:6380/2", "LOKET_PORT": "9000", "LOKET_RASA_URL": "http://r:5005/"}
    )
    assert (s.redis_url, s.port, s.rasa_url) == ("redis://h:6380/2", 9000, "http://r:5005")


def test_several_rasa_servers_or_workers() -> None:
    s = Settings.from_env({"LOKET_RASA_URL": "http://r1:5005/, http://r2:5005"})
    assert s.rasa_urls == ("http://r1:5005", "http://r2:5005") and s.rasa_url == "http://r1:5005"
    assert Settings.from_env({"LOKET_RASA_WORKERS": "3"}).rasa_workers == 3
    assert Settings.from_env({}).rasa_workers == (os.cpu_count() or 1)  # one per core
    s = Settings.from_env({"LOKET_LOG_FORMAT": "JSON", "LOKET_METRICS_TOKEN": " t0k "})
    assert (s.log_format, s.metrics_token) == ("json", "t0k")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"LOKET_PORT": "eighty"}, "LOKET_PORT"),
        ({"LOKET_PORT": "70000"}, "LOKET_PORT"),
        ({"LOKET_RASA_URL": "rasa"}, "LOKET_RASA_URL"),
        ({"LOKET_BOT_TIMEOUT": "90"}, "LOKET_BOT_TIMEOUT"),
        ({"LOKET_PROVIDER_URL": "provider:5056"}, "LOKET_PROVIDER_URL"),
        ({"LOKET_PROVIDER_PORT": "-1"}, "LOKET_PROVIDER_PORT"),
        ({"LOKET_SANDBOX_PAY_DELAY": "soon"}, "LOKET_SANDBOX_PAY_DELAY"),
        ({"LOKET_SANDBOX_PAY_DELAY": "-5"}, "LOKET_SANDBOX_PAY_DELAY"),
        ({"LOKET_SANDBOX_PAY_DELAY": "nan"}, "LOKET_SANDBOX_PAY_DELAY"),
        ({"LOKET_RASA_URL": "http://r1:5005, r2"}, "LOKET_RASA_URL"),
        ({"LOKET_RASA_WORKERS": "0"}, "LOKET_RASA_WORKERS"),
        ({"LOKET_RASA_WORKERS": "two"}, "LOKET_RASA_WORKERS"),
        ({"LOKET_RASA_WORKERS": "64"}, "LOKET_RASA_WORKERS"),
        ({"LOKET_LOG_FORMAT": "xml"}, "LOKET_LOG_FORMAT"),
        ({"LOKET_SLA_MINUTES": "ten"}, "LOKET_SLA_MINUTES"),
        ({"LOKET_SLA_MINUTES": "2000"}, "LOKET_SLA_MINUTES"),
        ({"LOKET_AUTO_ASSIGN": "random"}, "LOKET_AUTO_ASSIGN"),
        ({"LOKET_WHATSAPP_TEMPLATES": "Reopen:id"}, "LOKET_WHATSAPP_TEMPLATES"),
        ({"LOKET_WHATSAPP_TEMPLATES": "reopen"}, "LOKET_WHATSAPP_TEMPLATES"),
        ({"LOKET_WHATSAPP_TEMPLATES": "reopen:id:phone"}, "LOKET_WHATSAPP_TEMPLATES"),
        ({"LOKET_TIMEZONE": "Asia/Atlantis"}, "LOKET_TIMEZONE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_passwords_never_appear_in_messages() -> None:
    assert redact_url("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"REDIS_URL": "http://:s3cret@host"})
    assert "s3cret" not in str(err.value)


def test_public_edges_have_safe_defaults() -> None:
    s = Settings.from_env({})
    assert s.webchat and s.trusted_proxies == () and s.health_token == ""
    assert (s.webchat_per_minute, s.webchat_address_per_minute, s.webchat_new_per_hour) == (
        20, 60, 20
    )  # fmt: skip
    assert (s.webchat_max_conversations, s.webchat_retention_days) == (10_000, 30)
    assert s.webchat_frame_ancestors == "'none'" and s.inbox_idle_minutes == 480


def test_public_edge_values_are_read() -> None:
    s = Settings.from_env(
        {
            "LOKET_WEBCHAT": "off",
            "LOKET_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16",
            "LOKET_WEBCHAT_FRAME_ANCESTORS": "https://www.pln.example/ 'self'",
            "LOKET_INBOX_IDLE_MINUTES": "30",
        }
    )
    assert not s.webchat and len(s.trusted_proxies) == 2
    assert s.webchat_frame_ancestors == "https://www.pln.example 'self'"
    assert s.inbox_idle_minutes == 30


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOKET_WEBCHAT", "maybe", "LOKET_WEBCHAT must be on or off"),
        ("LOKET_TRUSTED_PROXIES", "10.0.0.1 proxy.local", "LOKET_TRUSTED_PROXIES: 'proxy.local'"),
        ("LOKET_WEBCHAT_FRAME_ANCESTORS", "*", "LOKET_WEBCHAT_FRAME_ANCESTORS must be origins"),
        ("LOKET_WEBCHAT_FRAME_ANCESTORS", "https://a.example/x", "must be origins"),
        ("LOKET_INBOX_IDLE_MINUTES", "0", "LOKET_INBOX_IDLE_MINUTES must be between 1 and 1440"),
        ("LOKET_WEBCHAT_PER_MINUTE", "lots", "LOKET_WEBCHAT_PER_MINUTE must be a whole number"),
    ],
)
def test_bad_public_edge_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env({name: value})


def test_inbox_settings_are_read() -> None:
    s = Settings.from_env({})
    assert (s.sla_minutes, s.auto_assign, s.whatsapp_templates) == (10, "off", ())
    s = Settings.from_env({
        "LOKET_SLA_MINUTES": "0", "LOKET_AUTO_ASSIGN": "Round-Robin",
        "LOKET_WHATSAPP_TEMPLATES": "loket_reopen:id, loket_reopen:en_US follow_up:id:name+ticket",
    })  # fmt: skip
    assert (s.sla_minutes, s.auto_assign) == (0, "round-robin")
    assert [(t.key, t.variables) for t in s.whatsapp_templates] == [
        ("loket_reopen:id", ()), ("loket_reopen:en_US", ()), ("follow_up:id", ("name", "ticket"))
    ]  # fmt: skip
