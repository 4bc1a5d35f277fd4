"""The production compose stack as Docker Compose resolves it, in every file and profile combination.

Without a container engine (none on the development machines) the stack cannot be started here; what
can be checked is the model Compose would start (the real Compose binary's ``config``): three KRaft
nodes in one quorum with every topic replicated three times and ``min.insync.replicas=2`` (with the
override), a hot standby the reports service reads from, two projectors with their own static member
ids, a health check and restart policy on every service, and only the public ports on the host.
``make test-docker`` starts the stack for real where an engine exists.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.compose_stack import E2E_OVERRIDE
from tests.compose_support import (
    COMPOSE_FILE,
    HA_FILE,
    ROOT,
    VARIANTS,
    command_line,
    compose_args,
    compose_binary,
    environment,
    published_container_ports,
    resolved,
    run_compose,
    with_secrets,
)

ONE_SHOTS = {"migrate", "kafka-setup", "demo"}
PUBLIC_PORTS = {"api": {"8000"}, "reports": {"8001"}, "streams": {"8003"}}
KAFKA_NODES = {"kafka": 1, "kafka-2": 2, "kafka-3": 3}
STANDBY_SCRIPT = ROOT / "infra" / "docker" / "postgres" / "standby-entrypoint.sh"
PRIMARY_SCRIPT = ROOT / "infra" / "docker" / "postgres" / "primary-replication.sh"


@pytest.fixture(scope="module")
def binary() -> str:
    found = compose_binary()
    if found is None:
        pytest.skip("no Compose binary: `make install` puts one in .venv-compose, or set FATHOM_COMPOSE_BIN")
    return found


@pytest.fixture(scope="module")
def resolve(binary: str) -> Callable[[str], dict[str, Any]]:
    """``resolve(variant)``: the services of that combination, resolved once per module."""
    cache: dict[str, dict[str, Any]] = {}

    def services(variant: str) -> dict[str, Any]:
        if variant not in cache:
            files, profiles = VARIANTS[variant]
            cache[variant] = resolved(binary, files, profiles)["services"]
        return cache[variant]

    return services


@pytest.fixture(params=list(VARIANTS))
def services(request: pytest.FixtureRequest, resolve: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Each combination's services in turn."""
    return resolve(request.param)


