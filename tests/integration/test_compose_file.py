"""docker-compose.yml: the production-like stack is checked without a container engine.

These machines have no Docker engine, so ``docker compose up`` cannot run in the suite. What
can be checked is that the file is valid Compose (with the static Compose binary, when one is
found) and that it still describes the architecture the design fixes: Kafka in KRaft mode,
PostgreSQL 16+, a one-shot migration every service waits for, the web services under gunicorn,
and only environment variables the services actually read.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.compose_support import (
    COMPOSE_FILE,
    REQUIRED_SECRETS,
    ROOT,
    command_line,
    compose_binary,
    environment,
    published_container_ports,
    run_compose,
    with_secrets,
)

CONFIG_SOURCE = ROOT / "shared" / "fathom_shared" / "config.py"
PROJECTORS = {"projector-1", "projector-2"}
SERVICES = {"kafka", "postgres", "postgres-replica", "migrate", "api", "reports", "relay", *PROJECTORS}
FATHOM_SERVICES = {"migrate", "api", "reports", "relay", *PROJECTORS}
LONG_RUNNING = SERVICES - {"migrate"}
KAFKA_PRINCIPALS = {"relay": "fathom-relay", "projector-1": "fathom-projector", "projector-2": "fathom-projector",
                    "delivery": "fathom-delivery"}
"""Every service that talks to the broker, and the principal it authenticates as."""
KAFKA_SETUP_SCRIPT = ROOT / "infra" / "docker" / "kafka" / "setup.sh"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    return compose["services"][name]


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
    for name in PROJECTORS:
        assert command_line(service(compose, name)).startswith("python -m fathom_projector --metrics-port "), name
    assert "fathom migrate" in command_line(service(compose, "migrate"))


def test_services_start_after_migrations_and_their_dependencies(compose: dict[str, Any]) -> None:
    assert service(compose, "migrate")["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in FATHOM_SERVICES - {"migrate"}:
        depends = service(compose, name)["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    for name in ("relay", *PROJECTORS):
        assert service(compose, name)["depends_on"]["kafka"]["condition"] == "service_healthy", name


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        assert service(compose, name).get("healthcheck", {}).get("test"), name


def test_services_use_only_settings_the_code_reads(compose: dict[str, Any]) -> None:
    """A misspelt variable in compose would be silently ignored; config.py is the one reader."""
    known = set(re.findall(r'env(?:\.get\(|, )"([A-Z_]+)"', CONFIG_SOURCE.read_text()))  # env.get / _count(env, …
    assert {"DATABASE_URL", "APP_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} <= known
    script_only = {"FATHOM_API_URL", "FATHOM_DEMO_TRUST"}  # read by infra/docker/demo.py
    for name in FATHOM_SERVICES:
        unknown = set(environment(service(compose, name))) - known - script_only
        assert not unknown, f"{name}: {sorted(unknown)}"
    for name in FATHOM_SERVICES - {"migrate"}:
        env = environment(service(compose, name))
        assert "fathom_app" in env["APP_DATABASE_URL"], f"{name} must connect as the application role"
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"



def test_operations_ports_are_not_published(compose: dict[str, Any]) -> None:
    """/metrics and the detailed /readyz stay on the compose network; only the public ports reach the host."""
    for name in ("api", "reports", "delivery"):
        svc = service(compose, name)
        ops_port = environment(svc)["FATHOM_OPS_PORT"]
        assert ops_port not in published_container_ports(svc), name
    for name in ("api", "reports"):
        assert published_container_ports(service(compose, name)), f"{name} still publishes its public port"
    for name in PROJECTORS:
        projector = service(compose, name)
        metrics_port = command_line(projector).split("--metrics-port ", 1)[1].split()[0]
        assert metrics_port not in published_container_ports(projector), name


def test_compose_refuses_to_start_without_broker_or_replication_passwords() -> None:
    """No broker or replication credential has a default that would let the stack come up with a known
    password."""
    binary = compose_binary()
    if binary is None:
        pytest.skip("no Compose binary (see tests/integration/test_compose_production.py)")
    for missing in REQUIRED_SECRETS:
        result = run_compose(binary, ["-f", str(COMPOSE_FILE), "config", "--quiet"], with_secrets(missing))
        assert result.returncode != 0, f"compose accepted the file without {missing}"
        assert missing in result.stderr


def test_broker_accepts_only_authenticated_clients_and_authorises_by_acl(compose: dict[str, Any]) -> None:
    env = environment(service(compose, "kafka"))
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    assert listeners <= set(protocols)
    assert all(protocols[name] in ("SASL_PLAINTEXT", "SASL_SSL") for name in listeners), protocols
    assert "SCRAM-SHA-512" in env["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_SUPER_USERS"] == "User:admin"
    # The controller listener is reachable only inside the broker's container.
    controller = next(item for item in env["KAFKA_LISTENERS"].split(",") if item.startswith("CONTROLLER://"))
    assert controller.startswith("CONTROLLER://localhost:")
    for name, value in env.items():
        if name.endswith("_JAAS_CONFIG") and "password=" in value:
            assert "${FATHOM_KAFKA_ADMIN_PASSWORD:?" in value, name


def test_every_kafka_client_authenticates_as_its_own_principal(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        env = environment(svc)
        if "KAFKA_BOOTSTRAP_SERVERS" in env:
            assert env["KAFKA_SECURITY_PROTOCOL"] in ("SASL_PLAINTEXT", "SASL_SSL"), name
            assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
    for name, principal in KAFKA_PRINCIPALS.items():
        svc = service(compose, name)
        env = environment(svc)
        assert env["KAFKA_SASL_USERNAME"] == principal, name
        password = f"FATHOM_KAFKA_{principal.removeprefix('fathom-').upper()}_PASSWORD"
        assert env["KAFKA_SASL_PASSWORD"].startswith(f"${{{password}:?"), f"{name}: no default password"
        assert svc["depends_on"]["kafka-setup"]["condition"] == "service_completed_successfully", name
    setup = service(compose, "kafka-setup")
    assert setup["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert set(environment(setup)) >= set(REQUIRED_SECRETS) - {"FATHOM_REPLICATION_PASSWORD"}


def test_each_principal_is_granted_only_what_its_service_does() -> None:
    """relay writes the events topic; projector reads it in its group; delivery writes the change topics."""
    grants: dict[str, list[str]] = {}
    for line in KAFKA_SETUP_SCRIPT.read_text().replace("\\\n", " ").splitlines():
        words = line.split()
        if words[:1] == ["allow"]:
            grants.setdefault(words[1], []).append(" ".join(words[2:]))
        if words[:1] == ["scram"]:
            grants.setdefault(words[1], [])
    assert set(grants) == set(KAFKA_PRINCIPALS.values())
    assert grants["fathom-relay"] == ['--topic "$events" --operation Write --operation Describe --operation Create',
                                      "--cluster --operation IdempotentWrite"]
    assert grants["fathom-projector"] == [
        '--topic "$events" --operation Read --operation Describe --operation Create --operation Delete',
        '--group "$group" --operation Read --operation Describe']
    assert grants["fathom-delivery"] == [
        '--topic "$changes" --resource-pattern-type prefixed --operation Write --operation Describe --operation Create',
        "--cluster --operation IdempotentWrite"]


def test_change_feed_streams_and_verifications_have_their_own_processes(compose: dict[str, Any]) -> None:
    """Long-lived streams and chain verifications never take the reports service's request threads."""
    streams, reports = service(compose, "streams"), service(compose, "reports")
    assert "gunicorn" in command_line(streams) and "fathom_reports.stream_wsgi:app" in command_line(streams)
    assert "8003" in environment(reports)["FATHOM_STREAM_URL"]
    assert command_line(service(compose, "verifier")) == "python -m fathom_verifier"
    for name in ("streams", "verifier"):
        assert "healthcheck" in service(compose, name)
        assert "migrate" in service(compose, name)["depends_on"]
