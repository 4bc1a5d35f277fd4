"""``fathom up``: its banner (the web app first, then APIs, servers, logs, demo tokens) and its local settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from fathom_infra.cli import build_parser
from fathom_infra.stack import (
    DEMO_TRUST,
    LOCAL_CHANGE_TOPIC_BYTES,
    LocalStack,
    local_service_env,
    projector_services,
    use_local_broker,
)


def test_banner_leads_with_the_web_app(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.urls = {"api": "http://127.0.0.1:8000", "reports": "http://127.0.0.1:8001",
                  "projector": "http://127.0.0.1:8002", "api-ops": "http://127.0.0.1:8010",
                  "reports-ops": "http://127.0.0.1:8011"}
    stack.projector_urls = {"projector": "http://127.0.0.1:8002"}
    stack.env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/fathom",
                 "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:59092"}
    stack.tokens = {"trust_leader": "eyJ.leader.token"}
    stack.demo_summary = "demo trust: 3 schools"

    lines = stack.banner().splitlines()

    services = [line for line in lines if line.startswith("  ") and "http://" in line]
    assert services[0].split() == ["web", "app", "http://127.0.0.1:8001/", "(sign", "in", "as", "any", "demo",
                                   "person)"]
    assert services[1].split()[:3] == ["command", "API", "http://127.0.0.1:8000"]
    text = "\n".join(lines)
    for expected in ("reports       http://127.0.0.1:8001", "projector     http://127.0.0.1:8002/metrics",
                     "http://127.0.0.1:8010/metrics (API)", "http://127.0.0.1:8011/metrics (reports)",
                     "postgresql://postgres@127.0.0.1:55432/fathom", "127.0.0.1:59092", str(tmp_path / "logs"),
                     "demo trust: 3 schools", f"Tokens for trust {DEMO_TRUST}", "eyJ.leader.token",
                     "Ctrl-C stops everything."):
        assert expected in text, expected


def test_fathom_up_enables_the_development_sign_in_for_local_use(tmp_path: Path) -> None:
    """The services it starts offer the development sign-in (off by default), unless told otherwise."""
    from fathom_shared.config import load_settings

    assert load_settings(local_service_env(tmp_path, base={})).dev_sign_in is True
    assert load_settings(local_service_env(tmp_path, base={"FATHOM_DEV_SIGN_IN": "0"})).dev_sign_in is False


def test_several_projectors_each_have_their_own_name_port_and_stable_instance_id() -> None:
    """One consumer group, N members: distinct operations ports and ``group.instance.id``s, the same ids at every
    start (a restarted projector is the same member, and takes its own partitions back)."""
    services = projector_services(3, [8002, 8022, 8023])

    assert [name for name, _, _ in services] == ["projector-1", "projector-2", "projector-3"]
    argvs = [argv for _, argv, _ in services]
    assert [argv[argv.index("--instance-id") + 1] for argv in argvs] == [
        "local-projector-1", "local-projector-2", "local-projector-3"]
    assert [argv[argv.index("--metrics-port") + 1] for argv in argvs] == ["8002", "8022", "8023"]
    assert projector_services(3, [8002, 8022, 8023]) == services
    assert [name for name, _, _ in projector_services(1, [8002])] == ["projector"]


def test_fathom_up_takes_a_projector_count_of_at_least_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["up"]).projectors == 1
    assert build_parser().parse_args(["up", "--projectors", "3"]).projectors == 3
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--projectors", "0"])
    assert "--projectors: must be at least 1" in capsys.readouterr().err


def test_the_banner_lists_every_projector_s_metrics(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, projectors=2)
    stack.urls = {"api": "http://127.0.0.1:8000", "reports": "http://127.0.0.1:8001",
                  "api-ops": "http://127.0.0.1:8010", "reports-ops": "http://127.0.0.1:8011"}
    stack.projector_urls = {"projector-1": "http://127.0.0.1:8002", "projector-2": "http://127.0.0.1:8022"}
    stack.env = {"DATABASE_URL": "postgresql://x", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:59092"}
    stack.tokens = {}

    text = stack.banner()

    assert "projector-1   http://127.0.0.1:8002/metrics" in text
    assert "projector-2   http://127.0.0.1:8022/metrics" in text


def test_the_local_broker_keeps_change_topics_small_unless_told_otherwise() -> None:
    """The local broker rewrites all it keeps after every change: its change topics keep a bounded size."""
    from fathom_shared.config import load_settings

    env: dict[str, str] = {}
    use_local_broker(env, "127.0.0.1:59092")
    settings = load_settings(env)
    assert settings.kafka_bootstrap_servers == "127.0.0.1:59092"
    assert settings.change_topic_retention_bytes == LOCAL_CHANGE_TOPIC_BYTES

    own = {"FATHOM_CHANGE_TOPIC_RETENTION_BYTES": "1048576"}
    use_local_broker(own, "127.0.0.1:59092")
    assert load_settings(own).change_topic_retention_bytes == 1048576
    assert load_settings({}).change_topic_retention_bytes is None  # any other broker: the days alone
