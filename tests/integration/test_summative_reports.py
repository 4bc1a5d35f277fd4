"""The summative reads against the real database: ``GET /v1/summative-scale`` and a class's summative grid
(``GET /v1/classes/{class_id}/summative``) with the previous point's code and the prompt, as JSON and CSV,
for the roles that may read it, with auditors' reads recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fathom_projector.trust_batch import catch_up_trust
from fathom_reports import create_app as create_reports
from fathom_shared.db import TenantUnitOfWork
from tests.support import bearer, token_for

YEAR, LAST_YEAR = "2026-27", "2025-26"


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


def grid(point_id: str, *entries, year: str = YEAR, subject: str = "maths") -> dict:
    return {"academic_year": year, "point_id": point_id, "subject": subject,
            "entries": [dict(zip(("pupil_id", "code", "note"), entry, strict=False)) for entry in entries]}


@pytest.fixture
def recorded(client, leader, small, app_engine, trust):
    """4A's maths: codes last summer and at autumn 1 and 2, objective evidence and scores; projected."""
    def post(path, body):
        answer = client.post(path, json=body, headers=leader)
        assert answer.status_code == 201, answer.json
        return answer.json

    post("/v1/objectives-taught", {"class_id": "4A", "objective_ids": ["m4-1", "m4-2"], "taught_on": "2026-10-01"})
    post("/v1/objectives-taught", {"class_id": "4A", "objective_ids": ["m4-3"], "taught_on": "2026-11-20"})
    post("/v1/judgements", {"judgements": [
        {"pupil_id": "p1", "objective_id": o, "value": v, "assessed_on": "2026-10-05"}
        for o, v in (("m4-1", 3), ("m4-2", 2), ("m4-3", 4))]})
    post("/v1/standardised-scores", {"scores": [
        {"pupil_id": "p1", "test": "Maths autumn", "subject": "Maths", "score": 96, "taken_on": "2026-10-10"},
        {"pupil_id": "p1", "test": "Maths summer", "subject": "Maths", "score": 91, "taken_on": "2026-06-10"},
        {"pupil_id": "p1", "test": "Reading autumn", "subject": "Reading", "score": 120, "taken_on": "2026-10-11"}]})
    post("/v1/classes/4A/summative", grid("summer-2", ("p1", "EXS"), ("p2", "WTS"), year=LAST_YEAR))
    post("/v1/classes/4A/summative", grid("autumn-1", ("p1", "WTS", "Lost ground on fractions"), ("p2", "WTS")))
    post("/v1/classes/4A/summative", grid("autumn-2", ("p1", "EXS"), ("p3", "GDS")))
    catch_up_trust(app_engine, trust)
    return trust


def read(reports, settings, trust, path, role="teacher", classes=("4A",), schools=("sch-1",), **query):
    headers = bearer(token_for(settings, trust, [role], sub=f"{role}-1", classes=list(classes),
                               schools=list(schools)))
    return reports.get(path, headers=headers, query_string=query)


def test_the_grid_shows_codes_the_previous_point_and_the_prompt(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/classes/4A/summative", academic_year=YEAR, point_id="autumn-1",
                  subject="maths")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["point"]["point_id"] == "autumn-1"
    assert (body["previous_point"]["academic_year"], body["previous_point"]["point_id"]) == (LAST_YEAR, "summer-2")
    assert [c["code"] for c in body["scale"]] == ["WTS", "EXS", "GDS"] and body["subjects"] == ["maths"]
    pupils = {p["pupil_id"]: p for p in body["pupils"]}
    assert sorted(pupils) == ["p1", "p2", "p3", "p4", "p5", "p6"]
    p1 = pupils["p1"]
    assert (p1["code"], p1["label"], p1["previous_code"], p1["moved"], p1["at_or_above_expected"]) == (
        "WTS", "Working towards", "EXS", "down", False)
    assert p1["note"] == "Lost ground on fractions"
    assert p1["prompt"] == {"taught": 2, "judged": 3, "secure": 2,
                            "score": {"score": 96, "test": "Maths autumn", "taken_on": "2026-10-10"}}
    assert (pupils["p2"]["moved"], pupils["p3"]["code"], pupils["p3"]["prompt"]["score"]) == ("same", None, None)


def test_the_next_point_compares_with_the_one_before_in_the_same_year(reports, settings, recorded):
    body = read(reports, settings, recorded, "/v1/classes/4A/summative", academic_year=YEAR,
                point_id="autumn-2").json
    pupils = {p["pupil_id"]: p for p in body["pupils"]}
    assert (pupils["p1"]["code"], pupils["p1"]["previous_code"], pupils["p1"]["moved"]) == ("EXS", "WTS", "up")
    assert pupils["p1"]["prompt"]["taught"] == 3
    assert (pupils["p3"]["code"], pupils["p3"]["previous_code"], pupils["p3"]["moved"]) == ("GDS", None, None)


