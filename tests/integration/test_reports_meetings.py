"""Meeting decisions read back on the real servers: a class's meeting (with the previous meeting's decisions,
across academic years), the school's and the trust's lists, ``?overdue=true``, CSV, roles, another trust,
erasure, auditors' reads recorded, and the change feed's notices."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports import create_app as create_reports
from fathom_reports.schemas.meetings import DecisionListSchema, MeetingSchema
from fathom_shared.assessment_calendar import academic_year_of, school_today
from tests.support import SmallTrust, bearer, events_of, poster, rows_of, token_for

YEAR = "2026-27"
LATER = academic_year_of(school_today() + timedelta(days=400))
"""A year whose points are all still to come: decisions reviewed then are never overdue while the tests run."""
PAST = {"review_academic_year": YEAR, "review_point_id": "autumn-1"}
"""Autumn 1 of 2026-27 ended on 31 October 2026: a decision due then and not reviewed is overdue."""
FUTURE = {"review_academic_year": LATER, "review_point_id": "summer-2"}


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


def who(settings, trust: str, role: str, **claims: Any) -> dict[str, str]:
    claims.setdefault("schools", ["sch-1"])
    claims.setdefault("classes", ["4A"])
    return bearer(token_for(settings, trust, [role], sub=f"{role}-1", **claims))


def decision(decision_id: str, text: str, pupil_ids: list[str], **changes: Any) -> dict[str, Any]:
    return {"id": decision_id, "kind": "teaching_change", "text": text, "owner": "ms-reid",
            "pupil_ids": pupil_ids, **FUTURE, **changes}


@pytest.fixture
def meetings(client, leader, app_engine, trust):
    """Decisions of 4A at 2025-26 summer-2, at autumn-1 (one reviewed, one overdue) and at autumn-2 of 2026-27,
    and one of the school's own meeting at autumn-2."""
    post = poster(client, leader)
    SmallTrust().create(post)
    post("/v1/classes/4A/staff", {"staff_sub": "ms-reid"})
    meeting = "/v1/classes/4A/meetings/{}/{}/decisions".format
    post(meeting("2025-26", "summer-2"), decision("last-year", "Given0 to keep the reading diary", ["p1"]))
    post(meeting(YEAR, "autumn-1"), decision("reviewed", "Given1 to sit nearer the board", ["p2"],
                                             review_point_id="autumn-2", review_academic_year=YEAR))
    post(meeting(YEAR, "autumn-1"), decision("overdue", "Given2 and Given0 to pre-teach vocabulary", ["p3", "p1"],
                                             kind="pupil_to_watch", **PAST))
    post(meeting(YEAR, "autumn-2"), decision("now", "Fractions taught with bar models", []))
    post(f"/v1/schools/sch-1/meetings/{YEAR}/autumn-2/decisions",
         decision("school", "Staff meeting on feedback", [], kind="professional_learning"))
    post("/v1/meeting-decisions/reviewed/review", {"outcome": "done", "note": "Given1 can see the board now"})
    apply_trust_batch(app_engine, trust, events_of(app_engine, trust))  # as the projector does: with notices


def ids(decisions: list[dict]) -> list[str]:
    return [d["decision_id"] for d in decisions]


def test_a_class_meeting_opens_with_the_previous_meetings_decisions(reports, settings, meetings, trust):
    answer = reports.get(f"/v1/classes/4A/meetings/{YEAR}/autumn-2", headers=who(settings, trust, "teacher"))
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["class_id"], body["school_id"], body["point"]["point_id"]) == ("4A", "sch-1", "autumn-2")
    assert ids(body["decisions"]) == ["now"]
    assert body["decisions"][0]["text"] == "Fractions taught with bar models"
    assert body["decisions"][0]["owner"] == "ms-reid" and body["decisions"][0]["status"] == "open"
    previous = body["previous_meeting"]
    assert previous["point"]["point_id"] == "autumn-1" and ids(previous["decisions"]) == ["reviewed", "overdue"]
    reviewed, overdue = previous["decisions"]
    assert reviewed["status"] == "reviewed" and reviewed["review"]["outcome"] == "done"
    assert reviewed["review"]["note"] == "Given1 can see the board now"
    assert overdue["status"] == "overdue" and overdue["review_point"]["ends_on"] == "2026-10-31"
    assert overdue["pupil_ids"] == ["p3", "p1"] and overdue["review"] is None
    assert ids(body["due_here"]) == ["reviewed"]
    assert MeetingSchema().validate(body) == {}, "the body is what the OpenAPI document says"


