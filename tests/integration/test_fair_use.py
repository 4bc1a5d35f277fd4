"""Fair use on a real PostgreSQL: expensive reads are bounded per caller and per trust across workers,
and chain verification runs as a resumable background job.

Two reports apps on one database stand for two gunicorn workers: a lease taken through one counts in
the other, which an in-process limiter could not do.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event, text

from fathom_reports import create_app as create_reports
from fathom_reports import fair_use
from fathom_reports.audit.verifications import VerificationRunner
from fathom_reports.fair_use import FAIR_USE_EXTENSION
from fathom_shared.auth import Principal
from fathom_shared.config import FairUseLimit
from fathom_shared.db import TenantUnitOfWork
from tests.integration.audit_story import Story, tell
from tests.integration.test_queries_filter_by_trust import driver_statements
from tests.support import bearer, token_for


@pytest.fixture(scope="module")
def workers(settings, app_engine):
    """Two apps: two workers of one reports service."""
    return [create_reports(settings, engine=app_engine) for _ in range(2)]


@pytest.fixture
def story(client, settings, trust) -> Story:
    return tell(client, settings, trust)


def principal(trust: str, sub: str, role: str = "auditor") -> Principal:
    return Principal(sub=sub, trust_id=trust, roles=frozenset({role}))


def auditor_of(settings, trust: str, sub: str = "aud-1") -> dict[str, str]:
    return bearer(token_for(settings, trust, ["auditor"], sub=sub))


def assert_too_many(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1


def test_as_of_is_limited_per_caller_across_workers(workers, story, settings):
    """The caller's two time-travel slots are taken through worker 0; worker 1 refuses a third at once."""
    first, second = workers
    limits = first.extensions[FAIR_USE_EXTENSION]
    held = [limits.acquire(principal(story.trust, "aud-1"), "as_of") for _ in range(2)]
    me = auditor_of(settings, story.trust)
    refused = second.test_client().get("/v1/classes/4A/analysis?as_of=18", headers=me)
    assert_too_many(refused)
    assert "2 time-travel" in refused.get_json()["detail"]
    # Another auditor of the trust still has slots; the caller's cheap reads are not limited.
    other = auditor_of(settings, story.trust, "aud-2")
    assert second.test_client().get("/v1/classes/4A/analysis?as_of=18", headers=other).status_code == 200
    assert second.test_client().get("/v1/audit/events", headers=me).status_code == 200
    limits.release(held[0])
    assert second.test_client().get("/v1/classes/4A/analysis?as_of=18", headers=me).status_code == 200
    limits.release(held[1])


def test_the_trust_wide_limit_binds_every_caller(workers, story, settings):
    first, second = workers
    limits = first.extensions[FAIR_USE_EXTENSION]
    held = [limits.acquire(principal(story.trust, f"aud-{n}"), "as_of") for n in range(4)]
    assert_too_many(second.test_client().get("/v1/classes/4A/analysis?as_of=18",
                                             headers=auditor_of(settings, story.trust, "aud-9")))
    for lease in held:
        limits.release(lease)


def test_a_lease_of_a_dead_worker_frees_itself(workers, story, settings):
    """A worker killed mid-request never releases its lease: its expiry does."""
    limits = workers[0].extensions[FAIR_USE_EXTENSION]
    for _ in range(2):
        limits.acquire(principal(story.trust, "aud-1"), "as_of", hold_s=0)  # expired at once, never released
    answer = workers[1].test_client().get("/v1/classes/4A/analysis?as_of=18",
                                          headers=auditor_of(settings, story.trust))
    assert answer.status_code == 200


