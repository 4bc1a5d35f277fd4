"""``fathom up``: its banner (the web app first, then APIs, servers, logs, demo tokens) and its local settings."""

from __future__ import annotations

from pathlib import Path

from fathom_infra.stack import DEMO_TRUST, LocalStack, local_service_env


def test_banner_leads_with_the_web_app(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.urls = {"api": "http://127.0.0.1:8000", "reports": "http://127.0.0.1:8001",
                  "projector": "http://127.0.0.1:8002", "api-ops": "http://127.0.0.1:8010",
                  "reports-ops": "http://127.0.0.1:8011"}
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