def test_the_previous_meeting_of_a_years_first_point_is_last_years_last(reports, settings, meetings, trust):
    body = reports.get(f"/v1/classes/4A/meetings/{YEAR}/autumn-1", headers=who(settings, trust, "teacher")).json
    assert body["previous_meeting"]["point"] == {"academic_year": "2025-26", "point_id": "summer-2",
                                                 "name": "Summer 2", "starts_on": "2026-06-01",
                                                 "ends_on": "2026-08-31"}
    assert ids(body["previous_meeting"]["decisions"]) == ["last-year"]
    assert ids(body["decisions"]) == ["reviewed", "overdue"] and ids(body["due_here"]) == ["overdue"]


@pytest.mark.parametrize(("role", "claims", "status"), [
    ("teacher", {}, 200), ("teacher", {"classes": ["4B"]}, 403), ("school_leader", {"classes": []}, 200),
    ("school_leader", {"schools": ["elsewhere"]}, 403), ("trust_leader", {}, 200), ("auditor", {}, 200),
    ("integration", {}, 200),
])
def test_who_reads_a_class_meeting(reports, settings, meetings, trust, role, claims, status):
    answer = reports.get(f"/v1/classes/4A/meetings/{YEAR}/autumn-2", headers=who(settings, trust, role, **claims))
    assert answer.status_code == status


@pytest.mark.parametrize(("path", "status", "field"), [
    (f"/v1/classes/ghost/meetings/{YEAR}/autumn-2", 404, None),
    (f"/v1/classes/4A/meetings/{YEAR}/autumn-9", 404, None),
    ("/v1/classes/4A/meetings/2026-28/autumn-2", 422, "academic_year"),
    ("/v1/meeting-decisions?overdue=maybe", 422, "query.overdue"),
    ("/v1/meeting-decisions?academic_year=2026", 422, "query.academic_year"),
])
def test_unknown_and_bad_paths(reports, leader, meetings, path, status, field):
    answer = reports.get(path, headers=leader)
    assert answer.status_code == status and answer.mimetype == "application/problem+json"
    if field:
        assert field in answer.json["errors"], answer.json


def test_leaders_list_every_decision_and_those_overdue(reports, settings, meetings, trust):
    school_leader = who(settings, trust, "school_leader", classes=[])
    every = reports.get("/v1/schools/sch-1/meeting-decisions", headers=school_leader).json
    assert ids(every["decisions"]) == ["last-year", "reviewed", "overdue", "now", "school"]
    assert every["decisions"][-1]["scope"] == "school" and every["decisions"][-1]["class_id"] is None
    overdue = reports.get("/v1/schools/sch-1/meeting-decisions?overdue=true", headers=school_leader).json
    assert ids(overdue["decisions"]) == ["overdue"] and overdue["overdue"] is True
    this_year = reports.get(f"/v1/schools/sch-1/meeting-decisions?academic_year={YEAR}", headers=school_leader)
    assert ids(this_year.json["decisions"]) == ["reviewed", "overdue", "now", "school"]
    trust_wide = reports.get("/v1/meeting-decisions?overdue=true", headers=who(settings, trust, "trust_leader"))
    assert ids(trust_wide.json["decisions"]) == ["overdue"]
    assert DecisionListSchema().validate(every) == {}


@pytest.mark.parametrize(("path", "role", "claims", "status"), [
    ("/v1/schools/sch-1/meeting-decisions", "teacher", {}, 403),
    ("/v1/schools/sch-1/meeting-decisions", "school_leader", {"schools": ["elsewhere"]}, 403),
    ("/v1/schools/sch-1/meeting-decisions", "auditor", {}, 200),
    ("/v1/schools/nowhere/meeting-decisions", "trust_leader", {}, 404),
    ("/v1/meeting-decisions", "school_leader", {}, 403),
    ("/v1/meeting-decisions", "teacher", {}, 403),
    ("/v1/meeting-decisions", "trust_leader", {}, 200),
    ("/v1/meeting-decisions", "auditor", {}, 200),
])
def test_who_reads_the_lists(reports, settings, meetings, trust, path, role, claims, status):
    assert reports.get(path, headers=who(settings, trust, role, **claims)).status_code == status


