"""The assessment calendar against the real database: set by trust leaders, projected, read by every reader.

``PUT /v1/calendar/{academic_year}`` (command API) appends one ``AssessmentPointsSet`` with the year's whole
list; the fold keeps it in ``rm_assessment_calendars``; ``GET /v1/calendar`` (reports) answers it, or the
six default half terms while the trust has not set the year.
"""

from __future__ import annotations

import pytest

from fathom_reports import create_app as create_reports
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.writer import apply_from_store
from tests.support import bearer, events_of, token_for

YEAR = "2026-27"
POINTS = [
    {"point_id": "autumn-1", "name": "Autumn 1", "starts_on": "2026-09-02", "ends_on": "2026-10-23"},
    {"point_id": "autumn-2", "name": "Autumn 2", "starts_on": "2026-11-02", "ends_on": "2026-12-18"},
    {"point_id": "spring", "name": "Spring", "starts_on": "2027-01-05", "ends_on": "2027-03-26"},
    {"point_id": "summer", "name": "Summer", "starts_on": "2027-04-12", "ends_on": "2027-07-21"},
]


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


def project(engine, trust: str) -> None:
    with TenantUnitOfWork(engine, trust) as uow:
        assert apply_from_store(uow.connection, trust, after=0).dead_letters == []
        uow.commit()


def read(reports, settings, trust: str, role: str = "teacher", **query: str):
    headers = bearer(token_for(settings, trust, [role], schools=["s"], classes=["c"]))
    return reports.get("/v1/calendar", headers=headers, query_string=query)


def test_a_trust_leader_sets_the_years_points_in_one_event(client, leader, app_engine, trust):
    response = client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS}, headers=leader)
    assert response.status_code == 200, response.json
    [event] = events_of(app_engine, trust)
    assert (event.stream_type, event.stream_id, event.event_type) == ("calendar", YEAR, "AssessmentPointsSet")
    assert event.data == {"academic_year": YEAR, "points": POINTS}


def test_every_reader_sees_the_points_as_set_and_a_new_list_replaces_them(client, leader, reports, settings,
                                                                         app_engine, trust):
    assert client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS}, headers=leader).status_code == 200
    assert client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS[:2]}, headers=leader).status_code == 200
    project(app_engine, trust)

    for role in ("teacher", "school_leader", "trust_leader", "auditor"):
        answer = read(reports, settings, trust, role, academic_year=YEAR)
        assert answer.status_code == 200, answer.json
        assert answer.json["points"] == POINTS[:2] and answer.json["default"] is False


def test_a_year_never_set_answers_the_default_half_terms(reports, settings, trust):
    answer = read(reports, settings, trust, academic_year="2027-28").json
    assert answer["default"] is True
    assert [p["point_id"] for p in answer["points"]] == [
        "autumn-1", "autumn-2", "spring-1", "spring-2", "summer-1", "summer-2"]
    assert answer["points"][0]["starts_on"] == "2027-09-01"


def test_another_trusts_calendar_is_never_seen(client, leader, reports, settings, app_engine, trust, make_trust):
    client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS}, headers=leader)
    project(app_engine, trust)
    other = make_trust()
    assert read(reports, settings, other, academic_year=YEAR).json["default"] is True


def test_the_calendar_exports_as_csv(client, leader, reports, settings, app_engine, trust):
    client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS}, headers=leader)
    project(app_engine, trust)
    answer = read(reports, settings, trust, academic_year=YEAR, format="csv")
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == "academic_year,point_id,name,starts_on,ends_on"
    assert lines[1] == f"{YEAR},autumn-1,Autumn 1,2026-09-02,2026-10-23" and len(lines) == 1 + len(POINTS)


def shifted(n: int, **changes: str) -> list[dict]:
    return [{**p, **changes} if i == n else p for i, p in enumerate(POINTS)]


@pytest.mark.parametrize(("year", "body", "field"), [
    ("2026-28", {"points": POINTS}, "academic_year"),
    (YEAR, {"points": []}, "points"),
    (YEAR, {"points": shifted(1, starts_on="2026-10-23")}, "points.1.starts_on"),
    (YEAR, {"points": shifted(0, ends_on="2026-09-01")}, "points.0.ends_on"),
    (YEAR, {"points": shifted(3, ends_on="2027-09-01")}, "points.3.ends_on"),
    (YEAR, {"points": shifted(2, point_id="autumn-1")}, "points.2.point_id"),
    (YEAR, {"points": shifted(0, point_id="Autumn 1")}, "points.0.point_id"),
    (YEAR, {"points": shifted(0, name="")}, "points.0.name"),
    (YEAR, {"points": shifted(0, starts_on="2026-02-30")}, "points.0.starts_on"),
    (YEAR, {}, "points"),
])
def test_what_is_not_a_calendar_is_refused_naming_the_field(client, leader, app_engine, trust, year, body, field):
    response = client.put(f"/v1/calendar/{year}", json=body, headers=leader)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert events_of(app_engine, trust) == []


@pytest.mark.parametrize("role", ["teacher", "school_leader", "integration", "auditor"])
def test_only_trust_leaders_set_the_calendar(client, settings, app_engine, trust, role):
    headers = bearer(token_for(settings, trust, [role], schools=["s"], classes=["c"]))
    assert client.put(f"/v1/calendar/{YEAR}", json={"points": POINTS}, headers=headers).status_code == 403
    assert events_of(app_engine, trust) == []


def test_an_unknown_year_in_the_query_names_it(reports, settings, trust):
    answer = read(reports, settings, trust, academic_year="2026")
    assert answer.status_code == 422 and "query.academic_year" in answer.json["errors"]
