"""``fathom up``'s banner: the web app first, then the APIs, servers, logs and demo tokens."""

from __future__ import annotations

from pathlib import Path

from fathom_infra.stack import DEMO_TRUST, LocalStack


def test_banner_leads_with_the_web_app(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path)
    stack.urls = {"api": "http://127.0.0.1:8000", "reports": "http://127.0.0.1:8001",
                  "projector": "http://127.0.0.1:8002"}
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
                     "postgresql://postgres@127.0.0.1:55432/fathom", "127.0.0.1:59092", str(tmp_path / "logs"),
                     "demo trust: 3 schools", f"Tokens for trust {DEMO_TRUST}", "eyJ.leader.token",
                     "Ctrl-C stops everything."):
        assert expected in text, expected
