"""Settings come from a mapping, and a bad value fails naming its variable."""

from __future__ import annotations

import os

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
