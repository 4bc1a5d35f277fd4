"""A registration takes effect on its ``enrolled_on``, and the pupil's history follows it.

Before, a pupil's class membership began on the day the registration was *recorded*: a pupil registered
today into a class that was taught last week showed ``taught_dates: []`` on their profile while the Class
Analysis showed the teaching. Registration now says when it takes effect; the profile, its ``as_of`` replay
and the class history all start there.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fathom_api.validation import school_today
from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from tests.support import events_of, poster

TODAY = school_today()
TERM_START, TAUGHT_ON = TODAY - timedelta(days=14), TODAY - timedelta(days=7)


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


@pytest.fixture
def taught(client, leader, small):
    post = poster(client, leader)
    post("/v1/objectives-taught", {"class_id": "4A", "objective_ids": ["m4-1"], "taught_on": TAUGHT_ON.isoformat()})
    return post


def register(client, leader, pupil_id, **extra):
    return client.post("/v1/pupils", headers=leader, json={
        "id": pupil_id, "school_id": "sch-1", "class_id": "4A", "given_name": "New", "family_name": "Pupil", **extra})


def taught_dates(reports, leader, pupil_id, **query):
    answer = reports.get(f"/v1/pupils/{pupil_id}", headers=leader, query_string=query)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    dates = {o["objective_id"]: o["taught_dates"] for o in body["objectives"]}
    return dates.get("m4-1", []), body["pupil"]["class_history"]


def test_teaching_after_the_day_a_pupil_was_enrolled_reaches_their_profile(client, reports, leader, taught, trust,
                                                                           app_engine):
    answer = register(client, leader, "p-new", enrolled_on=TERM_START.isoformat())
    assert answer.status_code == 201, answer.json
    [event] = events_of(app_engine, trust, "PupilRegistered")[-1:]
    assert (event.schema_version, event.data["enrolled_on"]) == (2, TERM_START.isoformat())
    sequence = rebuild_trust(app_engine, trust)

    dates, history = taught_dates(reports, leader, "p-new")
    assert dates == [TAUGHT_ON.isoformat()]
    assert history == [{"class_id": "4A", "name": "4A", "year_group": 4, "from_date": TERM_START.isoformat(),
                        "to_date": None}]
    assert taught_dates(reports, leader, "p-new", as_of=str(sequence)) == (dates, history)
    analysis = reports.get("/v1/classes/4A/analysis", headers=leader).get_json()
    assert {o["objective_id"]: o["taught_dates"] for o in analysis["objectives"]}["m4-1"] == [TAUGHT_ON.isoformat()]


def test_a_registration_without_a_date_takes_effect_today(client, reports, leader, taught, trust, app_engine):
    assert register(client, leader, "p-today").status_code == 201
    assert events_of(app_engine, trust, "PupilRegistered")[-1].data["enrolled_on"] == TODAY.isoformat()
    rebuild_trust(app_engine, trust)
    dates, history = taught_dates(reports, leader, "p-today")
    assert dates == [] and history[0]["from_date"] == TODAY.isoformat()  # taught before they came


def test_a_registration_in_the_future_is_refused_naming_the_field(client, leader, small, trust, app_engine):
    before = len(events_of(app_engine, trust))
    answer = register(client, leader, "p-later", enrolled_on=(TODAY + timedelta(days=1)).isoformat())
    assert answer.status_code == 422 and answer.json["errors"] == {"enrolled_on": ["Must not be in the future."]}
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert len(events_of(app_engine, trust)) == before


def test_openapi_documents_the_day_a_registration_takes_effect(client):
    spec = client.get("/openapi.json").json
    field = spec["components"]["schemas"]["PupilIn"]["properties"]["enrolled_on"]
    assert field["format"] == "date" and "Default: today" in field["description"]
    assert "enrolled_on" not in spec["components"]["schemas"]["PupilIn"].get("required", [])
