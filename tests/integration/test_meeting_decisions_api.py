"""Meeting decisions against the real database: recorded and reviewed through the command API, projected into
``rm_meeting_decisions`` (the same after a rebuild), their text erasable and never in the log."""

from __future__ import annotations

from typing import Any

import pytest

from fathom_projector.rebuild import rebuild_trust
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.writer import apply_from_store
from tests.support import SmallTrust, bearer, events_of, personal_text, poster, rows_of, token_for

YEAR = "2026-27"
CLASS_DECISIONS = f"/v1/classes/4A/meetings/{YEAR}/autumn-2/decisions"
SCHOOL_DECISIONS = f"/v1/schools/sch-1/meetings/{YEAR}/autumn-2/decisions"
TEXT = "Pre-teach fractions vocabulary to Given0 before each lesson"


@pytest.fixture
def small(client, leader):
    post = poster(client, leader)
    trust = SmallTrust().create(post)
    post("/v1/classes/4A/staff", {"staff_sub": "ms-reid"})  # the owner: a member of the trust's staff
    return trust


def headers(settings, trust: str, role: str, **claims: Any) -> dict[str, str]:
    claims.setdefault("schools", ["sch-1"])
    claims.setdefault("classes", ["4A"])
    return bearer(token_for(settings, trust, [role], sub=f"{role}-1", **claims))


def decision(**changes: Any) -> dict[str, Any]:
    return {"kind": "teaching_change", "text": TEXT, "owner": "ms-reid", "review_point_id": "spring-1",
            "pupil_ids": ["p1"], **changes}


def project(engine, trust: str) -> None:
    with TenantUnitOfWork(engine, trust) as uow:
        assert apply_from_store(uow.connection, trust, after=0).dead_letters == []
        uow.commit()


def decisions_table(engine, trust: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows_of(engine, trust, "SELECT * FROM rm_meeting_decisions ORDER BY decision_id")]


def test_a_teacher_records_a_decision_for_their_class_and_it_is_reviewed_once(client, settings, small, trust,
                                                                              app_engine):
    teacher = headers(settings, trust, "teacher")
    answer = client.post(CLASS_DECISIONS, json=decision(id="d-1"), headers=teacher)
    assert answer.status_code == 201, answer.json
    [event] = events_of(app_engine, trust, "MeetingDecisionRecorded")
    assert (event.stream_type, event.stream_id) == ("meeting", f"class:4A:{YEAR}:autumn-2")
    assert TEXT not in str(event.data) and "ms-reid" not in str(event.data)
    assert personal_text(app_engine, trust, event.data["text_ref"]) == TEXT
    assert event.data["pupil_ids"] == ["p1"] and event.data["school_id"] == "sch-1"

    reviewed = client.post("/v1/meeting-decisions/d-1/review", json={"outcome": "done", "note": "Given0 secure now"},
                           headers=teacher)
    assert reviewed.status_code == 201, reviewed.json
    again = client.post("/v1/meeting-decisions/d-1/review", json={"outcome": "dropped"}, headers=teacher)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"

    project(app_engine, trust)
    [row] = decisions_table(app_engine, trust)
    assert (row["scope"], row["scope_id"], row["class_id"], row["kind"], row["outcome"]) == (
        "class", "4A", "4A", "teaching_change", "done")
    assert str(row["text_ref"]) == event.data["text_ref"] and row["review_point_id"] == "spring-1"
    assert row["reviewed_sequence"] > row["sequence"]


def test_the_read_model_is_the_same_after_a_rebuild(client, leader, settings, small, trust, app_engine):
    client.post(CLASS_DECISIONS, json=decision(id="d-1"), headers=leader)
    client.post(SCHOOL_DECISIONS, json=decision(id="d-2", kind="professional_learning", pupil_ids=[]),
                headers=leader)
    client.post("/v1/meeting-decisions/d-2/review", json={"outcome": "continue"}, headers=leader)
    project(app_engine, trust)
    before = decisions_table(app_engine, trust)
    assert [r["decision_id"] for r in before] == ["d-1", "d-2"] and before[1]["class_id"] is None
    rebuild_trust(app_engine, trust)
    assert decisions_table(app_engine, trust) == before


