"""Leaders' summative figures on the real database and the real servers' apps: ``GET /v1/trust/summative``,
``GET /v1/schools/{id}/summative`` and ``GET /v1/cohorts`` from hand-made codes across two schools and two
academic years — exact pooled counts, the group filter, a cohort followed back through its pupils' own codes
(whatever class gave them; leavers not in it), CSV, 422s naming the argument, roles, another trust, auditors'
reads recorded.

The data: Oak Primary (sch-1) has last year's 3O (p9, p10) and this year's 4A (p1-p6) and 4B (p7, p8); Elm
Primary (sch-2) has last year's 3E (e1, e2, e3) and this year's 4E. Maths codes at summer-2 last year in the
Year 3 classes; then p9 moves to 4A, p10 to 4B, e1 and e2 to 4E, e3 leaves; codes at autumn-1 this year.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fathom_api.validation import school_today
from fathom_projector.trust_batch import catch_up_trust
from fathom_reports import create_app as create_reports
from fathom_shared.db import TenantUnitOfWork
from tests.support import bearer, poster, summative_grid, token_for

YEAR, LAST_YEAR = "2026-27", "2025-26"
TODAY = school_today().isoformat()
THIS_POINT = {"academic_year": YEAR, "point_id": "autumn-1", "subject": "maths"}


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


@pytest.fixture
def recorded(client, leader, small, app_engine, trust):
    post = poster(client, leader)
    post("/v1/schools", {"id": "sch-2", "name": "Elm Primary"})
    for class_id, school, year_group, year in (("3O", "sch-1", 3, LAST_YEAR), ("3E", "sch-2", 3, LAST_YEAR),
                                               ("4E", "sch-2", 4, YEAR)):
        post("/v1/classes", {"id": class_id, "school_id": school, "name": class_id, "year_group": year_group,
                             "academic_year": year})
    for pupil, school, klass, premium in (("p9", "sch-1", "3O", True), ("p10", "sch-1", "3O", False),
                                          ("e1", "sch-2", "3E", False), ("e2", "sch-2", "3E", True),
                                          ("e3", "sch-2", "3E", False)):
        post("/v1/pupils", {"id": pupil, "school_id": school, "class_id": klass,
                            "groups": {"pupil_premium": premium}})
    post(*summative_grid("3O", LAST_YEAR, "summer-2", ("p9", "GDS"), ("p10", "WTS")))
    post(*summative_grid("3E", LAST_YEAR, "summer-2", ("e1", "EXS"), ("e2", "WTS"), ("e3", "EXS")))
    for pupil, klass in (("p9", "4A"), ("p10", "4B"), ("e1", "4E"), ("e2", "4E")):
        post(f"/v1/pupils/{pupil}/move", {"class_id": klass, "moved_on": TODAY})
    post("/v1/pupils/e3/leaving", {"left_on": TODAY})
    post(*summative_grid("4A", YEAR, "autumn-1", ("p1", "EXS"), ("p2", "WTS"), ("p3", "GDS"), ("p9", "EXS")))
    post(*summative_grid("4B", YEAR, "autumn-1", ("p7", "WTS")))
    post(*summative_grid("4E", YEAR, "autumn-1", ("e1", "EXS"), ("e2", "WTS")))
    catch_up_trust(app_engine, trust)
    return trust


def read(reports, settings, trust, path, role="trust_leader", schools=("sch-1",), classes=("4A",), **query):
    headers = bearer(token_for(settings, trust, [role], sub=f"{role}-1", schools=list(schools),
                               classes=list(classes)))
    return reports.get(path, headers=headers, query_string=query)


def counts(tally: dict) -> dict[str, int]:
    return {c["code"]: c["count"] for c in tally["counts"]}


def figures(tally: dict) -> tuple:
    return (tally["assessed"], tally["at_or_above_expected"], tally["percent_at_or_above_expected"],
            tally["small_group"])


def test_the_trust_pools_pupils_across_schools(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/trust/summative", year_group=4, **THIS_POINT)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["level"], body["point"]["point_id"], body["subject"]) == ("trust", "autumn-1", "maths")
    assert counts(body["pooled"]) == {"WTS": 3, "EXS": 3, "GDS": 1}
    assert figures(body["pooled"]) == (7, 4, 57.1, False), "4 of 7 pupils: not the schools' 60% and 50% averaged"
    schools = [(s["school_id"], s["name"], *figures(s)) for s in body["schools"]]
    assert schools == [("sch-2", "Elm Primary", 2, 1, 50.0, True), ("sch-1", "Oak Primary", 5, 3, 60.0, False)]
    assert body["schools"][1]["links"]["summative"].startswith("/v1/schools/sch-1/summative?academic_year=2026-27")


def test_last_years_codes_count_where_they_were_given(reports, settings, recorded):
    body = read(reports, settings, recorded, "/v1/trust/summative", academic_year=LAST_YEAR, point_id="summer-2",
                subject="maths", year_group=3).json
    assert counts(body["pooled"]) == {"WTS": 2, "EXS": 2, "GDS": 1}, "e3 left since, but was in Year 3 then"
    assert figures(body["pooled"]) == (5, 3, 60.0, False)
    same_point_year_4 = read(reports, settings, recorded, "/v1/trust/summative", academic_year=LAST_YEAR,
                             point_id="summer-2", subject="maths", year_group=4).json
    assert same_point_year_4["pooled"]["assessed"] == 0


def test_a_group_filter_pools_only_its_pupils(reports, settings, recorded):
    body = read(reports, settings, recorded, "/v1/trust/summative", year_group=4, group="pupil_premium",
                **THIS_POINT).json
    assert counts(body["pooled"]) == {"WTS": 2, "EXS": 2, "GDS": 1}  # p7, e2 · p1, p9 · p3
    assert figures(body["pooled"]) == (5, 3, 60.0, False)


def test_a_school_leader_reads_their_school_per_class(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/schools/sch-1/summative", role="school_leader", year_group=4,
                  **THIS_POINT)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert [(c["class_id"], *figures(c)) for c in body["classes"]] == [
        ("4A", 4, 3, 75.0, True), ("4B", 1, 0, 0.0, True)]
    assert figures(body["pooled"]) == (5, 3, 60.0, False)
    assert body["classes"][0]["links"]["summative"] == (
        "/v1/classes/4A/summative?academic_year=2026-27&point_id=autumn-1&subject=maths")


def test_schools_and_classes_are_listed_by_name_as_read_not_by_code_point(reports, settings, client, leader,
                                                                         recorded, app_engine):
    """C.UTF-8, the test servers' collation, put "Class 10" before "Class 9" and every small or accented first
    letter after "Z"; these lists were in that order (see :mod:`fathom_reports.views.reading_order`)."""
    post = poster(client, leader)
    post("/v1/schools", {"id": "sch-3", "name": "ashby Primary"})
    post("/v1/schools", {"id": "sch-4", "name": "Østby Academy"})
    for class_id, name, year_group in (("c10", "Class 10", 4), ("c9", "Class 9", 4), ("cb", "birch", 4),
                                       ("c3", "Ash", 3)):
        post("/v1/classes", {"id": class_id, "school_id": "sch-1", "name": name, "year_group": year_group,
                             "academic_year": YEAR})
    catch_up_trust(app_engine, recorded)
    trust_wide = read(reports, settings, recorded, "/v1/trust/summative", year_group=4, **THIS_POINT).json
    assert [s["name"] for s in trust_wide["schools"]] == ["ashby Primary", "Elm Primary", "Oak Primary",
                                                          "Østby Academy"]
    school = read(reports, settings, recorded, "/v1/schools/sch-1/summative", year_group=4, **THIS_POINT).json
    assert [c["name"] for c in school["classes"]] == ["4A", "4B", "birch", "Class 9", "Class 10"]
    every_year = read(reports, settings, recorded, "/v1/schools/sch-1/summative", **THIS_POINT).json
    assert [c["name"] for c in every_year["classes"]] == ["Ash", "4A", "4B", "birch", "Class 9", "Class 10"]


def test_a_cohort_is_followed_back_through_its_pupils_own_codes(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/cohorts", year_group=4, academic_year=YEAR, subject="maths")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["pupils"] == 12, "p1-p10, e1 and e2 are in Year 4 now; e3 has left"
    assert len(body["points"]) == 12, "both years' six points"
    at = {(p["academic_year"], p["point_id"]): p for p in body["points"]}
    summer = at[(LAST_YEAR, "summer-2")]
    assert (summer["year_group"], counts(summer)) == (3, {"WTS": 2, "EXS": 1, "GDS": 1})
    assert figures(summer) == (4, 2, 50.0, True) and summer["not_assessed"] == 8
    autumn = at[(YEAR, "autumn-1")]
    assert (autumn["year_group"], *figures(autumn), autumn["not_assessed"]) == (4, 7, 4, 57.1, False, 5)
    premium = next(g for g in autumn["by_group"] if g["group"] == "pupil_premium")
    assert (premium["pupils"], premium["assessed"], premium["at_or_above_expected"]) == (6, 5, 3)
    assert at[(YEAR, "autumn-2")]["assessed"] == 0


def test_a_cohort_can_be_shown_up_to_last_year(reports, settings, recorded):
    body = read(reports, settings, recorded, "/v1/cohorts", year_group=4, academic_year=LAST_YEAR,
                subject="maths").json
    assert (body["pupils"], body["current_year"]) == (12, YEAR), "still the pupils in Year 4 now"
    assert [(p["academic_year"], p["year_group"]) for p in body["points"]] == [(LAST_YEAR, 3)] * 6
    assert [p["assessed"] for p in body["points"]] == [0, 0, 0, 0, 0, 4]


def test_a_schools_cohort_has_only_its_pupils(reports, settings, recorded):
    body = read(reports, settings, recorded, "/v1/cohorts", role="school_leader", schools=("sch-2",), year_group=4,
                school_id="sch-2", academic_year=YEAR, subject="maths").json
    assert body["pupils"] == 2
    summer = next(p for p in body["points"] if (p["academic_year"], p["point_id"]) == (LAST_YEAR, "summer-2"))
    assert counts(summer) == {"WTS": 1, "EXS": 1, "GDS": 0}, "e3's code left with e3"


def test_the_figures_and_the_cohort_export_as_csv(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/trust/summative", year_group=4, format="csv", **THIS_POINT)
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == ("unit,unit_id,name,academic_year,point_id,subject,code,count,assessed,at_or_above_expected,"
                        "percent_at_or_above_expected,small_group")
    assert lines[1:4] == ["trust,,pooled,2026-27,autumn-1,maths,WTS,3,7,4,57.1,false",
                          "trust,,pooled,2026-27,autumn-1,maths,EXS,3,7,4,57.1,false",
                          "trust,,pooled,2026-27,autumn-1,maths,GDS,1,7,4,57.1,false"]
    cohort = read(reports, settings, recorded, "/v1/cohorts", year_group=4, academic_year=YEAR, subject="maths",
                  format="csv").get_data(as_text=True).splitlines()
    assert cohort[0].startswith("academic_year,year_group,point_id,subject,group,code,count,pupils")
    assert "2025-26,3,summer-2,maths,all,GDS,1,12,4,2,50.0,true" in cohort


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/v1/trust/summative", {"academic_year": YEAR, "point_id": "spring-9"}, "query.point_id"),
    ("/v1/trust/summative", {"year_group": 20}, "query.year_group"),
    ("/v1/trust/summative", {"group": "tall"}, "query.group"),
    ("/v1/schools/sch-1/summative", {"academic_year": "2026"}, "query.academic_year"),
    ("/v1/cohorts", {}, "query.year_group"),
    ("/v1/cohorts", {"year_group": 4, "colour": "red"}, "query.colour"),
])
def test_a_bad_query_names_the_argument(reports, settings, recorded, path, query, field):
    answer = read(reports, settings, recorded, path, **query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json


def test_who_may_read_the_figures(reports, settings, recorded, make_trust):
    trust, school, cohorts = "/v1/trust/summative", "/v1/schools/sch-1/summative", "/v1/cohorts"
    for path, extra in ((trust, {}), (school, {}), (cohorts, {"school_id": "sch-1", "year_group": 4})):
        assert read(reports, settings, recorded, path, role="teacher", **extra).status_code == 403, path
    assert read(reports, settings, recorded, trust, role="school_leader").status_code == 403
    assert read(reports, settings, recorded, school, role="school_leader", schools=("sch-2",)).status_code == 403
    refused = read(reports, settings, recorded, cohorts, role="school_leader", year_group=4)
    assert refused.status_code == 403 and "query.school_id" in refused.json["errors"]
    assert read(reports, settings, recorded, cohorts, role="school_leader", year_group=4,
                school_id="sch-2").status_code == 403
    assert read(reports, settings, recorded, "/v1/schools/nowhere/summative").status_code == 404
    assert read(reports, settings, recorded, cohorts, year_group=4, school_id="nowhere").status_code == 404

    other = make_trust()
    assert read(reports, settings, other, school, **THIS_POINT).status_code == 404
    assert read(reports, settings, other, cohorts, year_group=4, school_id="sch-1", subject="maths"
                ).status_code == 404
    theirs = read(reports, settings, other, trust, **THIS_POINT).json
    assert (theirs["pooled"]["assessed"], theirs["schools"]) == (0, []), "nothing of another trust's"
    assert read(reports, settings, other, cohorts, year_group=4, subject="maths").json["pupils"] == 0


def test_an_auditors_reads_are_recorded(reports, settings, recorded, app_engine):
    assert read(reports, settings, recorded, "/v1/trust/summative", role="auditor", **THIS_POINT).status_code == 200
    assert read(reports, settings, recorded, "/v1/cohorts", role="auditor", year_group=4).status_code == 200
    with TenantUnitOfWork(app_engine, recorded) as uow:
        reads = uow.connection.execute(text("SELECT sub, path, status FROM audit_reads ORDER BY read_id")).all()
    assert [tuple(r) for r in reads] == [("auditor-1", "/v1/trust/summative", 200), ("auditor-1", "/v1/cohorts", 200)]


def test_the_openapi_document_lists_the_figures(reports):
    paths = reports.get("/openapi.json").get_json()["paths"]
    for path, arguments in (("/v1/trust/summative", {"point_id", "year_group", "group"}),
                            ("/v1/schools/{school_id}/summative", {"point_id", "year_group", "group"}),
                            ("/v1/cohorts", {"year_group", "school_id", "group"})):
        read_ = paths[path]["get"]
        assert {p["name"] for p in read_["parameters"] if p["in"] == "query"} >= {
            "academic_year", "subject", "format", "consistency", *arguments}
        assert {"200", "401", "403", "422"} <= set(read_["responses"])