def test_the_lists_and_the_meeting_export_as_csv(reports, leader, meetings):
    answer = reports.get("/v1/schools/sch-1/meeting-decisions?overdue=true&format=csv", headers=leader)
    assert answer.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert (row["decision_id"], row["status"], row["pupil_ids"], row["review_ends_on"]) == (
        "overdue", "overdue", "p3 p1", "2026-10-31")
    assert row["text"] == "Given2 and Given0 to pre-teach vocabulary" and row["kind"] == "pupil_to_watch"
    meeting = reports.get(f"/v1/classes/4A/meetings/{YEAR}/autumn-2", headers={**leader, "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(meeting.get_data(as_text=True))))
    assert [(r["list"], r["decision_id"]) for r in rows] == [
        ("this", "now"), ("previous", "reviewed"), ("previous", "overdue"), ("due_here", "reviewed")]
    assert rows[1]["outcome"] == "done" and rows[1]["review_note"] == "Given1 can see the board now"


def test_another_trust_sees_none_of_it(reports, settings, meetings, make_trust):
    other = make_trust()
    leader = bearer(token_for(settings, other, ["trust_leader"], sub="head"))
    assert reports.get(f"/v1/classes/4A/meetings/{YEAR}/autumn-2", headers=leader).status_code == 404
    assert reports.get("/v1/schools/sch-1/meeting-decisions", headers=leader).status_code == 404
    assert reports.get("/v1/meeting-decisions", headers=leader).json["decisions"] == []


def test_an_erased_pupils_decisions_show_no_text(client, reports, leader, meetings):
    assert client.delete("/v1/pupils/p1/personal-data", headers=leader).status_code == 200
    body = reports.get("/v1/schools/sch-1/meeting-decisions", headers=leader).json
    texts = {d["decision_id"]: d["text"] for d in body["decisions"]}
    assert texts == {"last-year": None, "reviewed": "Given1 to sit nearer the board", "overdue": None,
                     "now": "Fractions taught with bar models", "school": "Staff meeting on feedback"}


def test_an_erased_owner_is_no_longer_named(client, reports, leader, meetings):
    assert client.delete("/v1/staff/ms-reid/personal-data", headers=leader).status_code == 200
    body = reports.get("/v1/meeting-decisions", headers=leader).json
    assert {d["owner"] for d in body["decisions"]} == {None}


def test_auditors_reads_of_decisions_are_recorded(reports, settings, meetings, trust, app_engine):
    auditor = who(settings, trust, "auditor")
    reports.get(f"/v1/classes/4A/meetings/{YEAR}/autumn-2", headers=auditor)
    reports.get("/v1/meeting-decisions?overdue=true", headers=auditor)
    reads = rows_of(app_engine, trust, "SELECT sub, path, query, status FROM audit_reads ORDER BY read_id")
    assert [(r.sub, r.path, r.query, r.status) for r in reads] == [
        ("auditor-1", f"/v1/classes/4A/meetings/{YEAR}/autumn-2", "", 200),
        ("auditor-1", "/v1/meeting-decisions", "overdue=true", 200)]


def test_the_change_feed_announces_each_decision_and_its_review(meetings, app_engine, trust):
    notices = rows_of(app_engine, trust, "SELECT keys, data FROM change_notices WHERE model = 'meeting_decisions' "
                                         "ORDER BY notice_id")
    assert sorted({n.keys["decision_id"] for n in notices}) == ["last-year", "now", "overdue", "reviewed", "school"]
    assert all("text" not in n.data and n.data["text_ref"] for n in notices)  # ids only: texts stay erasable
    assert [n.data["outcome"] for n in notices if n.keys["decision_id"] == "reviewed"][-1] == "done"


def test_the_read_endpoints_are_in_openapi(reports):
    paths = reports.get("/openapi.json").json["paths"]
    for path in ("/v1/classes/{class_id}/meetings/{academic_year}/{point_id}",
                 "/v1/schools/{school_id}/meeting-decisions", "/v1/meeting-decisions"):
        operation = paths[path]["get"]
        assert {"200", "401", "403", "404", "422", "503"} <= set(operation["responses"]), path
        assert "text/csv" in operation["responses"]["200"]["content"], path
    names = {p["name"] for p in paths["/v1/meeting-decisions"]["get"]["parameters"]}
    assert {"overdue", "academic_year", "format", "consistency"} <= names


def test_the_audit_log_shows_a_decisions_text_and_owner_until_erased(client, reports, settings, leader, meetings,
                                                                     trust):
    auditor = who(settings, trust, "auditor")

    def texts() -> dict[str, dict]:
        events = reports.get("/v1/audit/events?event_type=MeetingDecisionRecorded", headers=auditor).json["events"]
        return {e["data"]["decision_id"]: e["texts"] for e in events}

    assert texts()["overdue"] == {"text": "Given2 and Given0 to pre-teach vocabulary", "owner": "ms-reid"}
    client.delete("/v1/pupils/p3/personal-data", headers=leader)
    assert texts()["overdue"] == {"text": None, "owner": "ms-reid"}
    assert texts()["now"]["text"] == "Fractions taught with bar models"
