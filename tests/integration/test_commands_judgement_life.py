"""Corrections and withdrawals of earlier judgements: new events pointing at the original."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from fathom_api.validation import school_today
from fathom_shared.db import TenantUnitOfWork
from tests.support import actor_sub, bearer, events_of, personal_text, token_for


@pytest.fixture
def recorded(client, leader, small):
    """Two judgements: p1 (class 4A) and p7 (class 4B) on m4-1; their event ids."""
    batch = [{"pupil_id": p, "objective_id": "m4-1", "value": 2, "assessed_on": school_today().isoformat()}
             for p in ("p1", "p7")]
    response = client.post("/v1/judgements", json={"judgements": batch}, headers=leader)
    assert response.status_code == 201
    return response.json["event_ids"]


def test_correction_appends_on_the_pupil_stream_pointing_at_the_original(
        client, leader, recorded, app_engine, trust):
    response = client.post(f"/v1/judgements/{recorded[0]}/correction", headers=leader,
                           json={"value": 3, "reason": "Mis-keyed", "expected_version": 2})
    assert response.status_code == 201, response.json
    assert response.json["id"] == "p1" and response.json["stream_version"] == 3
    [event] = events_of(app_engine, trust, "JudgementCorrected")
    assert (event.stream_type, event.stream_id) == ("pupil", "p1")
    assert event.data == {"judgement_id": recorded[0], "pupil_id": "p1", "objective_id": "m4-1",
                          "value": 3, "reason_ref": event.data["reason_ref"]}
    assert personal_text(app_engine, trust, event.data["reason_ref"]) == "Mis-keyed"
    assert actor_sub(app_engine, trust, event) == "head"


def test_withdrawal_then_no_second_withdrawal_or_correction(client, leader, recorded, app_engine, trust):
    first = client.post(f"/v1/judgements/{recorded[0]}/withdrawal", json={"reason": "Wrong pupil"}, headers=leader)
    assert first.status_code == 201
    [event] = events_of(app_engine, trust, "JudgementWithdrawn")
    assert event.data == {"judgement_id": recorded[0], "pupil_id": "p1", "objective_id": "m4-1",
                          "reason_ref": event.data["reason_ref"]}
    assert personal_text(app_engine, trust, event.data["reason_ref"]) == "Wrong pupil"
    again = client.post(f"/v1/judgements/{recorded[0]}/withdrawal", json={"reason": "x"}, headers=leader)
    correct = client.post(f"/v1/judgements/{recorded[0]}/correction", json={"value": 3, "reason": "x"},
                          headers=leader)
    assert again.status_code == correct.status_code == 409
    assert len(events_of(app_engine, trust, "JudgementWithdrawn", "JudgementCorrected")) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": 9, "reason": "x"}, "value"),
        ({"value": "3", "reason": "x"}, "value"),
        ({"value": 3}, "reason"),
        ({"value": 3, "reason": ""}, "reason"),
        ({"reason": "x"}, "value"),
        ({"value": 3, "reason": "x", "extra": 1}, "extra"),
        ({"value": 3, "reason": "x", "expected_version": "2"}, "expected_version"),
    ],
)
def test_bad_corrections_name_the_field_and_append_nothing(client, leader, recorded, app_engine, trust, body, field):
    before = len(events_of(app_engine, trust))
    response = client.post(f"/v1/judgements/{recorded[0]}/correction", json=body, headers=leader)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json["errors"]
    assert len(events_of(app_engine, trust)) == before


def test_stale_expected_version_is_a_conflict(client, leader, recorded, app_engine, trust):
    response = client.post(f"/v1/judgements/{recorded[0]}/withdrawal", headers=leader,
                           json={"reason": "x", "expected_version": 1})
    assert response.status_code == 409
    assert events_of(app_engine, trust, "JudgementWithdrawn") == []


def test_unknown_malformed_and_other_trusts_judgements_are_not_found(
        client, settings, leader, recorded, make_trust, app_engine, trust):
    other = make_trust("other")
    other_leader = bearer(token_for(settings, other, ["trust_leader"]))
    for judgement_id, headers in ((str(uuid.uuid4()), leader), ("not-a-uuid", leader), (recorded[0], other_leader)):
        response = client.post(f"/v1/judgements/{judgement_id}/withdrawal", json={"reason": "x"}, headers=headers)
        assert response.status_code == 404, judgement_id
    # A pupil event that is not a judgement is not a judgement.
    registered = events_of(app_engine, trust, "PupilRegistered")[0].event_id
    assert client.post(f"/v1/judgements/{registered}/withdrawal", json={"reason": "x"},
                       headers=leader).status_code == 404


def test_teachers_amend_only_their_classes_by_token_or_staff_assignment(
        client, settings, recorded, app_engine, trust):
    teacher_a = bearer(token_for(settings, trust, ["teacher"], sub="ms-a", classes=["4A"]))
    assert client.post(f"/v1/judgements/{recorded[0]}/correction", json={"value": 4, "reason": "x"},
                       headers=teacher_a).status_code == 201
    refused = client.post(f"/v1/judgements/{recorded[1]}/correction", json={"value": 4, "reason": "x"},
                          headers=teacher_a)
    assert refused.status_code == 403
    auditor = bearer(token_for(settings, trust, ["auditor"]))
    assert client.post(f"/v1/judgements/{recorded[1]}/withdrawal", json={"reason": "x"},
                       headers=auditor).status_code == 403
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text("INSERT INTO staff_assignments VALUES (:t, 'ms-a', '4B')"), {"t": trust})
        uow.commit()
    assert client.post(f"/v1/judgements/{recorded[1]}/correction", json={"value": 4, "reason": "x"},
                       headers=teacher_a).status_code == 201
    leader_b = bearer(token_for(settings, trust, ["school_leader"], schools=["elsewhere"]))
    assert client.post(f"/v1/judgements/{recorded[1]}/withdrawal", json={"reason": "x"},
                       headers=leader_b).status_code == 403
    assert len(events_of(app_engine, trust, "JudgementCorrected")) == 2


def test_a_teacher_neither_amends_a_moderators_judgement_nor_makes_one(
        client, settings, leader, small, app_engine, trust):
    """A moderator's judgement is corrected or withdrawn only by a moderating role (403 otherwise), and a
    correction cannot carry a source (422): a teacher cannot change what the moderation figures compare."""
    moderated = client.post("/v1/judgements", headers=leader, json={"judgements": [{
        "pupil_id": "p1", "objective_id": "m4-1", "value": 2, "assessed_on": school_today().isoformat(),
        "source": "moderator"}]}).json["event_ids"][0]
    teacher_a = bearer(token_for(settings, trust, ["teacher"], sub="ms-a", classes=["4A"]))
    for action, body in (("correction", {"value": 4, "reason": "I disagree"}), ("withdrawal", {"reason": "No"})):
        refused = client.post(f"/v1/judgements/{moderated}/{action}", json=body, headers=teacher_a)
        assert refused.status_code == 403, refused.json
        assert refused.json["errors"] == {"judgement_id": [
            "Moderator judgements are recorded, corrected and withdrawn only by school or trust leaders."]}
    own = client.post("/v1/judgements", headers=teacher_a, json={"judgements": [{
        "pupil_id": "p1", "objective_id": "m4-1", "value": 2, "assessed_on": school_today().isoformat()}]})
    relabel = client.post(f"/v1/judgements/{own.json['event_ids'][0]}/correction", headers=teacher_a,
                          json={"value": 2, "reason": "x", "source": "moderator"})
    assert relabel.status_code == 422 and "source" in relabel.json["errors"]
    school_leader = bearer(token_for(settings, trust, ["school_leader"], schools=[small.school]))
    assert client.post(f"/v1/judgements/{moderated}/correction", json={"value": 3, "reason": "Agreed at panel"},
                       headers=school_leader).status_code == 201
    assert [actor_sub(app_engine, trust, e) for e in events_of(app_engine, trust, "JudgementCorrected")] == ["tester"]


def test_idempotent_retry_appends_once(client, leader, recorded, app_engine, trust):
    headers = {**leader, "Idempotency-Key": "fix-1"}
    body = {"value": 4, "reason": "Typo"}
    first = client.post(f"/v1/judgements/{recorded[0]}/correction", json=body, headers=headers)
    again = client.post(f"/v1/judgements/{recorded[0]}/correction", json=body, headers=headers)
    assert first.json == again.json
    assert len(events_of(app_engine, trust, "JudgementCorrected")) == 1


def test_new_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert "post" in paths["/v1/judgements/{judgement_id}/correction"]
    assert "post" in paths["/v1/judgements/{judgement_id}/withdrawal"]
