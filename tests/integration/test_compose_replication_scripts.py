"""The compose stack's streaming-replication scripts, run for real against PostgreSQL's own programs.

No container engine runs here, but the two shell scripts the postgres and postgres-replica services run
(infra/docker/postgres/) need none: the primary's (role, slot, pg_hba.conf line) runs against a real
server whose pg_hba.conf is the official image's (local trust, SCRAM over the network, no replication
entry), and the standby's clones it with ``pg_basebackup -R`` and starts a real hot standby. The image's
own entry point, which the standby script hands over to, is stood in for by one that only runs its
arguments (what the image's does for an existing data directory, after fixing ownership as root).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fathom_infra.local_servers import (
    POSTGRES_BIN_PATH,
    LocalPostgres,
    _run_as_postgres_user,
    free_port,
    stop_group,
    wait_until,
)
from tests.compose_support import ROOT
from tests.run_watchdog import with_run_mark

SCRIPTS = ROOT / "infra" / "docker" / "postgres"
PASSWORD = "replication-secret-1"
IMAGE_HBA = "local all all trust\nhost all all all scram-sha-256\n"
"""What the official image's pg_hba.conf lets through: no replication connections at all."""


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[LocalPostgres]:
    server = LocalPostgres(tmp_path / "primary", durable=False, settings={"wal_level": "replica"}).start()
    try:
        (server.data_dir / "pg_hba.conf").write_text(IMAGE_HBA)
        with psycopg.connect(server.admin_url, autocommit=True) as conn:  # still the old rules until reloaded
            conn.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        server.stop()


def socket_url(directory: Path, port: int) -> str:
    """As postgres over the server's Unix socket (``local ... trust``, as the image's health checks connect)."""
    return f"postgresql://postgres@/postgres?host={directory}&port={port}"


def owned_by_postgres(path: Path) -> Path:
    """A directory the server's user may write (the tests run as root; PostgreSQL never does)."""
    path.mkdir(parents=True, exist_ok=True)
    uid = _run_as_postgres_user()
    if uid is not None:
        os.chown(path, uid, -1)
        os.chmod(path.parent, 0o755)
    return path


def script_env(**values: str) -> dict[str, str]:
    """A container's bare environment, with the run's mark: the standby these scripts start outlives no run."""
    return with_run_mark({"PATH": f"{POSTGRES_BIN_PATH}:/usr/bin:/bin", "HOME": "/tmp", **values})


def run_primary_script(primary: LocalPostgres) -> subprocess.CompletedProcess[str]:
    env = script_env(POSTGRES_USER="postgres", POSTGRES_DB="postgres", PGDATA=str(primary.data_dir),
                     PGHOST=str(primary.data_dir), PGPORT=str(primary.port), FATHOM_REPLICATION_PASSWORD=PASSWORD)
    return subprocess.run(["sh", str(SCRIPTS / "primary-replication.sh")], env=env, capture_output=True, text=True,
                          user=_run_as_postgres_user(), timeout=60, check=False)


def start_standby(primary: LocalPostgres, root: Path, port: int, password: str = PASSWORD) -> subprocess.Popen:
    """The standby's entry point, as the image runs it, with the image's entry point as a pass-through."""
    shim = root.parent / "image-bin"
    shim.mkdir(exist_ok=True)
    (shim / "docker-entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (shim / "docker-entrypoint.sh").chmod(0o755)
    env = script_env(PGDATA=str(root / "standby"), FATHOM_PRIMARY_HOST="127.0.0.1",
                     FATHOM_PRIMARY_PORT=str(primary.port), FATHOM_REPLICATION_PASSWORD=password)
    env["PATH"] = f"{shim}:{env['PATH']}"
    command = ["sh", str(SCRIPTS / "standby-entrypoint.sh"), "postgres", "-c", f"port={port}",
               "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}", "-c", "hot_standby=on",
               "-c", "max_connections=300"]
    log = open(root / "standby.log", "ab")  # noqa: SIM115 (the child keeps its own copy)
    try:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, user=_run_as_postgres_user(),
                                start_new_session=True)
    finally:
        log.close()


def accepts(url: str, process: subprocess.Popen) -> bool:
    assert process.poll() is None, "the standby exited"
    try:
        psycopg.connect(url, connect_timeout=1).close()
        return True
    except psycopg.OperationalError:
        return False


def test_primary_script_is_idempotent_and_grants_replication_to_its_role_only(primary: LocalPostgres) -> None:
    for _ in range(2):  # the image runs it once; an operator may run it again on an existing cluster
        done = run_primary_script(primary)
        assert done.returncode == 0, done.stderr
    hba = (primary.data_dir / "pg_hba.conf").read_text().splitlines()
    assert hba.count("host replication fathom_replicator all scram-sha-256") == 1
    with psycopg.connect(socket_url(primary.data_dir, primary.port)) as conn:
        role = conn.execute("SELECT rolreplication, rolsuper, rolcanlogin FROM pg_roles "
                            "WHERE rolname = 'fathom_replicator'").fetchone()
        slots = conn.execute("SELECT slot_type FROM pg_replication_slots "
                             "WHERE slot_name = 'reports_replica'").fetchall()
    assert role == (True, False, True)
    assert slots == [("physical",)]


def test_standby_clones_the_primary_streams_from_it_and_keeps_its_data_across_restarts(
        primary: LocalPostgres, tmp_path: Path) -> None:
    assert run_primary_script(primary).returncode == 0
    primary_url = socket_url(primary.data_dir, primary.port)
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE marks (id int PRIMARY KEY)")
        conn.execute("INSERT INTO marks VALUES (1)")

    refused = owned_by_postgres(tmp_path / "refused")
    wrong = start_standby(primary, refused, free_port(), password="not-the-password")
    assert wrong.wait(timeout=60) != 0, "a wrong replication password must not clone the primary"
    assert (refused / "clone-incomplete").exists(), "a failed clone is redone on the next start"

    root, port = owned_by_postgres(tmp_path / "replica"), free_port()
    url = socket_url(root, port)
    standby = start_standby(primary, root, port)
    try:
        wait_until(lambda: accepts(url, standby), 60, what="the standby")
        assert not (root / "clone-incomplete").exists()
        with psycopg.connect(primary_url, autocommit=True) as conn:
            conn.execute("INSERT INTO marks VALUES (2)")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            wait_until(lambda: conn.execute("SELECT count(*) FROM marks").fetchone() == (2,), 30,
                       what="the primary's later write on the standby")
            assert conn.execute("SELECT status, slot_name FROM pg_stat_wal_receiver").fetchone() == (
                "streaming", "reports_replica")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO marks VALUES (3)")
    finally:
        stop_group(standby, signal.SIGINT, timeout=30)

    restarted = start_standby(primary, root, port)  # a finished clone is started, never cloned again
    try:
        wait_until(lambda: accepts(url, restarted), 60, what="the restarted standby")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
    finally:
        stop_group(restarted, signal.SIGINT, timeout=30)
    assert (root / "standby.log").read_text().count("standby: cloning") == 1