@pytest.fixture
def ha(resolve: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return resolve("three brokers")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_compose_accepts_every_combination(binary: str, variant: str) -> None:
    files, profiles = VARIANTS[variant]
    result = run_compose(binary, [*compose_args(files, profiles), "config", "--quiet"], with_secrets())
    assert result.returncode == 0, result.stderr


def test_three_brokers_form_one_kraft_quorum(ha: dict[str, Any]) -> None:
    nodes = {name: svc for name, svc in ha.items() if "KAFKA_PROCESS_ROLES" in environment(svc)}
    assert set(nodes) == set(KAFKA_NODES)
    voters = ",".join(f"{node_id}@{name}:9093" for name, node_id in KAFKA_NODES.items())
    for name, svc in nodes.items():
        env = environment(svc)
        assert svc["image"] == ha["kafka"]["image"] and svc["image"].startswith("apache/kafka:3.9"), name
        assert env["KAFKA_NODE_ID"] == str(KAFKA_NODES[name]), name
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, name
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters, name
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"BROKER://{name}:9092", name
        assert svc.get("hostname", name) == name
        assert env["CLUSTER_ID"] == environment(ha["kafka"])["CLUSTER_ID"], name
    data = {next(v["source"] for v in svc["volumes"] if v["target"] == "/var/lib/kafka/data")
            for svc in nodes.values()}
    assert len(data) == 3, "each node needs its own data volume"


def test_every_topic_has_three_replicas_and_two_must_acknowledge(ha: dict[str, Any]) -> None:
    for name in KAFKA_NODES:
        env = environment(ha[name])
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3", name  # topics the services create
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2", name
        assert env.get("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE", "false") == "false", name


def test_services_create_topics_with_the_brokers_replication_factor() -> None:
    """A replication factor written in the code would override the cluster's (3 brokers → RF 3): the
    services ask for -1, the broker's ``default.replication.factor``."""
    factors = []
    for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py"), *ROOT.glob("infra/**/*.py")]:
        factors += [(path.name, value) for value in re.findall(r"replication_factor=([^,)\s]+)", path.read_text())]
    assert factors, "no topic creation found"
    assert all(value == "-1" for _, value in factors), factors


def test_every_producer_waits_for_all_in_sync_replicas() -> None:
    """min.insync.replicas=2 protects only writes sent with acks=all: the one place the code makes a producer
    (the relay's and the change topics' publisher) must ask for it, idempotently (no duplicates on retry)."""
    makers = [(path, text) for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py")]
              if "KafkaProducer(" in (text := path.read_text())]
    assert [path.name for path, _ in makers] == ["kafka.py"]
    (_, text), = makers
    call = text.split("KafkaProducer(", 1)[1].split("\n\n", 1)[0]  # the call's arguments, to the next blank line
    assert 'acks="all"' in call and "enable_idempotence=True" in call, call


def test_three_brokers_keep_sasl_and_the_per_service_acls(ha: dict[str, Any],
                                                          resolve: Callable[[str], dict[str, Any]]) -> None:
    one = resolve("one broker")
    security = ("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "KAFKA_SASL_ENABLED_MECHANISMS", "KAFKA_AUTHORIZER_CLASS_NAME",
                "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "KAFKA_SUPER_USERS",
                "KAFKA_LISTENER_NAME_BROKER_SCRAM___SHA___512_SASL_JAAS_CONFIG",
                "KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG")
    for name in KAFKA_NODES:
        env = environment(ha[name])
        assert {k: env[k] for k in security} == {k: environment(one["kafka"])[k] for k in security}, name
        listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
        assert listeners == {"BROKER", "CONTROLLER"}, name
    bootstrap = {f"{name}:9092" for name in KAFKA_NODES}
    for name, svc in ha.items():
        if "KAFKA_BOOTSTRAP_SERVERS" in environment(svc):
            assert set(environment(svc)["KAFKA_BOOTSTRAP_SERVERS"].split(",")) == bootstrap, name
            for key in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME"):
                assert environment(svc).get(key) == environment(one[name]).get(key), (name, key)
    setup = ha["kafka-setup"]
    assert set(environment(setup)["KAFKA_ADMIN_BOOTSTRAP"].split(",")) == bootstrap
    assert {n for n, d in setup["depends_on"].items() if d["condition"] == "service_healthy"} >= set(KAFKA_NODES)
    assert setup["entrypoint"] == one["kafka-setup"]["entrypoint"]


def test_reports_reads_from_a_hot_standby_streaming_from_the_primary(services: dict[str, Any]) -> None:
    primary, standby, reports = services["postgres"], services["postgres-replica"], services["reports"]
    assert standby["image"] == primary["image"]
    assert "wal_level=replica" in primary["command"]
    assert "hot_standby=on" in standby["command"]
    init = {v["target"]: v["source"] for v in primary["volumes"]}
    assert Path(init["/docker-entrypoint-initdb.d/10-replication.sh"]) == PRIMARY_SCRIPT
    assert standby["entrypoint"] == ["/opt/fathom-postgres/standby-entrypoint.sh"]
    assert environment(standby)["FATHOM_REPLICATION_SLOT"] == environment(primary)["FATHOM_REPLICATION_SLOT"]
    assert environment(standby)["FATHOM_PRIMARY_HOST"] == "postgres"
    assert standby["depends_on"]["postgres"]["condition"] == "service_healthy"
    reads, writes = (urlsplit(environment(reports)[key]) for key in ("REPORTS_DATABASE_URL", "APP_DATABASE_URL"))
    assert (reads.hostname, reads.username) == ("postgres-replica", "fathom_app")
    assert (writes.hostname, writes.username) == ("postgres", "fathom_app")
    assert reports["depends_on"]["postgres-replica"]["condition"] == "service_healthy"
    raw = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    for name in ("postgres", "postgres-replica"):
        assert raw[name]["environment"]["FATHOM_REPLICATION_PASSWORD"].startswith("${FATHOM_REPLICATION_PASSWORD:?")
    for path in (STANDBY_SCRIPT, PRIMARY_SCRIPT):  # an entrypoint, and an init script the image must execute
        assert os.access(path, os.X_OK), path  # (a sourced one would run inside the image's own shell)
    script = STANDBY_SCRIPT.read_text()
    for flag in ("pg_basebackup", "--write-recovery-conf", '--slot "$slot"', "--wal-method stream"):
        assert flag in script, flag


def test_two_projectors_share_one_group_with_their_own_instance_ids(services: dict[str, Any]) -> None:
    projectors = {name: svc for name, svc in services.items()
                  if command_line(svc).startswith("python -m fathom_projector")}
    assert len(projectors) == 2, sorted(projectors)
    ids = [command_line(svc).split("--instance-id ", 1)[1].split()[0] for svc in projectors.values()
           if "--instance-id " in command_line(svc)]
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    assert len({environment(svc)["FATHOM_PROJECTOR_GROUP"] for svc in projectors.values()}) == 1
    for name, svc in projectors.items():
        # One container per service: a scaled service would run its copies under one instance id.
        assert (svc.get("deploy") or {}).get("replicas", 1) == 1 and svc.get("scale", 1) == 1, name
    for name, svc in services.items():
        if "FATHOM_TOPIC_PARTITIONS" in environment(svc):
            assert environment(svc)["FATHOM_TOPIC_PARTITIONS"] == "12", name


def test_every_service_has_a_health_check_and_a_restart_policy(services: dict[str, Any]) -> None:
    """Long-running services restart and report health; one-shots run once and are waited for."""
    for name, svc in services.items():
        if name in ONE_SHOTS:
            assert svc.get("restart") == "no", name
            continue
        assert svc.get("restart") in ("always", "unless-stopped"), name
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
    for name, svc in services.items():
        for dependency, how in (svc.get("depends_on") or {}).items():
            expected = "service_completed_successfully" if dependency in ONE_SHOTS else "service_healthy"
            assert how["condition"] == expected, (name, dependency)


def test_only_the_public_ports_reach_the_host(services: dict[str, Any]) -> None:
    published = {name: published_container_ports(svc) for name, svc in services.items() if svc.get("ports")}
    assert published == PUBLIC_PORTS


def test_the_override_only_adds_to_the_one_broker_file() -> None:
    """docker-compose.ha.yml is used with docker-compose.yml, never alone: it names no image or command of a
    Fathom service."""
    override = yaml.safe_load(HA_FILE.read_text())["services"]
    for name, svc in override.items():
        if name not in KAFKA_NODES and name != "kafka-setup":
            assert set(svc) == {"environment"}, name


@pytest.mark.parametrize("files", [(COMPOSE_FILE, E2E_OVERRIDE), (COMPOSE_FILE, HA_FILE, E2E_OVERRIDE)])
def test_the_end_to_end_override_adds_only_the_primary_on_loopback(binary: str, files: tuple[Path, ...]) -> None:
    """``make test-docker`` starts the stack with tests/docker-compose.e2e.yml: the primary reachable from the
    host's loopback (the tests create trusts), and nothing else changed."""
    services = resolved(binary, files)["services"]
    published = {name: published_container_ports(svc) for name, svc in services.items() if svc.get("ports")}
    assert published == {**PUBLIC_PORTS, "postgres": {"5432"}}
    (port,) = services["postgres"]["ports"]
    assert port["host_ip"] == "127.0.0.1" and not port.get("published")


def test_make_test_docker_says_plainly_when_there_is_no_engine(tmp_path: Path) -> None:
    """Without a container engine the stack cannot start: the command says why and fails, never skips."""
    env = {**os.environ, "PATH": str(tmp_path)}  # no `docker` command at all
    result = subprocess.run([sys.executable, "-m", "tests.compose_stack"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT, env=env)
    assert result.returncode == 1
    assert "no `docker` command" in result.stderr and "nothing was started or tested" in result.stderr
