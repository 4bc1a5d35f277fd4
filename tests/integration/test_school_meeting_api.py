"""A school's pupil progress meeting on the real database and the real servers' apps:
``GET /v1/schools/{id}/meeting`` from hand-made codes at two points and decisions of two schools' meetings —
exact per-class and pooled counts now and before with the moves, the decisions recorded here, due here and
overdue (only the school's), CSV, 422s naming the argument, roles, another trust, auditors' reads recorded.

The data: Oak Primary (sch-1) has 4A (p1-p6) and 4B (p7, p8), Elm Primary (sch-2) has 4E (e1). Maths codes at
autumn-1: p1 EXS, p2 EXS, p3 WTS, p4 GDS, p7 WTS; at autumn-2: p1 GDS (up), p2 WTS (down), p3 WTS (same),
p5 EXS (no code before), p7 EXS (up), p8 EXS (no code before), e1 EXS. p4 has no code at autumn-2.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from fathom_projector.trust_batch import catch_up_trust
from fathom_reports import create_app as create_reports
from fathom_shared.assessment_calendar import academic_year_of, school_today
from fathom_shared.db import TenantUnitOfWork
from tests.integration.test_summative_figures_api import counts, figures
from tests.support import bearer, poster, summative_grid, token_for

YEAR = "2026-27"
MEETING = "/v1/schools/sch-1/meeting"
AT = {"academic_year": YEAR, "point_id": "autumn-2", "subject": "maths"}
LATER = academic_year_of(school_today() + timedelta(days=400))
FUTURE = {"review_academic_year": LATER, "review_point_id": "summer-2"}
"""A review point still to come while the tests run: never overdue."""
PAST = {"review_academic_year": YEAR, "review_point_id": "autumn-1"}
"""Autumn 1 of 2026-27 ended on 31 October 2026: unreviewed, a decision due then is overdue."""


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


def decision(decision_id: str, **changes: Any) -> dict[str, Any]:
    return {"id": decision_id, "kind": "teaching_change", "text": f"Decision {decision_id}", "owner": "ms-reid",
            "pupil_ids": [], **FUTURE, **changes}


@pytest.fixture
def recorded(client, leader, small, app_engine, trust):
    post = poster(client, leader)
    post("/v1/schools", {"id": "sch-2", "name": "Elm Primary"})
    post("/v1/classes", {"id": "4E", "school_id": "sch-2", "name": "4E", "year_group": 4, "academic_year": YEAR})
    post("/v1/pupils", {"id": "e1", "school_id": "sch-2", "class_id": "4E"})
    post("/v1/classes/4A/staff", {"staff_sub": "ms-reid"})
    post(*summative_grid("4A", YEAR, "autumn-1", ("p1", "EXS"), ("p2", "EXS"), ("p3", "WTS"), ("p4", "GDS")))
    post(*summative_grid("4B", YEAR, "autumn-1", ("p7", "WTS")))
    post(*summative_grid("4A", YEAR, "autumn-2", ("p1", "GDS"), ("p2", "WTS"), ("p3", "WTS"), ("p5", "EXS")))
    post(*summative_grid("4B", YEAR, "autumn-2", ("p7", "EXS"), ("p8", "EXS")))
    post(*summative_grid("4E", YEAR, "autumn-2", ("e1", "EXS")))
    meeting = "/v1/{}/{}/meetings/{}/{}/decisions".format
    post(meeting("classes", "4A", YEAR, "autumn-1"), decision("a-overdue", **PAST))
    post(meeting("classes", "4A", YEAR, "autumn-1"), decision(
        "a-reviewed", kind="pupil_to_watch", pupil_ids=["p2"], review_academic_year=YEAR,
        review_point_id="autumn-2"))
    post("/v1/meeting-decisions/a-reviewed/review", {"outcome": "continue"})
    post(meeting("classes", "4A", YEAR, "autumn-2"), decision("a-now"))
    post(meeting("classes", "4B", YEAR, "autumn-2"), decision("b-now"))
    post(meeting("schools", "sch-1", YEAR, "autumn-2"), decision("school", kind="professional_learning"))
    post(meeting("classes", "4E", YEAR, "autumn-1"), decision("e-overdue", **PAST))
    post(meeting("classes", "4E", YEAR, "autumn-2"), decision("e-now"))
    catch_up_trust(app_engine, trust)
    return trust


def read(reports, settings, trust, path=MEETING, role="school_leader", schools=("sch-1",), classes=("4A",),
         **query):
    headers = bearer(token_for(settings, trust, [role], sub=f"{role}-1", schools=list(schools),
                               classes=list(classes)))
    return reports.get(path, headers=headers, query_string=query)




def ids(decisions: list[dict]) -> list[str]:
    return [d["decision_id"] for d in decisions]


def test_a_leader_reads_the_schools_codes_per_class_with_the_change_since_the_point_before(reports, settings,
                                                                                          recorded):
    answer = read(reports, settings, recorded, **AT)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["school_name"], body["point"]["point_id"], body["previous_point"]["point_id"]) == (
        "Oak Primary", "autumn-2", "autumn-1")
    assert body["expected_code"] == "EXS" and body["subjects"] == ["maths"]
    assert [p["point_id"] for p in body["points"]][:2] == ["autumn-1", "autumn-2"]
    a, b = body["classes"]
    assert (a["class_id"], counts(a["now"]), figures(a["now"])) == (
        "4A", {"WTS": 2, "EXS": 1, "GDS": 1}, (4, 2, 50.0, True))
    assert (counts(a["before"]), figures(a["before"])) == ({"WTS": 1, "EXS": 2, "GDS": 0}, (3, 2, 66.7, True)), \
        "the pupils coded now, at the point before: p4 has no code now, so is not in it"
    assert a["moved"] == {"up": 1, "same": 1, "down": 1, "not_compared": 1}
    assert (b["class_id"], figures(b["now"]), figures(b["before"]), b["moved"]) == (
        "4B", (2, 2, 100.0, True), (1, 0, 0.0, True), {"up": 1, "same": 0, "down": 0, "not_compared": 1})
    pooled = body["pooled"]
    assert figures(pooled["now"]) == (6, 4, 66.7, False), "4 of 6 pupils: not 50% and 100% averaged"
    assert figures(pooled["before"]) == (4, 2, 50.0, True)
    assert pooled["moved"] == {"up": 2, "same": 1, "down": 1, "not_compared": 2}
    assert a["links"]["meeting"] == f"/v1/classes/4A/meetings/{YEAR}/autumn-2"

    figures_read = read(reports, settings, recorded, "/v1/schools/sch-1/summative", **AT).json
    assert figures_read["pooled"] == pooled["now"], "the same pupils pooled as the leaders' summative figures"
    assert [c["assessed"] for c in figures_read["classes"]] == [a["now"]["assessed"], b["now"]["assessed"]]


def test_the_decisions_are_the_schools_meetings_own(reports, settings, recorded):
    body = read(reports, settings, recorded, **AT).json
    assert ids(body["decisions"]) == ["a-now", "b-now", "school"], "recorded at autumn-2, not sch-2's e-now"
    assert ids(body["due_here"]) == ["a-reviewed"] and body["due_here"][0]["status"] == "reviewed"
    assert ids(body["overdue"]) == ["a-overdue"], "not sch-2's e-overdue"
    assert body["overdue"][0]["status"] == "overdue" and body["overdue"][0]["class_id"] == "4A"
    by_class = {c["class_id"]: c["decisions"] for c in body["classes"]}
    assert by_class == {"4A": {"recorded": 1, "due_here": 1, "overdue": 1},
                        "4B": {"recorded": 1, "due_here": 0, "overdue": 0}}
    earlier = read(reports, settings, recorded, academic_year=YEAR, point_id="autumn-1", subject="maths").json
    assert ids(earlier["decisions"]) == ["a-overdue", "a-reviewed"] and ids(earlier["due_here"]) == ["a-overdue"]
    assert earlier["previous_point"]["academic_year"] == "2025-26", "a year's first point looks back a year"
    assert earlier["pooled"]["moved"]["not_compared"] == 5, "no codes last year"


def test_the_defaults_are_those_of_the_schools_falling_behind_lists(reports, settings, recorded):
    """The page reads both with the same arguments: left out, they must choose the same point and subject."""
    body = read(reports, settings, recorded).json
    lists = read(reports, settings, recorded, "/v1/schools/sch-1/falling-behind").json
    assert body["academic_year"] == academic_year_of(school_today()) and body["subject"] == "maths"
    assert (body["point"], body["subject"]) == (lists["point"], lists["subject"])


def test_the_meeting_exports_as_csv(reports, settings, recorded):
    answer = read(reports, settings, recorded, format="csv", **AT)
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == ("unit,class_id,name,academic_year,point_id,subject,assessed,at_or_above_expected,"
                        "percent_at_or_above_expected,small_group,assessed_before,at_or_above_expected_before,"
                        "percent_at_or_above_expected_before,moved_up,moved_same,moved_down,moved_not_compared,"
                        "decisions_recorded,decisions_due_here,decisions_overdue")
    assert lines[1] == "school,,pooled,2026-27,autumn-2,maths,6,4,66.7,false,4,2,50.0,2,1,1,2,,,"
    assert lines[2] == "class,4A,4A,2026-27,autumn-2,maths,4,2,50.0,true,3,2,66.7,1,1,1,1,1,1,1"


@pytest.mark.parametrize(("query", "field"), [
    ({"academic_year": YEAR, "point_id": "spring-9"}, "query.point_id"),
    ({"academic_year": "2026"}, "query.academic_year"),
    ({"colour": "red"}, "query.colour"),
])
def test_a_bad_query_names_the_argument(reports, settings, recorded, query, field):
    answer = read(reports, settings, recorded, **query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json


@pytest.mark.parametrize(("role", "schools", "status"), [
    ("school_leader", ("sch-1",), 200),
    ("trust_leader", (), 200),
    ("auditor", (), 200),
    ("teacher", ("sch-1",), 403),
    ("school_leader", ("sch-2",), 403),
])
def test_who_may_read_the_schools_meeting(reports, settings, recorded, role, schools, status):
    answer = read(reports, settings, recorded, role=role, schools=schools, **AT)
    assert answer.status_code == status, answer.json
    if status == 403:
        assert answer.mimetype == "application/problem+json"


def test_no_such_school_and_another_trusts_are_404(reports, settings, recorded, make_trust):
    assert read(reports, settings, recorded, "/v1/schools/nowhere/meeting", role="trust_leader").status_code == 404
    other = make_trust()
    for role in ("trust_leader", "school_leader"):
        answer = read(reports, settings, other, role=role, **AT)
        assert answer.status_code == 404 and "Oak" not in answer.get_data(as_text=True), role


def test_an_auditors_reads_are_recorded(reports, settings, recorded, app_engine):
    assert read(reports, settings, recorded, role="auditor", schools=(), **AT).status_code == 200
    assert read(reports, settings, recorded, role="school_leader", **AT).status_code == 200
    with TenantUnitOfWork(app_engine, recorded) as uow:
        reads = uow.connection.execute(text("SELECT sub, path, status FROM audit_reads ORDER BY read_id")).all()
    assert [tuple(r) for r in reads] == [("auditor-1", MEETING, 200)], "the auditor's read, not the leader's"


def test_the_openapi_document_lists_the_meeting(reports):
    read_ = reports.get("/openapi.json").get_json()["paths"]["/v1/schools/{school_id}/meeting"]["get"]
    assert {p["name"] for p in read_["parameters"] if p["in"] == "query"} >= {
        "academic_year", "point_id", "subject", "format", "consistency"}
    assert {"200", "401", "403", "404", "422"} <= set(read_["responses"])


def test_a_subject_without_codes_reads_as_none_given(reports, settings, recorded):
    body = read(reports, settings, recorded, academic_year=YEAR, point_id="autumn-2", subject="science").json
    assert body["subject"] == "science" and body["pooled"]["now"]["assessed"] == 0
    assert [c["now"]["assessed"] for c in body["classes"]] == [0, 0], "the classes are still listed"
    assert body["pooled"]["moved"] == {"up": 0, "same": 0, "down": 0, "not_compared": 0}
    assert ids(body["decisions"]) == ["a-now", "b-now", "school"], "decisions are not per subject"