def test_the_grid_exports_as_csv(reports, settings, recorded):
    answer = read(reports, settings, recorded, "/v1/classes/4A/summative", academic_year=YEAR, point_id="autumn-1",
                  format="csv")
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == ("pupil_id,name,subject,academic_year,point_id,code,label,at_or_above_expected,"
                        "previous_code,moved,taught,judged,secure,score,test,taken_on,note")
    p1 = next(line for line in lines if line.startswith("p1,"))
    assert p1.endswith(",maths,2026-27,autumn-1,WTS,Working towards,false,EXS,down,2,3,2,96,Maths autumn,"
                       "2026-10-10,Lost ground on fractions")


@pytest.mark.parametrize(("query", "field"), [
    ({"academic_year": YEAR, "point_id": "spring"}, "query.point_id"),
    ({"academic_year": "2026"}, "query.academic_year"),
    ({"academic_year": "0000-01"}, "query.academic_year"),
    ({"academic_year": YEAR, "colour": "red"}, "query.colour"),
    ({"academic_year": "2027-28"}, "query.academic_year"),  # after the class's year: never its codes
])
def test_a_bad_query_names_the_argument(reports, settings, recorded, query, field):
    answer = read(reports, settings, recorded, "/v1/classes/4A/summative", **query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"], answer.json


def test_the_grid_opens_at_the_classs_own_year_and_offers_no_later_one(client, leader, reports, settings,
                                                                     recorded, app_engine):
    """A class of last year (still open, or kept read-only after a roll-over) opens at its own year's latest begun
    point, not today's year; a year after the class's is refused as saving there would be; last year's codes read
    as the baseline they are."""
    answer = client.post("/v1/classes", headers=leader, json={"id": "3Z", "school_id": "sch-1", "name": "3Z",
                                                               "year_group": 3, "academic_year": LAST_YEAR})
    assert answer.status_code == 201, answer.json
    catch_up_trust(app_engine, recorded)
    answer = read(reports, settings, recorded, "/v1/classes/3Z/summative", role="trust_leader", subject="maths")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["academic_year"] == LAST_YEAR
    assert (body["point"]["academic_year"], body["point"]["point_id"]) == (LAST_YEAR, "summer-2")
    refused = read(reports, settings, recorded, "/v1/classes/3Z/summative", role="trust_leader", academic_year=YEAR,
                   subject="maths")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.json["errors"] == {"query.academic_year": [
        "The class is of 2025-26: its codes are given at that year's points (or an earlier year's, as a baseline), "
        "not 2026-27's."]}
    baseline = read(reports, settings, recorded, "/v1/classes/4A/summative", academic_year=LAST_YEAR,
                    point_id="summer-2", subject="maths").json
    assert body["academic_year"] == LAST_YEAR and baseline["academic_year"] == YEAR
    assert [p["code"] for p in baseline["pupils"]][:2] == ["EXS", "WTS"]


def test_subjects_are_offered_in_name_order_and_the_first_is_the_default(client, leader, reports, settings,
                                                                         recorded, app_engine):
    """By code point (C.UTF-8, the test servers' collation) "Science" came before "english" and "maths", and so was
    the subject a read without one opened on."""
    for subject in ("Science", "english"):
        answer = client.post("/v1/classes/4A/summative", json=grid("autumn-1", ("p1", "EXS"), subject=subject),
                             headers=leader)
        assert answer.status_code == 201, answer.json
    catch_up_trust(app_engine, recorded)
    body = read(reports, settings, recorded, "/v1/classes/4A/summative", academic_year=YEAR,
                point_id="autumn-1").json
    assert (body["subjects"], body["subject"]) == (["english", "maths", "Science"], "english")


def test_who_may_read_a_classs_grid(reports, settings, recorded, make_trust):
    path = "/v1/classes/4A/summative"
    assert read(reports, settings, recorded, path, classes=("4B",)).status_code == 403
    assert read(reports, settings, recorded, path, role="school_leader", schools=("elsewhere",)).status_code == 403
    assert read(reports, settings, recorded, path, role="school_leader").status_code == 200
    assert read(reports, settings, recorded, "/v1/classes/9Z/summative", role="school_leader").status_code == 404
    assert read(reports, settings, make_trust(), path, role="trust_leader").status_code == 404


def test_an_auditors_read_of_the_grid_is_recorded(reports, settings, recorded, app_engine):
    answer = read(reports, settings, recorded, "/v1/classes/4A/summative", role="auditor", point_id="autumn-1",
                  academic_year=YEAR)
    assert answer.status_code == 200
    with TenantUnitOfWork(app_engine, recorded) as uow:
        reads = uow.connection.execute(text("SELECT sub, path, query, status FROM audit_reads")).all()
    assert [(r.sub, r.path, r.status) for r in reads] == [("auditor-1", "/v1/classes/4A/summative", 200)]
    assert "point_id=autumn-1" in reads[0].query


def test_the_scale_is_the_default_until_a_trust_leader_chooses_one(client, leader, reports, settings, trust,
                                                                   app_engine):
    first = read(reports, settings, trust, "/v1/summative-scale").json
    assert first["default"] is True and [c["code"] for c in first["codes"]] == ["WTS", "EXS", "GDS"]
    assert [c["at_or_above_expected"] for c in first["codes"]] == [False, True, True]
    assert client.post("/v1/summative-scale/presets/below-just-below-at-above", headers=leader).status_code == 200
    catch_up_trust(app_engine, trust)
    chosen = read(reports, settings, trust, "/v1/summative-scale").json
    assert (chosen["default"], chosen["scale_id"], chosen["expected_rank"]) == (False, "below-just-below-at-above", 3)
    csv = read(reports, settings, trust, "/v1/summative-scale", format="csv").get_data(as_text=True).splitlines()
    assert csv[0] == "code,label,words,rank,at_or_above_expected"
    assert csv[1] == "BLW,Below,Working below the expected standard for the year,1,false"


def test_the_openapi_document_lists_the_summative_reads(reports, client):
    paths = reports.get("/openapi.json").get_json()["paths"]
    grid_read = paths["/v1/classes/{class_id}/summative"]["get"]
    assert {p["name"] for p in grid_read["parameters"] if p["in"] == "query"} >= {
        "academic_year", "point_id", "subject", "format", "consistency"}
    assert {"200", "401", "403", "404", "422"} <= set(grid_read["responses"])
    assert "get" in paths["/v1/summative-scale"]
    commands = client.get("/openapi.json").json["paths"]
    assert {"/v1/summative-scale", "/v1/summative-scale/presets/{preset}", "/v1/classes/{class_id}/summative",
            "/v1/summative-judgements/{judgement_id}/correction",
            "/v1/summative-judgements/{judgement_id}/withdrawal"} <= set(commands)
    assert {"422", "403", "404"} <= set(commands["/v1/classes/{class_id}/summative"]["post"]["responses"])


def test_the_pupil_profile_shows_codes_across_points_and_years_in_time_order(reports, settings, recorded, client,
                                                                              leader, app_engine):
    """Year to year: last summer's code and this year's on the profile, each placed by its point's dates."""
    assert client.post("/v1/summative-judgements/" + read(
        reports, settings, recorded, "/v1/classes/4A/summative", academic_year=YEAR, point_id="autumn-1",
        subject="maths").json["pupils"][1]["judgement_id"] + "/withdrawal", json={"reason": "Wrong pupil"},
        headers=leader).status_code == 201  # p2's autumn-1 code: withdrawn codes are not shown
    catch_up_trust(app_engine, recorded)
    body = read(reports, settings, recorded, "/v1/pupils/p1").json
    codes = [(c["academic_year"], c["point_id"], c["subject"], c["code"]) for c in body["summative"]]
    assert codes == [(LAST_YEAR, "summer-2", "maths", "EXS"), (YEAR, "autumn-1", "maths", "WTS"),
                     (YEAR, "autumn-2", "maths", "EXS")]
    first = body["summative"][0]
    assert (first["point_name"], first["ends_on"], first["label"], first["at_or_above_expected"], first["class_id"]) \
        == ("Summer 2", "2026-08-31", "Expected", True, "4A")
    assert body["summative"][1]["at_or_above_expected"] is False
    p2 = read(reports, settings, recorded, "/v1/pupils/p2").json["summative"]
    assert [(c["academic_year"], c["point_id"]) for c in p2] == [(LAST_YEAR, "summer-2")]
    assert read(reports, settings, recorded, "/v1/pupils/p1", classes=("4B",)).status_code == 403


def test_the_pupils_summative_codes_export_as_csv(reports, settings, recorded):
    """The profile's year-to-year codes as their own CSV (``table=summative``); the default CSV stays the judgement
    history, and an unknown table is named."""
    answer = read(reports, settings, recorded, "/v1/pupils/p1", format="csv", table="summative")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="pupil-p1-summative_codes.csv"' in answer.headers["Content-Disposition"]
    assert answer.get_data(as_text=True).splitlines() == [
        "subject,academic_year,point_id,point_name,starts_on,ends_on,code,label,rank,at_or_above_expected,class_id",
        f"maths,{LAST_YEAR},summer-2,Summer 2,2026-06-01,2026-08-31,EXS,Expected,2,true,4A",
        f"maths,{YEAR},autumn-1,Autumn 1,2026-09-01,2026-10-31,WTS,Working towards,1,false,4A",
        f"maths,{YEAR},autumn-2,Autumn 2,2026-11-01,2026-12-31,EXS,Expected,2,true,4A"]
    history = read(reports, settings, recorded, "/v1/pupils/p1", format="csv").get_data(as_text=True)
    assert history.splitlines()[0].startswith("objective_id,code,subject,judgement_id")
    refused = read(reports, settings, recorded, "/v1/pupils/p1", format="csv", table="codes")
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["query.table"]
