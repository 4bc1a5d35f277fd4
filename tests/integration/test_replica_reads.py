"""The reports service reading its read models from a real hot standby (``REPORTS_DATABASE_URL``).

Two real PostgreSQL servers of the module's own: a primary, and a standby made from it by ``pg_basebackup -R``
that streams its WAL. The command API writes to the primary and the projector's own code applies the events
there and notifies; the reports service reads the read models on the standby. Shown here: the reads really come
from the standby (with its replay paused it answers what the standby has, not the primary's newer rows; stopped,
the reads are 503 while the primary is up), read-your-write holds through the standby (``consistency=at_least:N``
waits until the *standby* has applied N, even when the primary's notification came long before), row-level
security applies on the standby, and the operations port reports the replay lag.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg
import pytest
from prometheus_client import generate_latest
from sqlalchemy import Engine, text

from fathom_api import create_app as create_api
from fathom_api.validation import school_today
from fathom_infra.local_servers import LocalPostgres, current_lsn, replayed_up_to, start_standby, wait_until
from fathom_infra.stack import LocalStack
from fathom_projector.trust_batch import catch_up_trust
from fathom_reports import create_app as create_reports
from fathom_reports.loading.freshness import listener_for
from fathom_reports.responses import STORE_EXTENSION
from fathom_shared.config import Settings, load_settings
from fathom_shared.db import TenantUnitOfWork, make_engine
from fathom_shared.migrate import migrate
from fathom_shared.trusts import create_trust
from tests.integration.test_queries_filter_by_trust import driver_statements
from tests.support import SmallTrust, bearer, poster, token_for

TRUST, OTHER = "replica-trust", "other-trust"
DATABASE = "fathom_replica"
WAIT = 20.0  # upper bound for any condition a test waits on; never a sleep


@dataclass
class Replicated:
    primary: LocalPostgres
    standby: LocalPostgres
    settings: Settings
    app_engine: Engine
    """The primary, as the application role (what the API and the projector write with)."""
    api: Any
    reports: Any
    trust: SmallTrust

    def token(self, trust: str = TRUST, *roles: str, classes: tuple[str, ...] = ()) -> dict[str, str]:
        return bearer(token_for(self.settings, trust, roles or ("trust_leader",), sub="head", classes=classes))

    def judge(self, pupil: str, value: int) -> int:
        """A judgement through the command API; the sequence it was given."""
        answer = self.api.post("/v1/judgements", headers=self.token(), json={"judgements": [{
            "pupil_id": pupil, "objective_id": "m4-1", "value": value, "assessed_on": school_today().isoformat()}]})
        assert answer.status_code == 201, answer.json
        return max(answer.json["sequences"])

    def project(self) -> int:
        """The projector's catch-up from the store: applies, sets the position and notifies, on the primary."""
        return catch_up_trust(self.app_engine, TRUST).last_applied

    def analysis(self, trust: str = TRUST, **query: str) -> Any:
        return self.reports.get(f"/v1/classes/{self.trust.class_a}/analysis", headers=self.token(trust),
                                query_string=query)

    def standby_caught_up(self) -> None:
        lsn = current_lsn(self.primary)
        wait_until(lambda: replayed_up_to(self.standby, lsn), WAIT, what="the standby to replay the primary")

    def replay(self, paused: bool) -> None:
        with psycopg.connect(self.standby.admin_url, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
            if paused:  # a pause requested is not a pause in effect until the startup process stops
                wait_until(lambda: conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused",
                           WAIT, what="replay to pause")


def m41_value(body: dict[str, Any], pupil: str) -> int | None:
    cell = next(row["cells"] for row in body["heat_map"] if row["pupil_id"] == pupil).get("m4-1")
    return None if cell is None else cell["value"]


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicated]:
    home = tmp_path_factory.mktemp("replica")
    primary = LocalPostgres(home / "primary", durable=False).start()
    standby = None
    listening = None
    engines: list[Engine] = []
    try:
        url = primary.create_database(DATABASE)
        migrate(url)
        standby = start_standby(primary, home / "standby")
        # No user in the replica's URL: the reports service reads there as the application role.
        settings = replace(load_settings({
            "DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
            "REPORTS_DATABASE_URL": f"postgresql://127.0.0.1:{standby.port}/{DATABASE}"}),
            signing_key_path=home / "signing-key.pem", webhook_key_path=home / "webhook-key",
            webhook_allow_loopback=True, consistency_timeout_s=WAIT)
        listening = settings.app_database_url
        owner = make_engine(settings.database_url, pool_size=1)
        app_engine = make_engine(settings.app_database_url, pool_size=4)
        engines += [owner, app_engine]
        create_trust(owner, TRUST, "Replica Academy Trust")
        create_trust(owner, OTHER, "Other Academy Trust")
        api = create_api(settings, engine=app_engine).test_client()
        system = Replicated(primary, standby, settings, app_engine, api,
                            create_reports(settings, app_engine).test_client(), SmallTrust())
        system.trust.create(poster(api, system.token()))
        system.project()
        system.standby_caught_up()
        assert listener_for(settings.app_database_url).wait_listening(WAIT)
        yield system
    finally:
        if listening is not None:  # a process-wide daemon thread: stopped before its database goes away
            listener_for(listening).stop()
        for engine in engines:
            engine.dispose()
        if standby is not None:
            standby.stop()
        primary.stop()


