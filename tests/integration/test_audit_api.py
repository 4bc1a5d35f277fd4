"""Auditors' endpoints on a real PostgreSQL: the event log (pages, filters, JSONL/CSV export), judgement
history, chain verification (API and CLI, with a tampered event), and the record of auditors' reads."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from fathom_infra.cli import main as fathom
from fathom_reports import create_app as create_reports
from fathom_reports.audit.reads import RECORDER_EXTENSION, ReadRecorder
from fathom_shared.db import TenantUnitOfWork, make_engine
from tests.integration.audit_story import Story, tell
from tests.support import bearer, events_of, rows_of, token_for


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


@pytest.fixture
def story(client, settings, trust) -> Story:
    return tell(client, settings, trust)


@pytest.fixture
def auditor(settings, trust):
    return bearer(token_for(settings, trust, ["auditor"], sub="aud-1"))


def sequences(answer) -> list[int]:
    return [e["sequence"] for e in answer.get_json()["events"]]


def test_events_are_paged_by_sequence_and_show_everything_an_auditor_needs(reports, story, auditor, app_engine):
    first = reports.get("/v1/audit/events?limit=5", headers=auditor)
    assert first.status_code == 200
    assert sequences(first) == [1, 2, 3, 4, 5] and first.get_json()["next_after"] == 5
    rest = reports.get("/v1/audit/events?after=15&limit=10", headers=auditor)
    assert sequences(rest) == [16, 17, 18, 19, 20] and rest.get_json()["next_after"] is None

    stored = {e.sequence: e for e in events_of(app_engine, story.trust)}
    correction = rest.get_json()["events"][2]
    assert correction == {
        "sequence": 18, "event_id": str(stored[18].event_id), "type": "JudgementCorrected", "schema_version": 2,
        "data_version": 2, "stream": {"type": "pupil", "id": "p1", "version": 3},
        "data": {"judgement_id": story.first, "pupil_id": "p1", "objective_id": "m4-1", "value": 3,
                 "reason_ref": stored[18].data["reason_ref"]},
        "texts": {"reason": "Mis-keyed"}, "metadata": stored[18].metadata, "actor": "head", "roles": ["trust_leader"],
        "request_id": stored[18].metadata["request_id"], "recorded_at": stored[18].recorded_at.isoformat(),
        "hash": stored[18].hash.hex(), "prev_hash": stored[17].hash.hex(),
    }
    assert rest.get_json()["events"][0]["data"]["assessed_on"] == story.assessed_on.isoformat()


@pytest.mark.parametrize(("query", "expected"), [
    ("stream_type=pupil&stream_id=p1", [4, 16, 18, 19, 20]),
    ("pupil_id=p1", [4, 16, 18, 19, 20]),
    ("objective_id=m4-1", [13, 16, 17, 18, 20]),
    ("class_id=4B", [3, 10, 11]),
    ("stream_type=objective", [13, 14, 15]),
    ("event_type=JudgementCorrected&event_type=JudgementWithdrawn", [18, 20]),
    ("actor=t-rae", [16, 17, 19]),
    ("actor=t-rae&objective_id=m4-2", [19]),
])
def test_events_filter_by_stream_data_type_and_actor(reports, story, auditor, query, expected):
    answer = reports.get(f"/v1/audit/events?{query}", headers=auditor)
    assert answer.status_code == 200, answer.get_json()
    assert sequences(answer) == expected


def test_events_filter_by_recording_time(reports, story, auditor, app_engine):
    at = {e.sequence: e.recorded_at.isoformat() for e in events_of(app_engine, story.trust)}
    answer = reports.get("/v1/audit/events", query_string={"from": at[18], "to": at[19]}, headers=auditor)
    assert sequences(answer) == [18, 19]


def test_jsonl_and_csv_stream_the_whole_filtered_range(reports, story, auditor):
    page = reports.get("/v1/audit/events?pupil_id=p1", headers=auditor).get_json()["events"]
    lines = reports.get("/v1/audit/events?pupil_id=p1&format=jsonl&limit=1", headers=auditor)
    assert lines.is_streamed and lines.mimetype == "application/x-ndjson"
    assert [json.loads(line) for line in lines.get_data(as_text=True).splitlines()] == page

    exported = reports.get("/v1/audit/events?format=csv&after=15", headers=auditor)
    assert exported.is_streamed and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [int(r["sequence"]) for r in rows] == [16, 17, 18, 19, 20]
    assert rows[4]["type"] == "JudgementWithdrawn" and rows[4]["actor"] == "head"
    assert json.loads(rows[4]["texts"])["reason"] == "Wrong pupil"


def test_judgement_history_shows_who_when_and_why(reports, story, auditor, app_engine):
    answer = reports.get("/v1/audit/pupils/p1/objectives/m4-1/history", headers=auditor)
    assert answer.status_code == 200
    body = answer.get_json()
    stored = {e.sequence: e for e in events_of(app_engine, story.trust)}
    day = story.assessed_on.isoformat()
    assert [(e["sequence"], e["action"], e["value"], e["previous_value"], e["who"], e["reason"], e["assessed_on"])
            for e in body["entries"]] == [
        (16, "recorded", 2, None, "t-rae", None, day),
        (18, "corrected", 3, 2, "head", "Mis-keyed", day),
        (20, "withdrawn", 3, 3, "head", "Wrong pupil", day),
    ]
    assert [e["recorded_at"] for e in body["entries"]] == [stored[s].recorded_at.isoformat() for s in (16, 18, 20)]
    assert {e["judgement_id"] for e in body["entries"]} == {story.first}
    assert [(j["status"], j["value"], j["original_value"]) for j in body["judgements"]] == [("withdrawn", 3, 2)]
    other = reports.get("/v1/audit/pupils/p2/objectives/m4-1/history", headers=auditor).get_json()
    assert [(e["action"], e["value"]) for e in other["entries"]] == [("recorded", 3)]


@pytest.mark.parametrize("path", ["/v1/audit/pupils/p99/objectives/m4-1/history",
                                  "/v1/audit/pupils/p1/objectives/nope/history"])
def test_history_of_an_unknown_pupil_or_objective_is_404(reports, story, auditor, path):
    assert reports.get(path, headers=auditor).status_code == 404


def test_staff_assignments_are_in_the_audited_log_with_who_and_when(reports, story, auditor, client, settings):
    """Assigning a teacher to a class gives them write access; it used to leave no event, so an auditor could
    not see who gave whom a class. Now both the assignment and its removal are listed with who and when."""
    leader = bearer(token_for(settings, story.trust, ["school_leader"], sub="dep-head", schools=[story.small.school]))
    assert client.post("/v1/classes/4B/staff", json={"staff_sub": "mr-b"}, headers=leader).status_code == 201
    assert client.delete("/v1/classes/4B/staff/mr-b", headers=leader).status_code == 200
    answer = reports.get("/v1/audit/events?event_type=StaffAssigned&event_type=StaffUnassigned&class_id=4B",
                         headers=auditor)
    assert answer.status_code == 200, answer.get_json()
    events = answer.get_json()["events"]
    assert [(e["sequence"], e["type"], e["stream"]["type"], e["data"]["class_id"], e["texts"], e["actor"],
             e["roles"]) for e in events] == [
        (21, "StaffAssigned", "class_staff", "4B", {"staff_sub": "mr-b"}, "dep-head", ["school_leader"]),
        (22, "StaffUnassigned", "class_staff", "4B", {"staff_sub": "mr-b"}, "dep-head", ["school_leader"])]
    # The log names the person by their erasable staff ref, never by sub.
    assert all(e["recorded_at"] and "upcast_error" not in e and "staff_sub" not in e["data"] for e in events)


@pytest.mark.parametrize("path", ["/v1/audit/events", "/v1/audit/verify", "/v1/audit/reads",
                                  "/v1/audit/pupils/p1/objectives/m4-1/history"])
def test_only_auditors_and_platform_admins(reports, story, settings, path):
    assert reports.get(path).status_code == 401
    for role in ("trust_leader", "teacher", "school_leader", "integration"):
        assert reports.get(path, headers=bearer(token_for(settings, story.trust, [role]))).status_code == 403
    assert reports.get(path, headers=bearer(token_for(settings, story.trust, ["platform_admin"]))).status_code == 200


def test_another_trust_sees_nothing(reports, story, settings, make_trust):
    other = bearer(token_for(settings, make_trust("other"), ["auditor"]))
    assert reports.get("/v1/audit/events", headers=other).get_json() == {"events": [], "next_after": None}
    assert reports.get("/v1/audit/events?format=jsonl", headers=other).get_data() == b""
    assert reports.get("/v1/audit/pupils/p1/objectives/m4-1/history", headers=other).status_code == 404
    assert reports.get("/v1/audit/verify", headers=other).get_json()["events_checked"] == 0


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "query.limit"), ("limit=1001", "query.limit"), ("after=-1", "query.after"),
    ("stream_id=p1", "query.stream_id"), ("event_type=Bogus", "query.event_type.0"),
    ("format=xml", "query.format"), ("from=yesterday", "query.from"), ("bogus=1", "query.bogus"),
    ("from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", "query.to"),
])
def test_bad_parameters_name_the_field(reports, story, auditor, query, field):
    answer = reports.get(f"/v1/audit/events?{query}", headers=auditor)
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"], answer.get_json()


def tamper(owner_engine, trust: str, sql: str) -> None:
    """As the owner (the application role may not UPDATE or DELETE events): alter the stored log."""
    with TenantUnitOfWork(owner_engine, trust) as uow:
        uow.connection.execute(text(sql), {"trust": trust})
        uow.commit()


def test_verification_finds_exactly_the_altered_event(reports, story, auditor, owner_engine, app_engine, settings,
                                                      monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    intact = reports.get("/v1/audit/verify", headers=auditor).get_json()
    assert intact == {"trust_id": story.trust, "ok": True, "events_checked": 20, "head_sequence": 20,
                      "first_broken": None}
    assert fathom(["verify", "--trust", story.trust]) == 0
    assert "chain intact, 20 events checked" in capsys.readouterr().out

    tamper(owner_engine, story.trust, "UPDATE events SET data = jsonb_set(data, '{value}', '4') "
                                      "WHERE trust_id = :trust AND sequence = 17")
    altered = next(e for e in events_of(app_engine, story.trust) if e.sequence == 17)
    assert altered.data["value"] == 4
    broken = reports.get("/v1/audit/verify", headers=auditor).get_json()
    assert broken == {"trust_id": story.trust, "ok": False, "events_checked": 16, "head_sequence": 20,
                      "first_broken": {"sequence": 17, "event_id": str(altered.event_id),
                                       "reason": "content does not match its hash"}}
    assert fathom(["verify", "--trust", story.trust]) == 1
    assert (f"BROKEN at sequence 17 (event {altered.event_id}): content does not match its hash"
            in capsys.readouterr().err)


def test_verification_sees_events_cut_from_the_end(reports, story, auditor, owner_engine):
    tamper(owner_engine, story.trust, "DELETE FROM events WHERE trust_id = :trust AND sequence >= 19")
    broken = reports.get("/v1/audit/verify", headers=auditor).get_json()
    assert broken["events_checked"] == 18 and broken["first_broken"] == {
        "sequence": 19, "event_id": None, "reason": "the log ends at sequence 18 but the trust's head is at 20"}


def test_cli_verify_of_an_unknown_trust_fails(settings, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert fathom(["verify", "--trust", "no-such-trust"]) == 1
    assert "no trust no-such-trust" in capsys.readouterr().err


def reads_of(app_engine, trust: str) -> list[tuple]:
    return [tuple(r) for r in rows_of(app_engine, trust, "SELECT sub, roles, method, path, query, status, request_id "
                                                         "FROM audit_reads ORDER BY read_id")]


def test_every_auditor_read_is_recorded_and_listed(reports, story, auditor, settings, app_engine):
    leader = bearer(token_for(settings, story.trust, ["trust_leader"], sub="head"))
    both = bearer(token_for(settings, story.trust, ["auditor", "trust_leader"], sub="aud-2"))
    reports.get("/v1/audit/events?limit=1&actor=head", headers={**auditor, "X-Request-Id": "req-1"})
    reports.get("/v1/classes/4A/analysis", headers={**auditor, "X-Request-Id": "req-2"})  # read model empty: 404
    reports.get("/v1/trust/analysis?year_group=4", headers=leader)  # not an auditor: not recorded
    reports.get("/v1/audit/events")  # no token: nobody to record
    reports.get("/v1/audit/verify", headers={**both, "X-Request-Id": "req-3"})
    assert reads_of(app_engine, story.trust) == [
        ("aud-1", ["auditor"], "GET", "/v1/audit/events", "limit=1&actor=head", 200, "req-1"),
        ("aud-1", ["auditor"], "GET", "/v1/classes/4A/analysis", "", 404, "req-2"),
        ("aud-2", ["auditor", "trust_leader"], "GET", "/v1/audit/verify", "", 200, "req-3"),
    ]
    listed = reports.get("/v1/audit/reads?sub=aud-1&limit=1", headers=auditor).get_json()
    assert [(r["path"], r["status"]) for r in listed["reads"]] == [("/v1/audit/events", 200)]
    page_two = reports.get(f"/v1/audit/reads?sub=aud-1&after={listed['next_after']}", headers=auditor).get_json()
    assert [r["path"] for r in page_two["reads"]] == ["/v1/classes/4A/analysis", "/v1/audit/reads"]
    assert reports.get("/v1/audit/reads", headers=leader).status_code == 403


def test_audit_log_reads_by_any_role_and_every_platform_admin_read_are_recorded(reports, story, settings, app_engine):
    """A platform admin could read the audit log, every report and the change feed without a trace, and a
    refused look at the audit log by another role left none either. Now each is recorded; ordinary reports
    read by other roles still are not."""
    admin = bearer(token_for(settings, story.trust, ["platform_admin"], sub="ops-1"), **{"X-Request-Id": "r-1"})
    leader = bearer(token_for(settings, story.trust, ["trust_leader"], sub="head"), **{"X-Request-Id": "r-2"})
    teacher = bearer(token_for(settings, story.trust, ["teacher"], sub="t-rae", classes=["4A"]),
                     **{"X-Request-Id": "r-3"})
    assert reports.get("/v1/audit/events?limit=2", headers=admin).status_code == 200
    assert reports.get("/v1/trust/analysis?year_group=4", headers=admin).status_code == 200
    assert reports.get("/v1/changes?after=0", headers=admin).status_code == 200
    assert reports.get("/v1/audit/verify", headers=leader).status_code == 403
    assert reports.get("/v1/trust/analysis?year_group=4", headers=leader).status_code == 200  # not recorded
    assert reports.get("/v1/audit/pupils/p1/objectives/m4-1/history", headers=teacher).status_code == 403
    assert reads_of(app_engine, story.trust) == [
        ("ops-1", ["platform_admin"], "GET", "/v1/audit/events", "limit=2", 200, "r-1"),
        ("ops-1", ["platform_admin"], "GET", "/v1/trust/analysis", "year_group=4", 200, "r-1"),
        ("ops-1", ["platform_admin"], "GET", "/v1/changes", "after=0", 200, "r-1"),
        ("head", ["trust_leader"], "GET", "/v1/audit/verify", "", 403, "r-2"),
        ("t-rae", ["teacher"], "GET", "/v1/audit/pupils/p1/objectives/m4-1/history", "", 403, "r-3"),
    ]


def test_an_auditor_read_that_cannot_be_recorded_is_refused(settings, app_engine, story, auditor):
    app = create_reports(settings, engine=app_engine)
    unreachable = make_engine("postgresql://fathom_app:x@127.0.0.1:1/nowhere", pool_size=1)
    app.extensions[RECORDER_EXTENSION] = ReadRecorder(unreachable)
    client = app.test_client()
    for path in ("/v1/audit/events", "/v1/audit/events?format=jsonl", "/v1/audit/verify"):
        refused = client.get(path, headers=auditor)
        assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
        assert b"sequence" not in refused.get_data()
    admin = bearer(token_for(settings, story.trust, ["platform_admin"]))
    for path in ("/v1/trust/analysis?year_group=4", "/v1/changes"):
        assert client.get(path, headers=admin).status_code == 503
    leader = bearer(token_for(settings, story.trust, ["trust_leader"]))
    assert client.get("/v1/audit/verify", headers=leader).status_code == 503
    assert client.get("/v1/trust/analysis?year_group=4", headers=leader).status_code == 200
    unreachable.dispose()
