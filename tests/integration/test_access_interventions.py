"""Who may change an intervention, and whose rows its impact shows.

Before: any teacher or school leader could end any intervention of the trust, and a teacher could add
one of their own pupils to another class's intervention and then read all of it — the other pupils'
names and judgements. Now changing it needs its lead or someone who may act on every pupil in it, and a
reader who does not lead it sees only the rows of pupils they may read themselves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fathom_api.validation import school_today
from fathom_projector.rebuild import rebuild_trust
from fathom_reports import create_app as create_reports
from tests.support import bearer, events_of, poster, token_for

TODAY = school_today()
CHANGES = ("InterventionPupilsChanged", "InterventionEnded")


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


@pytest.fixture
def groups(client, leader, small):
    """``b-group``: 4B's p7 and p8, led by someone else; ``mixed``: p1 (4A) and p7 (4B), led by ``t-a``."""
    start = (TODAY - timedelta(days=7)).isoformat()
    post = poster(client, leader)
    post("/v1/interventions", {"id": "b-group", "name": "Fractions", "lead": "ms-reid", "pupil_ids": ["p7", "p8"],
                               "objective_ids": ["m4-1"], "start_date": start})
    post("/v1/interventions", {"id": "mixed", "name": "Times tables", "lead": "t-a", "pupil_ids": ["p1", "p7"],
                               "objective_ids": ["m4-1"], "start_date": start})
    return small


def teacher(settings, trust, classes, sub):
    return bearer(token_for(settings, trust, ["teacher"], classes=classes, sub=sub))


def end(client, intervention_id, headers):
    return client.post(f"/v1/interventions/{intervention_id}/end", headers=headers,
                       json={"end_date": TODAY.isoformat(), "outcome": "Secure now"})


def change(client, intervention_id, headers, add=(), remove=()):
    return client.post(f"/v1/interventions/{intervention_id}/pupils", headers=headers,
                       json={"add": list(add), "remove": list(remove), "changed_on": TODAY.isoformat()})


def test_a_teacher_cannot_end_or_join_another_classs_intervention(client, groups, settings, trust, app_engine):
    of_4a = teacher(settings, trust, ["4A"], "t-x")
    ended = end(client, "b-group", of_4a)
    assert ended.status_code == 403, ended.json
    joined = change(client, "b-group", of_4a, add=["p1"])  # p1 is theirs, the group is not
    assert joined.status_code == 403, joined.json
    assert change(client, "mixed", of_4a, remove=["p7"]).status_code == 403  # holds p1 only, does not lead it
    assert end(client, "mixed", teacher(settings, trust, ["4B"], "t-y")).status_code == 403
    other_school = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-9"]))
    assert end(client, "b-group", other_school).status_code == 403
    assert events_of(app_engine, trust, *CHANGES) == []


def test_its_lead_or_whoever_acts_on_every_pupil_changes_it(client, leader, groups, settings, trust, app_engine):
    lead = teacher(settings, trust, ["4A"], "t-a")
    assert change(client, "mixed", lead, remove=["p7"]).status_code == 201  # p7 is not theirs, the group is
    assert change(client, "mixed", lead, add=["p8"]).status_code == 403  # joining still needs the pupil
    assert end(client, "mixed", lead).status_code == 201
    assert client.post("/v1/classes/4B/staff", json={"staff_sub": "ms-b"}, headers=leader).status_code == 201
    assigned_to_4b = teacher(settings, trust, [], "ms-b")
    assert change(client, "b-group", assigned_to_4b, remove=["p8"]).status_code == 201
    head = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-1"]))
    assert end(client, "b-group", head).status_code == 201
    assert [e.event_type for e in events_of(app_engine, trust, *CHANGES)] == [
        "InterventionPupilsChanged", "InterventionEnded", "InterventionPupilsChanged", "InterventionEnded"]


def test_adding_a_pupil_never_opens_the_rest_of_the_group(client, reports, leader, groups, settings, trust,
                                                           app_engine):
    assert change(client, "b-group", leader, add=["p1"]).status_code == 201  # a leader may; now p1, p7, p8
    sequence = rebuild_trust(app_engine, trust)

    def seen(headers, **query):
        answer = reports.get("/v1/interventions/b-group", headers=headers, query_string=query)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert {r["pupil_id"] for r in body["rows"]} == {p["pupil_id"] for p in body["pupils"]}
        return sorted(p["pupil_id"] for p in body["pupils"])

    of_4a = teacher(settings, trust, ["4A"], "t-x")
    assert seen(of_4a) == ["p1"]
    assert seen(of_4a, as_of=str(sequence)) == ["p1"]
    body = reports.get("/v1/interventions/b-group", headers=of_4a).get_json()
    assert body["summary"]["pupils"] == 1 and "Given6" not in str(body)  # p7's name
    assert seen(teacher(settings, trust, ["4B"], "t-y")) == ["p7", "p8"]
    assert seen(teacher(settings, trust, [], "ms-reid")) == ["p1", "p7", "p8"]  # its lead
    assert seen(leader) == ["p1", "p7", "p8"]
    assert reports.get("/v1/interventions/b-group",
                       headers=teacher(settings, trust, ["9Z"], "t-z")).status_code == 403


def test_an_emptied_intervention_belongs_to_its_lead_and_trust_leaders(client, leader, groups, settings, trust):
    assert change(client, "b-group", leader, remove=["p7", "p8"]).status_code == 201
    of_4a = teacher(settings, trust, ["4A"], "t-x")
    assert change(client, "b-group", of_4a, add=["p1"]).status_code == 403  # no one's group to take over
    assert end(client, "b-group", bearer(token_for(settings, trust, ["school_leader"], schools=["sch-1"]))
               ).status_code == 403
    assert end(client, "b-group", teacher(settings, trust, [], "ms-reid")).status_code == 201  # its lead
