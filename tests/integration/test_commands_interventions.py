"""Intervention life: pupils added and removed, then ended once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fathom_api.validation import school_today
from tests.support import SmallTrust, bearer, events_of, personal_text, poster, token_for

TODAY = school_today()


@pytest.fixture
def started(client, leader):
    SmallTrust().create(poster(client, leader))
    poster(client, leader)("/v1/interventions", {
        "id": "int-1", "name": "Place value", "lead": "Ms Reid", "pupil_ids": ["p1", "p2"],
        "objective_ids": ["m4-1"], "start_date": (TODAY - timedelta(days=7)).isoformat()})
    return "int-1"


def test_pupils_change_then_the_intervention_ends_once(client, leader, started, app_engine, trust):
    changed = client.post(f"/v1/interventions/{started}/pupils", headers=leader,
                          json={"add": ["p3", "p7"], "remove": ["p1"], "changed_on": TODAY.isoformat()})
    assert changed.status_code == 201, changed.json
    again = client.post(f"/v1/interventions/{started}/pupils", headers=leader,
                        json={"add": ["p1"], "remove": ["p3"], "changed_on": TODAY.isoformat()})
    assert again.status_code == 201, again.json
    ended = client.post(f"/v1/interventions/{started}/end", headers=leader,
                        json={"end_date": TODAY.isoformat(), "outcome": "Most now secure"})
    assert ended.status_code == 201 and ended.json["stream_version"] == 4
    changes = [e.data for e in events_of(app_engine, trust, "InterventionPupilsChanged", "InterventionEnded")]
    assert changes == [
        {"intervention_id": "int-1", "added": ["p3", "p7"], "removed": ["p1"], "changed_on": TODAY.isoformat()},
        {"intervention_id": "int-1", "added": ["p1"], "removed": ["p3"], "changed_on": TODAY.isoformat()},
        {"intervention_id": "int-1", "end_date": TODAY.isoformat(), "outcome_ref": changes[2]["outcome_ref"]}]
    assert personal_text(app_engine, trust, changes[2]["outcome_ref"]) == "Most now secure"
    assert client.post(f"/v1/interventions/{started}/end", headers=leader,
                       json={"end_date": TODAY.isoformat()}).status_code == 409
    assert client.post(f"/v1/interventions/{started}/pupils", headers=leader,
                       json={"add": ["p4"], "changed_on": TODAY.isoformat()}).status_code == 409


def test_bad_pupil_changes_name_each_entry(client, leader, started, app_engine, trust):
    before = len(events_of(app_engine, trust))
    response = client.post(f"/v1/interventions/{started}/pupils", headers=leader, json={
        "add": ["p2", "ghost"], "remove": ["p5"], "changed_on": (TODAY - timedelta(days=30)).isoformat()})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"add.0", "add.1", "remove.0", "changed_on"}
    empty = client.post(f"/v1/interventions/{started}/pupils", headers=leader, json={"changed_on": TODAY.isoformat()})
    assert empty.status_code == 422 and "add" in empty.json["errors"]
    early = client.post(f"/v1/interventions/{started}/end", headers=leader,
                        json={"end_date": (TODAY - timedelta(days=8)).isoformat()})
    assert early.status_code == 422 and "end_date" in early.json["errors"]
    assert client.post(f"/v1/interventions/{started}/end", headers=leader, json={}).status_code == 422
    assert len(events_of(app_engine, trust)) == before


def test_access_and_other_trusts(client, started, settings, trust, make_trust, app_engine):
    teacher = bearer(token_for(settings, trust, ["teacher"], classes=["4A"]))
    assert client.post(f"/v1/interventions/{started}/pupils", headers=teacher,
                       json={"add": ["p3"], "changed_on": TODAY.isoformat()}).status_code == 201
    refused = client.post(f"/v1/interventions/{started}/pupils", headers=teacher,
                          json={"add": ["p7"], "changed_on": TODAY.isoformat()})
    assert refused.status_code == 403 and "add.0" in refused.json["errors"]
    other = bearer(token_for(settings, make_trust("other"), ["trust_leader"]))
    for path, body in (("pupils", {"add": ["p3"], "changed_on": TODAY.isoformat()}),
                       ("end", {"end_date": TODAY.isoformat()})):
        assert client.post(f"/v1/interventions/{started}/{path}", headers=other, json=body).status_code == 404
    assert client.post("/v1/interventions/ghost/end", headers=teacher,
                       json={"end_date": TODAY.isoformat()}).status_code == 404
    assert len(events_of(app_engine, trust, "InterventionPupilsChanged", "InterventionEnded")) == 1
    paths = client.get("/openapi.json").json["paths"]
    assert {"/v1/interventions/{intervention_id}/pupils", "/v1/interventions/{intervention_id}/end"} <= set(paths)