def test_the_reports_service_reads_as_the_application_role_on_the_standby(replicated):
    assert replicated.analysis().status_code == 200
    with psycopg.connect(replicated.standby.admin_url, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        readers = conn.execute("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = %s",
                               (DATABASE,)).fetchall()
    assert readers == [("fathom_app",)]


def test_reads_from_the_standby_send_no_ping_before_their_statements(replicated):
    """The reads' engine goes without the pool's ping (a round trip before every read): each read retries a
    connection the standby closed instead (``test_with_the_standby_stopped_…`` below starts it again)."""
    assert replicated.analysis().status_code == 200  # a pooled connection to the standby, to be checked out again
    with driver_statements(str(replicated.app_engine.url.username)) as statements:
        assert replicated.analysis().status_code == 200
    assert statements
    assert [query for query, _ in statements if query.strip() == ";"] == []


def test_with_replay_paused_reads_show_the_standby_not_the_newer_primary(replicated):
    replicated.standby_caught_up()
    before = replicated.analysis().json["sequence"]
    replicated.replay(paused=True)
    try:
        written = replicated.judge("p1", 4)
        assert replicated.project() >= written  # on the primary the read model has it
        answer = replicated.analysis()
        assert answer.status_code == 200
        assert answer.json["sequence"] == before < written  # what the standby has
    finally:
        replicated.replay(paused=False)
    replicated.standby_caught_up()
    assert replicated.analysis().json["sequence"] >= written


def test_read_your_write_waits_for_the_standby_even_after_the_primary_was_notified(replicated):
    """The primary applies and notifies while the standby's replay is paused: the read must keep waiting, and
    answer once the standby replays, with no further notification to wake it."""
    store = replicated.reports.application.extensions[STORE_EXTENSION]
    listener = listener_for(replicated.settings.app_database_url)
    seen: list[int] = []
    read_position = store.position
    store.position = lambda trust_id: seen.append(read_position(trust_id)) or seen[-1]
    try:
        replicated.replay(paused=True)
        written = replicated.judge("p2", 1)
        answers: list[Any] = []
        request = threading.Thread(target=lambda: answers.append(
            replicated.analysis(consistency=f"at_least:{written}")))
        request.start()
        wait_until(lambda: seen and seen[-1] < written, WAIT, what="the read to find the standby behind")
        assert replicated.project() >= written
        wait_until(lambda: listener.notified(TRUST) >= written, WAIT, what="the primary's notification")
        polls = len(seen)
        wait_until(lambda: len(seen) > polls, WAIT, what="a read of the standby after the notification")
        assert seen[-1] < written and not answers  # notified on the primary, still waiting for the standby
        replicated.replay(paused=False)
        request.join(WAIT)
        assert not request.is_alive()
    finally:
        store.position = read_position
        replicated.replay(paused=False)
    (answer,) = answers
    assert answer.status_code == 200, answer.json
    assert answer.json["sequence"] >= written
    assert m41_value(answer.json, "p2") == 1


def test_a_wait_the_standby_cannot_meet_in_time_is_503(replicated):
    reports = create_reports(replace(replicated.settings, consistency_timeout_s=0.5),
                             replicated.app_engine).test_client()
    replicated.replay(paused=True)
    try:
        written = replicated.judge("p3", 4)
        replicated.project()
        answer = reports.get(f"/v1/classes/{replicated.trust.class_a}/analysis", headers=replicated.token(),
                             query_string={"consistency": f"at_least:{written}"})
    finally:
        replicated.replay(paused=False)
    assert answer.status_code == 503, answer.json
    assert answer.mimetype == "application/problem+json"
    assert "behind" in answer.json["detail"]


def test_row_level_security_holds_on_the_standby(replicated):
    replicated.standby_caught_up()
    assert replicated.analysis(trust=OTHER).status_code == 404  # the trust's class is not the other's
    assert replicated.analysis().status_code == 200
    standby = make_engine(replicated.settings.reports_database_url, pool_size=1)
    try:
        counts = {}
        for trust in (TRUST, OTHER):
            with TenantUnitOfWork(standby, trust) as uow:
                counts[trust] = uow.connection.execute(text(
                    "SELECT count(*) FROM rm_classes WHERE trust_id = :trust"), {"trust": TRUST}).scalar_one()
        with standby.connect() as connection:  # no trust set at all
            counts["none"] = connection.execute(text("SELECT count(*) FROM rm_classes")).scalar_one()
    finally:
        standby.dispose()
    assert counts == {TRUST: 2, OTHER: 0, "none": 0}


def test_an_auditors_read_from_the_standby_is_recorded_on_the_primary(replicated):
    """The read comes from the standby; the record of it (a write) goes to the primary, as before."""
    auditor = bearer(token_for(replicated.settings, TRUST, ["auditor"], sub="replica-auditor"))
    answer = replicated.reports.get(f"/v1/classes/{replicated.trust.class_a}/analysis", headers=auditor)
    assert answer.status_code == 200, answer.json
    with TenantUnitOfWork(replicated.app_engine, TRUST) as uow:
        recorded = uow.connection.execute(text(
            "SELECT path, status FROM audit_reads WHERE sub = 'replica-auditor'")).all()
    assert [tuple(row) for row in recorded] == [(f"/v1/classes/{replicated.trust.class_a}/analysis", 200)]


def scraped(replicated: Replicated) -> dict[str, float]:
    exposition = generate_latest(replicated.reports.application.extensions["fathom.metrics"]).decode()
    return {line.split()[0]: float(line.split()[1]) for line in exposition.splitlines()
            if line.startswith("fathom_replica_")}


def test_the_operations_port_reports_the_replay_lag(replicated):
    replicated.replay(paused=True)
    try:
        replicated.judge("p4", 2)
        replicated.project()
        behind = scraped(replicated)
    finally:
        replicated.replay(paused=False)
    assert behind["fathom_replica_up"] == 1
    assert behind["fathom_replica_replay_lag_bytes"] > 0
    assert behind["fathom_replica_replay_lag_seconds"] > 0


def test_with_the_standby_stopped_reads_and_readiness_are_503_while_writes_go_on(replicated):
    replicated.standby.stop()
    try:
        answer = replicated.analysis()
        assert answer.status_code == 503, answer.json
        assert answer.mimetype == "application/problem+json"
        assert replicated.reports.get("/readyz").status_code == 503
        assert scraped(replicated) == {"fathom_replica_up": 0}
        written = replicated.judge("p5", 3)  # the primary is up: the command API still writes
        assert replicated.project() >= written
        # What the reports service writes goes to the primary: a webhook subscription is still registered.
        created = replicated.reports.post("/v1/webhooks", headers=replicated.token(),
                                          json={"url": "http://127.0.0.1:9/hook"})
        assert created.status_code == 201, created.json
    finally:
        replicated.standby.start()
    wait_until(lambda: replicated.reports.get("/readyz").status_code == 200, WAIT, what="ready again")
    answer = replicated.analysis(consistency=f"at_least:{written}")
    assert answer.status_code == 200, answer.json
    assert m41_value(answer.json, "p5") == 3


def test_an_unset_reports_database_url_reads_from_the_primary(replicated):
    settings = replace(replicated.settings, reports_database_url=None)
    store = create_reports(settings, replicated.app_engine).extensions[STORE_EXTENSION]
    replicated.replay(paused=True)
    try:
        written = replicated.judge("p6", 2)
        replicated.project()
        assert store.position(TRUST) >= written  # the primary's read model, not the paused standby's
    finally:
        replicated.replay(paused=False)


def test_fathom_up_replica_starts_a_standby_it_supervises_and_points_the_reports_at_it(replicated, tmp_path):
    """What ``fathom up --replica`` does after migrating its local PostgreSQL (here the module's primary)."""
    stack = LocalStack(tmp_path, replica=True)
    stack.postgres = replicated.primary
    env = {"DATABASE_URL": replicated.settings.database_url}
    try:
        stack._start_standby(env)
        assert stack.standby.process.poll() is None
        settings = load_settings(env)
        assert settings.reports_database_url.startswith("postgresql://fathom_app:")  # the application role
        reader = make_engine(settings.reports_database_url, pool_size=1)
        try:
            with TenantUnitOfWork(reader, TRUST) as uow:
                in_recovery = uow.connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
                classes = uow.connection.execute(text("SELECT count(*) FROM rm_classes")).scalar_one()
        finally:
            reader.dispose()
        assert (in_recovery, classes) == (True, 2)
    finally:
        stack.supervisor.stop_all()
    assert stack.standby.process is None  # stopped with everything else `fathom up` started


def test_fathom_up_replica_needs_the_local_postgresql(tmp_path):
    with pytest.raises(SystemExit, match="REPORTS_DATABASE_URL"):
        LocalStack(tmp_path, replica=True)._start_standby({"DATABASE_URL": "postgresql://elsewhere/fathom"})