def test_an_intervention_started_links_one_started_by_the_intervention_command(client, leader, settings, small,
                                                                               trust, app_engine):
    teacher = headers(settings, trust, "teacher")
    body = decision(kind="intervention_started", intervention_id="boost")
    unknown = client.post(CLASS_DECISIONS, json=body, headers=teacher)
    assert unknown.status_code == 422 and "intervention_id" in unknown.json["errors"]
    poster(client, teacher)("/v1/interventions", {
        "id": "boost", "name": "Fractions boost", "lead": "ms-reid", "pupil_ids": ["p1", "p2"],
        "objective_ids": ["m4-1"], "start_date": "2026-11-02"})
    assert client.post(CLASS_DECISIONS, json=body, headers=teacher).status_code == 201
    other = client.post(CLASS_DECISIONS, json=decision(intervention_id="boost"), headers=teacher)
    assert other.status_code == 422 and "intervention_id" in other.json["errors"]


@pytest.mark.parametrize(("role", "claims", "path", "status"), [
    ("teacher", {}, CLASS_DECISIONS, 201),
    ("teacher", {"classes": ["4B"]}, CLASS_DECISIONS, 403),
    ("school_leader", {"classes": []}, CLASS_DECISIONS, 201),
    ("school_leader", {"schools": ["elsewhere"]}, CLASS_DECISIONS, 403),
    ("trust_leader", {"schools": [], "classes": []}, CLASS_DECISIONS, 201),
    ("auditor", {}, CLASS_DECISIONS, 403),
    ("integration", {}, CLASS_DECISIONS, 403),
    ("teacher", {}, SCHOOL_DECISIONS, 403),
    ("school_leader", {}, SCHOOL_DECISIONS, 201),
    ("school_leader", {"schools": ["elsewhere"]}, SCHOOL_DECISIONS, 403),
    ("trust_leader", {"schools": []}, SCHOOL_DECISIONS, 201),
])
def test_who_records_a_meetings_decisions(client, settings, small, trust, app_engine, role, claims, path, status):
    answer = client.post(path, json=decision(), headers=headers(settings, trust, role, **claims))
    assert answer.status_code == status, answer.json
    assert len(events_of(app_engine, trust, "MeetingDecisionRecorded")) == (status == 201)


def test_a_review_is_for_those_who_hold_the_meeting(client, leader, settings, small, trust):
    client.post(CLASS_DECISIONS, json=decision(id="d-1"), headers=leader)
    for role, claims in (("teacher", {"classes": ["4B"]}), ("auditor", {})):
        answer = client.post("/v1/meeting-decisions/d-1/review", json={"outcome": "done"},
                             headers=headers(settings, trust, role, **claims))
        assert answer.status_code == 403
    missing = client.post("/v1/meeting-decisions/nope/review", json={"outcome": "done"}, headers=leader)
    assert missing.status_code == 404
    bad = client.post("/v1/meeting-decisions/d-1/review", json={"outcome": "finished"}, headers=leader)
    assert bad.status_code == 422 and "outcome" in bad.json["errors"]


def test_another_trusts_class_school_and_decisions_are_not_found(client, leader, settings, small, trust,
                                                                 make_trust):
    client.post(CLASS_DECISIONS, json=decision(id="d-1"), headers=leader)
    other = make_trust()
    their_leader = bearer(token_for(settings, other, ["trust_leader"], sub="head"))
    assert client.post(CLASS_DECISIONS, json=decision(), headers=their_leader).status_code == 404
    assert client.post(SCHOOL_DECISIONS, json=decision(), headers=their_leader).status_code == 404
    assert client.post("/v1/meeting-decisions/d-1/review", json={"outcome": "done"},
                       headers=their_leader).status_code == 404


