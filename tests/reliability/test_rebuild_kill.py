"""SIGKILL ``fathom rebuild`` part-way through its replay, run it again: it resumes and equals a fresh rebuild.

The kill lands between or inside chunk transactions; a chunk either committed with its
progress row or rolled back entirely, so the second run resumes after the last committed one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from fathom_infra.cli import main
from fathom_infra.local_servers import stop_process, wait_until
from fathom_projector.online_rebuild import replay_position
from fathom_projector.rebuild import rebuild_trust
from fathom_projector.shadow import SCHEMA, ensure_shadow
from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from tests.rebuild_support import history, snapshot


def shadow_judgements(engine: Engine, trust_id: str) -> int:
    with TenantUnitOfWork(engine, trust_id) as uow:
        return int(uow.connection.execute(text(f"SELECT count(*) FROM {SCHEMA}.rm_judgements")).scalar_one())


def test_sigkill_mid_rebuild_then_restart_completes_and_equals_a_fresh_rebuild(
        app_engine, owner_engine, make_trust, settings, tmp_path: Path, monkeypatch, capsys):
    trust = make_trust("rebuild-kill")
    stored = history(app_engine, trust, judgement_count=20_000)
    catch_up_trust(app_engine, trust)
    ensure_shadow(owner_engine)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "APP_DATABASE_URL": settings.app_database_url}
    log = tmp_path / "rebuild.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "fathom_infra.cli", "rebuild", "--trust", trust,
                                    "--chunk", "500"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: (replay_position(app_engine, trust) or 0) > 0, 60, interval=0.01,
                   what="the first chunk committed")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        stop_process(process, signal.SIGKILL)
    at_kill = replay_position(app_engine, trust)
    assert at_kill is not None and 0 < at_kill < len(stored), log.read_text(errors="replace")[-2000:]
    assert shadow_judgements(app_engine, trust) > 0

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_DATABASE_URL", settings.app_database_url)
    assert main(["rebuild", "--trust", trust, "--chunk", "2000"]) == 0
    assert f"switched all read models to sequence {len(stored)}" in capsys.readouterr().out
    assert replay_position(app_engine, trust) is None
    assert shadow_judgements(app_engine, trust) == 0
    resumed = snapshot(app_engine, trust)
    rebuild_trust(app_engine, trust)
    assert resumed == snapshot(app_engine, trust)


def test_sigterm_interrupts_cleanly_and_says_how_to_resume(app_engine, owner_engine, make_trust, settings,
                                                           tmp_path: Path):
    trust = make_trust("rebuild-term")
    history(app_engine, trust, judgement_count=20_000)
    ensure_shadow(owner_engine)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "APP_DATABASE_URL": settings.app_database_url}
    process = subprocess.Popen([sys.executable, "-m", "fathom_infra.cli", "rebuild", "--trust", trust,
                                "--chunk", "500"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    try:
        wait_until(lambda: (replay_position(app_engine, trust) or 0) > 0, 60, interval=0.01,
                   what="the first chunk committed")
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        stop_process(process, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "run the same command again to resume" in err
