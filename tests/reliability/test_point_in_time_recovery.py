"""Backups and point-in-time recovery of the event store, with PostgreSQL's own tools, as the README's
operations section describes them: WAL archiving, a base backup taken with ``pg_basebackup``, and a recovery
that stops at a named restore point.

The event store must come back exactly as it stood at that moment — every event acknowledged before it, none
after — with its hash chain whole, and go on appending from there. The servers are the test's own: WAL
archiving needs a durable server, and recovery needs a second one started on the restored files.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import psycopg
from sqlalchemy import text

from fathom_api import create_app
from fathom_api.validation import school_today
from fathom_infra.local_servers import LocalPostgres, server_directory, wait_until
from fathom_reports.audit.verify import verify_trust
from fathom_shared.config import Settings, load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from tests.support import SmallTrust, bearer, poster, token_for

TRUST = "pitr-trust"
RESTORE_POINT = "before-the-mistake"


class Trust:
    """The trust's API on one server: its engines, and a teacher who records judgements."""

    def __init__(self, own: Settings) -> None:
        self.owner = make_engine(own.database_url, pool_size=1)
        self.app_engine = make_engine(own.app_database_url, pool_size=2)
        self.client = create_app(own, engine=self.app_engine).test_client()
        self.leader = bearer(token_for(own, TRUST, ["trust_leader"], sub="head"))

    def judge(self, pupil: str, value: int) -> list[str]:
        answer = self.client.post("/v1/judgements", headers=self.leader, json={"judgements": [{
            "pupil_id": pupil, "objective_id": "m4-1", "value": value, "assessed_on": school_today().isoformat()}]})
        assert answer.status_code == 201, answer.json
        return answer.json["event_ids"]

    def event_ids(self) -> list[str]:
        with TenantUnitOfWork(self.app_engine, TRUST) as uow:
            return list(uow.connection.execute(text(
                "SELECT event_id::text FROM events WHERE trust_id = current_setting('fathom.trust') "
                "ORDER BY sequence")).scalars())

    def close(self) -> None:
        self.owner.dispose()
        self.app_engine.dispose()


def settings_for(url: str, settings: Settings) -> Settings:
    return replace(load_settings({"DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}),
                   signing_key_path=settings.signing_key_path, jwt_issuer=settings.jwt_issuer,
                   jwt_audience=settings.jwt_audience)


def archived(server: LocalPostgres, segment: str) -> bool:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        last = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0]
    return last is not None and last >= segment


def recover_to(backup: Path, archive: Path, restore_point: str) -> None:
    """What an operator writes into a restored base backup: where the archived WAL is, where to stop."""
    with (backup / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"restore_command = 'cp {archive}/%f %p'\n"
                   f"recovery_target_name = '{restore_point}'\n"
                   "recovery_target_action = 'promote'\n")
    (backup / "recovery.signal").touch()
    for written in (backup / "postgresql.auto.conf", backup / "recovery.signal"):
        os.chown(written, backup.stat().st_uid, -1)  # the server's own files (it runs as its own user under root)


def test_the_event_store_recovers_to_a_restore_point_with_its_chain_whole_and_appends_on(settings, tmp_path):
    archive = server_directory(tmp_path / "wal-archive")
    backup = server_directory(tmp_path / "base-backup")
    primary = LocalPostgres(tmp_path / "primary", settings={
        "archive_mode": "on", "archive_command": f"test ! -f {archive}/%f && cp %p {archive}/%f"}).start()
    trust = None
    try:
        url = primary.create_database("fathom_pitr")
        migrate(url)
        own = settings_for(url, settings)
        trust = Trust(own)
        create_trust(trust.owner, TRUST, "Recovery Academy Trust")
        SmallTrust().create(poster(trust.client, trust.leader))
        primary.run_tool("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                         "-D", str(backup), "--wal-method=stream", "--checkpoint=fast")
        trust.judge("p1", 2)  # after the base backup: only the archived WAL brings it back
        kept = trust.event_ids()
        with psycopg.connect(primary.admin_url, autocommit=True) as conn:
            conn.execute("SELECT pg_create_restore_point(%s)", (RESTORE_POINT,))
        mistake = trust.judge("p2", 1) + trust.judge("p3", 1)
        with psycopg.connect(primary.admin_url, autocommit=True) as conn:
            segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        wait_until(lambda: archived(primary, segment), 60, what=f"WAL segment {segment} archived")
    finally:
        if trust is not None:
            trust.close()
        primary.stop()

    recover_to(backup, archive, RESTORE_POINT)
    restored = LocalPostgres(backup).start()
    trust = None
    try:
        def promoted() -> bool:
            with psycopg.connect(restored.admin_url, autocommit=True) as conn:
                return not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]

        wait_until(promoted, 60, what="recovery to the restore point")
        trust = Trust(settings_for(restored.url("fathom_pitr"), settings))
        assert trust.event_ids() == kept
        assert not set(mistake) & set(trust.event_ids())
        verification = verify_trust(trust.owner, TRUST)
        assert verification.ok, verification.describe()

        after = trust.judge("p2", 3)
        assert trust.event_ids() == kept + after
        verification = verify_trust(trust.owner, TRUST)
        assert verification.ok, verification.describe()
    finally:
        if trust is not None:
            trust.close()
        restored.stop()