def test_the_rate_limit_counts_requests_started_in_the_last_minute(settings, app_engine, story):
    limited = {**settings.fair_use, "as_of": FairUseLimit(2, 4, per_minute=3)}
    reports = create_reports(replace(settings, fair_use=limited), engine=app_engine).test_client()
    me = auditor_of(settings, story.trust)
    for _ in range(3):
        assert reports.get("/v1/classes/4A/analysis?as_of=18", headers=me).status_code == 200
    refused = reports.get("/v1/classes/4A/analysis?as_of=18", headers=me)
    assert_too_many(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_concurrent_verifications_and_exports_are_limited(workers, story, settings):
    limits = workers[0].extensions[FAIR_USE_EXTENSION]
    held = limits.acquire(principal(story.trust, "aud-1"), "verify")
    assert_too_many(workers[1].test_client().get("/v1/audit/verify", headers=auditor_of(settings, story.trust)))
    limits.release(held)
    held = [limits.acquire(principal(story.trust, "aud-1"), "export") for _ in range(2)]
    reports = workers[1].test_client()
    me = auditor_of(settings, story.trust)
    assert_too_many(reports.get("/v1/audit/events?format=csv", headers=me))
    assert reports.get("/v1/audit/events", headers=me).status_code == 200  # a page is not an export
    for lease in held:
        limits.release(lease)


def test_a_streamed_export_holds_its_lease_until_it_is_sent(workers, story, settings):
    limits = workers[0].extensions[FAIR_USE_EXTENSION]
    held = limits.acquire(principal(story.trust, "aud-1"), "export")
    reports = workers[1].test_client()
    me = auditor_of(settings, story.trust)
    export = reports.get("/v1/audit/events?format=jsonl", headers=me, buffered=False)
    assert export.status_code == 200
    assert_too_many(reports.get("/v1/audit/events?format=jsonl", headers=me))  # the open export still counts
    assert len(export.get_data(as_text=True).splitlines()) == 20
    export.close()
    limits.release(held)
    for _ in range(2):  # both slots free again: the finished export released its own
        assert reports.get("/v1/audit/events?format=jsonl", headers=me).status_code == 200


def test_change_feed_streams_are_limited_per_integration(workers, story, settings):
    integration = bearer(token_for(settings, story.trust, ["integration"], sub="bi-tool"))
    reports = workers[0].test_client()
    streams = [reports.get("/v1/changes/stream", headers=integration, buffered=False) for _ in range(2)]
    assert [s.status_code for s in streams] == [200, 200]
    assert_too_many(workers[1].test_client().get("/v1/changes/stream", headers=integration, buffered=False))
    streams[0].close()
    again = workers[1].test_client().get("/v1/changes/stream", headers=integration, buffered=False)
    assert again.status_code == 200
    again.close()
    streams[1].close()


def test_with_a_stream_server_the_reports_service_redirects_streams_there(settings, app_engine, story):
    reports = create_reports(replace(settings, stream_url="http://streams.example:8003"),
                             engine=app_engine).test_client()
    integration = bearer(token_for(settings, story.trust, ["integration"], sub="bi-tool"))
    answer = reports.get("/v1/changes/stream?after=3", headers=integration)
    assert answer.status_code == 307
    assert answer.headers["Location"] == "http://streams.example:8003/v1/changes/stream?after=3"


# --- chain verification as a job -------------------------------------------------------

def verifications(reports, headers):
    started = reports.post("/v1/audit/verifications", headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    return started


def test_a_verification_job_reports_progress_and_its_result(workers, story, settings, app_engine):
    reports = workers[0].test_client()
    me = auditor_of(settings, story.trust)
    started = verifications(reports, me)
    job = started.get_json()
    assert started.headers["Location"].endswith(f"/v1/audit/verifications/{job['job_id']}")
    assert (job["status"], job["events_checked"], job["events_total"], job["result"]) == ("queued", 0, 20, None)
    # Asking again while it is queued joins the same job.
    assert verifications(workers[1].test_client(), me).get_json()["job_id"] == job["job_id"]

    runner = VerificationRunner(app_engine, "test-worker", chunk=8)
    assert runner.claim(story.trust) == job["job_id"]
    assert runner.step(story.trust, job["job_id"]) is True
    halfway = reports.get(job["location"], headers=me).get_json()
    assert (halfway["status"], halfway["events_checked"], halfway["progress"]) == ("running", 8, 0.4)
    while runner.step(story.trust, job["job_id"]):
        pass
    done = reports.get(job["location"], headers=me).get_json()
    assert (done["status"], done["events_checked"]) == ("done", 20)
    assert done["result"] == {"trust_id": story.trust, "ok": True, "events_checked": 20, "head_sequence": 20,
                              "first_broken": None}
    assert reports.get(job["location"], headers=auditor_of(settings, story.trust, "aud-2")).status_code == 200


def test_a_job_whose_worker_died_resumes_from_its_checkpoint(workers, story, settings, app_engine, owner_engine):
    reports = workers[0].test_client()
    me = auditor_of(settings, story.trust)
    job = verifications(reports, me).get_json()
    dead = VerificationRunner(app_engine, "dead-worker", chunk=10, claim_s=60)
    assert dead.claim(story.trust) == job["job_id"]
    assert dead.step(story.trust, job["job_id"]) is True  # 10 checked, then the process is killed
    successor = VerificationRunner(app_engine, "successor", chunk=10)
    assert successor.claim(story.trust) is None  # the dead worker's claim still holds
    with TenantUnitOfWork(app_engine, story.trust) as uow:  # ... until it lapses
        uow.connection.execute(text("UPDATE audit_verifications SET claimed_until = now() - interval '1 second' "
                                    "WHERE job_id = :job"), {"job": job["job_id"]})
        uow.commit()
    # Tamper with an event the dead worker never reached: the successor must find it, from the checkpoint.
    with owner_engine.begin() as connection:
        connection.execute(text("UPDATE events SET data = jsonb_set(data, '{value}', '4') "
                                "WHERE trust_id = :trust AND sequence = 17"), {"trust": story.trust})
    assert successor.work(story.trust) is True
    assert dead.step(story.trust, job["job_id"]) is False  # no longer its job
    done = reports.get(job["location"], headers=me).get_json()
    assert done["status"] == "done"
    assert done["result"]["ok"] is False
    assert done["result"]["first_broken"]["sequence"] == 17
    assert done["result"]["events_checked"] == done["events_checked"] == 16


def test_get_verify_of_a_large_trust_starts_a_job(settings, app_engine, story):
    reports = create_reports(replace(settings, verify_inline_max_events=10), engine=app_engine).test_client()
    answer = reports.get("/v1/audit/verify", headers=auditor_of(settings, story.trust))
    assert answer.status_code == 202
    assert answer.get_json()["events_total"] == 20 and "/v1/audit/verifications/" in answer.headers["Location"]


@pytest.mark.parametrize("job_id", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_an_unknown_job_is_404(workers, story, settings, job_id):
    answer = workers[0].test_client().get(f"/v1/audit/verifications/{job_id}",
                                          headers=auditor_of(settings, story.trust))
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"


def test_another_trusts_job_is_invisible(workers, story, settings, make_trust):
    job = verifications(workers[0].test_client(), auditor_of(settings, story.trust)).get_json()
    stranger = auditor_of(settings, make_trust("other"))
    assert workers[0].test_client().get(job["location"], headers=stranger).status_code == 404


def test_verification_jobs_are_for_auditors_only(workers, story, settings):
    teacher = bearer(token_for(settings, story.trust, ["teacher"], sub="t", classes=["4A"]))
    assert workers[0].test_client().post("/v1/audit/verifications", headers=teacher).status_code == 403


def test_lease_bookkeeping_commits_without_waiting_for_the_wal_flush(workers, story, app_engine):
    """A freshness wait takes and gives back a lease: neither commit waits for the disk in front of the read."""
    settings_at_commit: list[str] = []

    def before_commit(connection) -> None:
        settings_at_commit.append(connection.exec_driver_sql("SHOW synchronous_commit").scalar())

    limits = workers[0].extensions[FAIR_USE_EXTENSION]
    event.listen(app_engine, "commit", before_commit)
    try:
        with limits.hold(principal(story.trust, "aud-1"), "wait", hold_s=30):
            pass
    finally:
        event.remove(app_engine, "commit", before_commit)
    assert settings_at_commit == ["off", "off"]
    with app_engine.connect() as connection:  # SET LOCAL: the pooled connection is back to the default
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_a_lease_is_taken_and_given_back_in_four_statements(workers, story, app_engine):
    """Every freshness wait takes a lease and gives it back in front of its read, so each statement is a round trip
    it waits for. Before: nine (the commit setting twice, a lock per bucket, the expired leases' delete, the count,
    an insert per bucket, the release), besides the scoping of each transaction."""
    limits = workers[0].extensions[FAIR_USE_EXTENSION]
    with driver_statements(str(app_engine.url.username)) as statements, \
            limits.hold(principal(story.trust, "aud-1"), "wait", hold_s=30):
        pass
    own = [query for query, _ in statements  # not the scoping of each transaction, nor the pool's ping (";")
           if "fathom.trust" not in query and query.strip() != ";"]
    assert len(own) == 4, own


def _ended_waits(owner_engine, trust: str, waits: int = 1200, callers: int = 30) -> None:
    """What twenty freshness waits a second leave behind in a minute: ``waits`` leases of ``callers`` people, each
    in the caller's bucket and the trust's, ended 0.3 s after it started."""
    with owner_engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO fair_use_leases (lease_id, trust_id, bucket, started_at, held_until) "
            "SELECT lease.id, :trust, bucket, now() - make_interval(secs => n * 0.05), "
            "now() - make_interval(secs => n * 0.05 - 0.3) "
            "FROM generate_series(1, :waits) AS n, LATERAL (SELECT gen_random_uuid() AS id, n AS made_for) AS lease, "
            "LATERAL (VALUES ('wait:trust'), ('wait:subject:caller-' || n % :callers)) AS buckets (bucket)"),
            {"trust": trust, "waits": waits, "callers": callers})
        connection.execute(text("ANALYZE fair_use_leases"))


def _leases_read(plan: dict) -> int:
    """Rows of ``fair_use_leases`` a statement's plan (``EXPLAIN (ANALYZE, FORMAT JSON)``) read, kept or not."""
    read = 0
    if plan.get("Relation Name") == "fair_use_leases" and plan["Node Type"] != "ModifyTable":
        removed = plan.get("Rows Removed by Filter", 0) + plan.get("Rows Removed by Index Recheck", 0)
        read += round((plan["Actual Rows"] + removed) * plan["Actual Loops"])
    return read + sum(_leases_read(child) for child in plan.get("Plans", ()))


def test_taking_a_lease_reads_the_callers_leases_and_the_trusts_live_ones_only(trust, app_engine, owner_engine):
    """At twenty waits a second a trust's leases of the last minute are thousands: taking one more must not read
    them all (it read every one of them twice, for the expired leases' delete and for the count)."""
    _ended_waits(owner_engine, trust)
    buckets = {"trust": trust, "mine": "wait:subject:caller-5", "trust_wide": "wait:trust"}
    with TenantUnitOfWork(app_engine, trust) as uow:
        [plan] = uow.connection.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {fair_use._COUNT_BUCKETS.text}"),
                                        buckets).scalar()
    assert _leases_read(plan["Plan"]) <= 100  # the caller's 40 and the few live ones; 3,600 before


def test_a_lease_ended_over_a_minute_ago_goes_with_anyones_next_lease(workers, trust, app_engine, owner_engine):
    """Buckets name people (``sub``): a lease that no longer counts leaves the table when anyone in the trust next
    takes a lease, not only when its own caller comes back."""
    _ended_waits(owner_engine, trust, waits=30, callers=30)
    with owner_engine.begin() as connection:
        connection.execute(text("UPDATE fair_use_leases SET started_at = started_at - interval '2 minutes', "
                                "held_until = held_until - interval '2 minutes' WHERE trust_id = :trust"),
                           {"trust": trust})
    limits = workers[0].extensions[FAIR_USE_EXTENSION]
    with limits.hold(principal(trust, "someone-else"), "wait", hold_s=30):
        pass
    with owner_engine.connect() as connection:
        left = connection.execute(text("SELECT DISTINCT bucket FROM fair_use_leases WHERE trust_id = :trust"),
                                  {"trust": trust}).scalars().all()
    assert sorted(left) == ["wait:subject:someone-else", "wait:trust"]
