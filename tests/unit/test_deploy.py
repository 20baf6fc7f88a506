"""The production files agree with each other and with the code: compose, nginx, Dockerfile."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from bot.core.settings import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
SECRETS = {
    "REDIS_PASSWORD": "x", "LOKET_RASA_TOKEN": "t", "LOKET_PROVIDER_URL": "http://p",
    "LOKET_PROVIDER_SECRET": "s",
}  # fmt: skip


def services() -> dict[str, dict[str, object]]:
    data = yaml.safe_load(COMPOSE.read_text())
    return dict(data["services"])


def test_every_loket_service_has_a_health_check_and_its_command() -> None:
    found = services()
    loket = {name: s for name, s in found.items() if s.get("image") == "loket:latest"}
    assert {"actions", "rasa-1", "rasa-2", "gateway-1", "gateway-2", "gateway-3"} <= set(loket)
    for name, service in loket.items():
        assert "healthcheck" in service, name
        command = service["command"]
        assert isinstance(command, list) and command[0] == "loket", name
    assert found["redis"]["command"][:5] == [
        "redis-server", "--appendonly", "yes", "--appendfsync", "everysec"
    ]  # fmt: skip


def test_the_gateways_know_every_rasa_worker_and_nginx_every_gateway() -> None:
    found = services()
    workers = sorted(n for n in found if n.startswith("rasa-"))
    gateways = sorted(n for n in found if n.startswith("gateway-"))
    urls = found["gateway-1"]["environment"]["LOKET_RASA_URL"]
    assert urls.split(",") == [f"http://{w}:5005" for w in workers]
    nginx = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
    assert re.findall(r"server (gateway-\d+):8080", nginx) == gateways
    assert "location = /metrics { deny all; }" in nginx


def test_every_loket_variable_in_compose_is_one_loket_reads() -> None:
    env = services()["gateway-1"]["environment"]
    settings_source = (PROJECT_ROOT / "bot" / "core" / "settings.py").read_text()
    unknown = [name for name in env if name.startswith("LOKET_") and name not in settings_source]
    assert unknown == []


def test_the_image_trains_at_build_and_runs_as_a_user() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "RUN loket train" in dockerfile
    assert re.search(r"^USER loket$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/livez" in dockerfile


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_accepts_the_file_and_names_a_missing_secret() -> None:
    ok = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        env={**os.environ, **SECRETS}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        env={k: v for k, v in os.environ.items() if k not in SECRETS},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode != 0 and "REDIS_PASSWORD" in missing.stderr