@pytest.mark.parametrize(("path", "changes", "field"), [
    (CLASS_DECISIONS, {"review_point_id": "autumn-1"}, "review_point_id"),
    (CLASS_DECISIONS, {"review_point_id": "half-term"}, "review_point_id"),
    (CLASS_DECISIONS, {"review_academic_year": "2026-28"}, "review_academic_year"),
    (CLASS_DECISIONS, {"owner": "a-stranger"}, "owner"),
    (CLASS_DECISIONS, {"pupil_ids": ["p7"]}, "pupil_ids.0"),
    (CLASS_DECISIONS, {"pupil_ids": ["p1", "ghost"]}, "pupil_ids.1"),
    (CLASS_DECISIONS, {"kind": "chat"}, "kind"),
    (CLASS_DECISIONS, {"text": ""}, "text"),
    (CLASS_DECISIONS, {"colour": "red"}, "colour"),
    (f"/v1/classes/4A/meetings/{YEAR}/autumn-9/decisions", {}, "point_id"),
    ("/v1/classes/4A/meetings/2026-28/autumn-2/decisions", {}, "academic_year"),
])
def test_bad_decisions_are_refused_naming_the_field(client, leader, small, trust, app_engine, path, changes, field):
    answer = client.post(path, json=decision(**changes), headers=leader)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json", answer.json
    assert field in answer.json["errors"], answer.json
    assert events_of(app_engine, trust, "MeetingDecisionRecorded") == []


def test_the_trusts_own_calendar_decides_the_points(client, leader, small, trust):
    points = [{"point_id": "autumn", "name": "Autumn", "starts_on": "2026-09-02", "ends_on": "2026-12-18"},
              {"point_id": "summer", "name": "Summer", "starts_on": "2027-04-12", "ends_on": "2027-07-21"}]
    assert client.put(f"/v1/calendar/{YEAR}", json={"points": points}, headers=leader).status_code == 200
    path = f"/v1/classes/4A/meetings/{YEAR}/autumn/decisions"
    assert client.post(path, json=decision(review_point_id="summer"), headers=leader).status_code == 201
    gone = client.post(CLASS_DECISIONS, json=decision(), headers=leader)
    assert gone.status_code == 422 and "point_id" in gone.json["errors"]


def test_erasing_a_pupil_blanks_the_decisions_that_name_them(client, leader, small, trust, app_engine):
    post = poster(client, leader)
    post(CLASS_DECISIONS, decision(id="about-p1"))
    post(CLASS_DECISIONS, decision(id="p1-and-p2", text="Given0 and Given1 to sit nearer the board",
                                   pupil_ids=["p2", "p1"]))
    post(CLASS_DECISIONS, decision(id="about-p3", text="Given2 to join the reading group", pupil_ids=["p3"]))
    post("/v1/meeting-decisions/about-p1/review", {"outcome": "continue", "note": "Given0 still unsure"})
    assert client.delete("/v1/pupils/p1/personal-data", headers=leader).status_code == 200
    recorded = {e.data["decision_id"]: e.data["text_ref"] for e in events_of(app_engine, trust,
                                                                             "MeetingDecisionRecorded")}
    [review] = events_of(app_engine, trust, "MeetingDecisionReviewed")
    assert personal_text(app_engine, trust, recorded["about-p1"]) is None
    assert personal_text(app_engine, trust, recorded["p1-and-p2"]) is None
    assert personal_text(app_engine, trust, review.data["note_ref"]) is None
    assert personal_text(app_engine, trust, recorded["about-p3"]) == "Given2 to join the reading group"


def test_the_decision_commands_are_in_openapi(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/v1/classes/{class_id}/meetings/{academic_year}/{point_id}/decisions",
                 "/v1/schools/{school_id}/meetings/{academic_year}/{point_id}/decisions",
                 "/v1/meeting-decisions/{decision_id}/review"):
        operation = paths[path]["post"]
        assert {"201", "403", "404", "409", "422"} <= set(operation["responses"]), path
    body = paths["/v1/meeting-decisions/{decision_id}/review"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("MeetingReviewIn")


def test_a_teacher_who_never_recorded_anything_may_own_their_own_decision(client, settings, small, trust, app_engine):
    """The person recording is a member of staff by doing so: naming oneself owner of one's first decision (the
    meeting page's default) is not refused as "not a member of this trust's staff"."""
    newcomer = bearer(token_for(settings, trust, ["teacher"], sub="new-teacher", classes=["4A"]))
    answer = client.post(CLASS_DECISIONS, json=decision(id="d-own", owner="new-teacher"), headers=newcomer)
    assert answer.status_code == 201, answer.json
    [event] = events_of(app_engine, trust, "MeetingDecisionRecorded")
    assert event.data["owner_ref"] == event.metadata["actor_ref"]
