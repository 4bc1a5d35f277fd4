"""Intervention impact measures each pupil from the day they joined, through the API and the read model.

Before, ``InterventionPupilsChanged.changed_on`` reached no read model, so a pupil added a week in was
measured from the start date: their "before" was the judgement made that week, inside the intervention,
and the live view, a rebuild and ``as_of`` all agreed on that wrong answer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fathom_api.validation import school_today
from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from tests.support import poster

TODAY = school_today()
START, JOINED = TODAY - timedelta(days=14), TODAY - timedelta(days=7)


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


def judged(pupil_id: str, value: int, day) -> dict:
    return {"pupil_id": pupil_id, "objective_id": "m4-1", "value": value, "assessed_on": day.isoformat()}


def test_a_pupil_added_later_is_measured_from_the_day_they_joined(client, reports, leader, small, trust,
                                                                  app_engine):
    post = poster(client, leader)
    post("/v1/judgements", {"judgements": [
        judged("p1", 1, START - timedelta(days=1)), judged("p1", 3, TODAY),
        judged("p2", 1, START - timedelta(days=1)),     # before the intervention started
        judged("p2", 2, START + timedelta(days=3)),     # while p1 was in it and p2 was not yet
        judged("p2", 4, TODAY)]})
    post("/v1/interventions", {"id": "boost", "name": "Boost", "lead": "ms-reid", "pupil_ids": ["p1"],
                               "objective_ids": ["m4-1"], "start_date": START.isoformat()})
    post("/v1/interventions/boost/pupils", {"add": ["p2"], "remove": [], "changed_on": JOINED.isoformat()})
    sequence = rebuild_trust(app_engine, trust)

    for query in ({}, {"as_of": str(sequence)}):
        answer = reports.get("/v1/interventions/boost", headers=leader, query_string=query)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert [(p["pupil_id"], p["joined_on"]) for p in body["pupils"]] == [
            ("p1", START.isoformat()), ("p2", JOINED.isoformat())]
        rows = {r["pupil_id"]: r for r in body["rows"]}
        assert (rows["p1"]["before"]["value"], rows["p1"]["after"]["value"], rows["p1"]["change"]) == (1, 3, 2)
        assert rows["p2"]["before"] == {"value": 2, "label": "Developing", "secure": False,
                                        "assessed_on": (START + timedelta(days=3)).isoformat()}
        assert (rows["p2"]["after"]["value"], rows["p2"]["change"]) == (4, 2)
