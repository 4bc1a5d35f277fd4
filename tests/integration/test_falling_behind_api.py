"""The falling-behind lists on the real database and real servers' apps: ``GET /v1/classes/{id}/falling-behind``
and ``GET /v1/schools/{id}/falling-behind`` from recorded summative codes, scores and judgements — named pupils
with codes, counts by group with the small-group caution, CSV, role checks, auditors' reads recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fathom_projector.trust_batch import catch_up_trust
from fathom_reports import create_app as create_reports
from fathom_shared.db import TenantUnitOfWork
from tests.support import bearer, poster, summative_grid, token_for

YEAR, LAST_YEAR = "2026-27", "2025-26"


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


@pytest.fixture
def recorded(client, leader, small, app_engine, trust):
    """Maths codes in 4A (and 4B) at summer-2 last year, autumn-1 and autumn-2; a test score out of line."""
    post = poster(client, leader)
    post(*summative_grid("4A", LAST_YEAR, "summer-2", ("p1", "GDS"), ("p2", "WTS")))
    post(*summative_grid("4A", YEAR, "autumn-1", ("p1", "EXS"), ("p2", "WTS"), ("p3", "EXS")))
    post(*summative_grid("4A", YEAR, "autumn-2", ("p1", "WTS"), ("p2", "WTS"), ("p3", "EXS")))
    post(*summative_grid("4B", YEAR, "autumn-1", ("p7", "GDS")))
    post(*summative_grid("4B", YEAR, "autumn-2", ("p7", "EXS")))
    post("/v1/standardised-scores", {"scores": [
        {"pupil_id": "p3", "test": "NFER Maths Autumn", "subject": "maths", "score": 130, "taken_on": "2026-11-20"}]})
    post("/v1/judgements", {"judgements": [
        {"pupil_id": "p3", "objective_id": o, "value": 1, "assessed_on": "2026-11-10"} for o in ("m4-1", "m4-2")]})
    catch_up_trust(app_engine, trust)
    return trust


def read(reports, settings, trust, path, role="teacher", classes=("4A",), schools=("sch-1",), **query):
    headers = bearer(token_for(settings, trust, [role], sub=f"{role}-1", classes=list(classes),
                               schools=list(schools)))
    return reports.get(path, headers=headers, query_string=query)


def listed(body: dict, name: str) -> list[str]:
    return [p["pupil_id"] for p in body[name]["pupils"]]


def test_a_class_lists_who_moved_down_stayed_below_and_disagrees(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/classes/4A/falling-behind", academic_year=YEAR,
                  point_id="autumn-2", subject="maths")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["scope"], body["scope_id"], body["pupils"], body["expected_code"]) == ("class", "4A", 6, "EXS")
    assert body["point"]["point_id"] == "autumn-2"
    assert listed(body, "moved_down") == ["p1"]
    p1 = body["moved_down"]["pupils"][0]
    assert (p1["name"], p1["class_id"], p1["code"], p1["previous_code"], p1["code_two_points_ago"]) == (
        "Given0 Family0", "4A", "WTS", "EXS", "GDS")
    assert listed(body, "below_expected_twice") == ["p2"]
    assert listed(body, "disagreement") == ["p3"]
    assert body["disagreement"]["pupils"][0]["disagreement"]["moderation_prompt"] is True
    counts = {row["group"]: row for row in body["below_expected_twice"]["by_group"]}
    assert counts["sen_support"] == {"group": "sen_support", "pupils": 1, "listed": 1, "small_group": True}
    assert "p7" not in listed(body, "moved_down"), "4B's pupil is not on 4A's list"


def test_the_first_point_of_a_year_compares_with_last_years_last(reports, settings, recorded):
    body = read(reports, settings, recorded, "/v1/classes/4A/falling-behind", academic_year=YEAR,
                point_id="autumn-1").json
    assert body["subject"] == "maths", "the class's first subject when none is named"
    assert body["points"][1] == {"academic_year": LAST_YEAR, "point_id": "summer-2"}
    assert listed(body, "moved_down") == ["p1"] and listed(body, "below_expected_twice") == ["p2"]


def test_a_school_lists_pupils_of_every_class_for_its_leaders(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/schools/sch-1/falling-behind", role="school_leader",
                  academic_year=YEAR, point_id="autumn-2", subject="maths")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["pupils"] == 8 and listed(body, "moved_down") == ["p1", "p7"]
    assert [p["class_id"] for p in body["moved_down"]["pupils"]] == ["4A", "4B"]


def test_the_lists_export_as_csv(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/classes/4A/falling-behind", academic_year=YEAR,
                  point_id="autumn-2", subject="maths", format="csv")
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == ("list,pupil_id,name,class_id,subject,academic_year,point_id,code,previous_code,"
                        "code_two_points_ago,test_band,teacher_band")
    assert lines[1] == "moved_down,p1,Given0 Family0,4A,maths,2026-27,autumn-2,WTS,EXS,GDS,,"
    assert lines[3].startswith("disagreement,p3,") and lines[3].endswith(",3,0")


@pytest.mark.parametrize(("query", "field"), [
    ({"academic_year": YEAR, "point_id": "spring"}, "query.point_id"),
    ({"academic_year": "2026"}, "query.academic_year"),
    ({"academic_year": "2027-28", "point_id": "autumn-1"}, "query.academic_year"),  # after the class's year
    ({"academic_year": YEAR, "colour": "red"}, "query.colour"),
])
def test_a_bad_query_names_the_argument(reports, settings, recorded, query, field):
    answer = read(reports, settings, recorded, "/v1/classes/4A/falling-behind", **query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json


def test_who_may_read_the_lists(reports, settings, recorded, make_trust):
    cls, school = "/v1/classes/4A/falling-behind", "/v1/schools/sch-1/falling-behind"
    query = {"academic_year": YEAR, "point_id": "autumn-2"}
    assert read(reports, settings, recorded, cls, classes=("4B",), **query).status_code == 403
    assert read(reports, settings, recorded, school, **query).status_code == 403, "a teacher reads classes only"
    assert read(reports, settings, recorded, school, role="school_leader", schools=("elsewhere",),
                **query).status_code == 403
    assert read(reports, settings, recorded, "/v1/classes/9Z/falling-behind", role="school_leader",
                **query).status_code == 404
    assert read(reports, settings, recorded, "/v1/schools/nowhere/falling-behind", role="trust_leader",
                **query).status_code == 404
    other = make_trust()
    assert read(reports, settings, other, cls, role="trust_leader", **query).status_code == 404
    assert read(reports, settings, other, school, role="trust_leader", **query).status_code == 404
    assert read(reports, settings, recorded, school, role="trust_leader", **query).status_code == 200


def test_an_auditors_read_of_the_lists_is_recorded(reports, settings, recorded, app_engine):
    answer = read(reports, settings, recorded, "/v1/schools/sch-1/falling-behind", role="auditor",
                  academic_year=YEAR, point_id="autumn-2")
    assert answer.status_code == 200
    with TenantUnitOfWork(app_engine, recorded) as uow:
        reads = uow.connection.execute(text("SELECT sub, path, query, status FROM audit_reads")).all()
    assert [(r.sub, r.path, r.status) for r in reads] == [("auditor-1", "/v1/schools/sch-1/falling-behind", 200)]
    assert "point_id=autumn-2" in reads[0].query


def test_the_openapi_document_lists_the_falling_behind_reads(reports):
    paths = reports.get("/openapi.json").get_json()["paths"]
    for path in ("/v1/classes/{class_id}/falling-behind", "/v1/schools/{school_id}/falling-behind"):
        read_ = paths[path]["get"]
        assert {p["name"] for p in read_["parameters"] if p["in"] == "query"} >= {
            "academic_year", "point_id", "subject", "format", "consistency"}
        assert {"200", "401", "403", "404", "422"} <= set(read_["responses"])
