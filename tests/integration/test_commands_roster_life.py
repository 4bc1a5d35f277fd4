"""Pupil moves, leavers, group changes and erasure; staff assignments to classes."""

from __future__ import annotations

import json

import pytest

from fathom_api.validation import school_today
from tests.support import SmallTrust, actor_sub, bearer, events_of, poster, rows_of, staff_sub, token_for

TODAY = school_today().isoformat()


@pytest.fixture
def small(client, leader):
    small = SmallTrust().create(poster(client, leader))
    poster(client, leader)("/v1/classes", {"id": "5A", "school_id": small.school, "name": "5A", "year_group": 5,
                                           "academic_year": "2026-27"})
    return small


def test_move_takes_the_new_classes_year_group_and_none_keeps_it(client, leader, small, app_engine, trust):
    moved = client.post("/v1/pupils/p1/move", json={"class_id": "5A", "moved_on": TODAY}, headers=leader)
    assert moved.status_code == 201, moved.json
    out = client.post("/v1/pupils/p2/move", json={"class_id": None, "moved_on": TODAY}, headers=leader)
    assert out.status_code == 201
    assert [e.data for e in events_of(app_engine, trust, "PupilMoved")] == [
        {"pupil_id": "p1", "class_id": "5A", "year_group": 5, "moved_on": TODAY},
        {"pupil_id": "p2", "class_id": None, "year_group": 4, "moved_on": TODAY}]
    assert rows_of(app_engine, trust, "SELECT class_id, year_group FROM pupils WHERE pupil_id IN ('p1', 'p2') "
                   "ORDER BY pupil_id") == [("5A", 5), (None, 4)]


def test_bad_moves(client, leader, small, app_engine, trust, settings, make_trust):
    other_school = {"id": "sch-2", "name": "Elm"}
    poster(client, leader)("/v1/schools", other_school)
    poster(client, leader)("/v1/classes", {"id": "E4", "school_id": "sch-2", "name": "E4", "year_group": 4,
                                           "academic_year": "2026-27"})
    before = len(events_of(app_engine, trust))
    for body, field in (({"class_id": "E4", "moved_on": TODAY}, "class_id"),
                        ({"class_id": "ghost", "moved_on": TODAY}, "class_id"),
                        ({"class_id": "4A", "moved_on": TODAY}, "class_id"),
                        ({"class_id": "5A", "moved_on": "2999-01-01"}, "moved_on"),
                        ({"moved_on": TODAY}, "class_id")):
        response = client.post("/v1/pupils/p1/move", json=body, headers=leader)
        assert response.status_code == 422 and field in response.json["errors"], body
    assert client.post("/v1/pupils/ghost/move", json={"class_id": "5A", "moved_on": TODAY},
                       headers=leader).status_code == 404
    other = bearer(token_for(settings, make_trust("other"), ["trust_leader"]))
    assert client.post("/v1/pupils/p1/move", json={"class_id": None, "moved_on": TODAY},
                       headers=other).status_code == 404
    elsewhere = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-2"]))
    assert client.post("/v1/pupils/p1/move", json={"class_id": None, "moved_on": TODAY},
                       headers=elsewhere).status_code == 403
    teacher = bearer(token_for(settings, trust, ["teacher"], classes=["4A"]))
    assert client.post("/v1/pupils/p1/move", json={"class_id": None, "moved_on": TODAY},
                       headers=teacher).status_code == 403
    assert len(events_of(app_engine, trust)) == before


def test_a_leaver_gets_no_new_judgements_and_cannot_leave_twice(client, leader, small, app_engine, trust, settings):
    own = bearer(token_for(settings, trust, ["school_leader"], schools=[small.school]))
    assert client.post("/v1/pupils/p3/leaving", json={"left_on": TODAY}, headers=own).status_code == 201
    [event] = events_of(app_engine, trust, "PupilLeft")
    assert event.data == {"pupil_id": "p3", "left_on": TODAY}
    assert client.post("/v1/pupils/p3/leaving", json={"left_on": TODAY}, headers=leader).status_code == 409
    assert client.post("/v1/pupils/p4/leaving", json={"left_on": "2999-01-01"}, headers=leader).status_code == 422
    judged = client.post("/v1/judgements", headers=leader, json={"judgements": [
        {"pupil_id": "p3", "objective_id": "m4-1", "value": 3, "assessed_on": TODAY}]})
    assert judged.status_code == 422 and judged.json["errors"] == {"judgements.0.pupil_id": ["Pupil has left."]}
    assert client.post("/v1/pupils/p3/move", json={"class_id": None, "moved_on": TODAY},
                       headers=leader).status_code == 422
    assert len(events_of(app_engine, trust, "PupilLeft", "JudgementRecorded", "PupilMoved")) == 1


def test_groups_change_with_custom_groups_and_unchanged_appends_nothing(client, leader, small, app_engine, trust):
    groups = {"pupil_premium": True, "sen": "ehcp", "eal": False, "gender": "female", "more_able": False,
              "custom": ["looked after"]}
    response = client.put("/v1/pupils/p1/groups", json={"groups": groups}, headers=leader)
    assert response.status_code == 200
    same = client.put("/v1/pupils/p1/groups", json={"groups": groups}, headers=leader)
    assert same.status_code == 200 and same.json["sequences"] == []
    [event] = events_of(app_engine, trust, "PupilGroupsChanged")
    assert event.data == {"pupil_id": "p1", "groups": groups}
    assert rows_of(app_engine, trust, "SELECT groups FROM pupils WHERE pupil_id = 'p1'")[0].groups == groups
    bad = client.put("/v1/pupils/p1/groups", json={"groups": {"sen": "lots", "custom": [""]}}, headers=leader)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"groups.sen", "groups.custom.0"}


def test_registration_accepts_custom_groups(client, leader, small, app_engine, trust):
    poster(client, leader)("/v1/pupils", {"id": "p9", "school_id": small.school, "class_id": "4A",
                                          "groups": {"custom": ["service child"]}})
    assert events_of(app_engine, trust, "PupilRegistered")[-1].data["groups"]["custom"] == ["service child"]


def test_erasure_blanks_personal_data_and_keeps_the_pupil(client, leader, small, app_engine, trust):
    response = client.delete("/v1/pupils/p2/personal-data", headers=leader)
    assert response.status_code == 200, response.json
    [event] = events_of(app_engine, trust, "PupilErased")
    assert event.data == {"pupil_id": "p2"}
    assert "Given1" not in json.dumps(event.data)
    assert rows_of(app_engine, trust, "SELECT given_name, family_name, date_of_birth, upn FROM pupil_personal "
                   "WHERE pupil_id = 'p2'") == [(None, None, None, None)]
    assert rows_of(app_engine, trust, "SELECT erased FROM pupils WHERE pupil_id = 'p2'")[0].erased
    assert rows_of(app_engine, trust, "SELECT count(*) FROM pupil_personal WHERE given_name IS NOT NULL")[0][0] == 7
    assert client.delete("/v1/pupils/p2/personal-data", headers=leader).status_code == 409
    assert client.delete("/v1/pupils/ghost/personal-data", headers=leader).status_code == 404


def test_staff_assignment_lets_a_teacher_write_for_the_class(client, leader, small, app_engine, trust, settings):
    teacher = bearer(token_for(settings, trust, ["teacher"], sub="mr-b"))
    body = {"judgements": [{"pupil_id": "p7", "objective_id": "m4-1", "value": 3, "assessed_on": TODAY}]}
    assert client.post("/v1/judgements", json=body, headers=teacher).status_code == 403
    assigned = client.post("/v1/classes/4B/staff", json={"staff_sub": "mr-b"}, headers=leader)
    assert assigned.status_code == 201 and len(assigned.json["sequences"]) == 1
    again = client.post("/v1/classes/4B/staff", json={"staff_sub": "mr-b"}, headers=leader)
    assert again.status_code == 201 and again.json["sequences"] == []
    assert client.post("/v1/judgements", json=body, headers=teacher).status_code == 201
    assert client.delete("/v1/classes/4B/staff/mr-b", headers=leader).status_code == 200
    assert client.delete("/v1/classes/4B/staff/mr-b", headers=leader).status_code == 404
    assert client.post("/v1/judgements", json=body, headers=teacher).status_code == 403
    assert client.post("/v1/classes/ghost/staff", json={"staff_sub": "x"}, headers=leader).status_code == 404
    assert client.post("/v1/classes/4B/staff", json={}, headers=leader).json["errors"] == {
        "staff_sub": ["Missing data for required field."]}
    assert client.post("/v1/classes/4B/staff", json={"staff_sub": "x"}, headers=teacher).status_code == 403
    assert [(e.stream_type, e.stream_id, e.event_type, e.data["class_id"],
             staff_sub(app_engine, trust, e.data["staff_ref"]), actor_sub(app_engine, trust, e))
            for e in events_of(app_engine, trust, "StaffAssigned", "StaffUnassigned")] == [
        ("class_staff", "4B", "StaffAssigned", "4B", "mr-b", "head"),
        ("class_staff", "4B", "StaffUnassigned", "4B", "mr-b", "head")]
    paths = client.get("/openapi.json").json["paths"]
    assert "delete" in paths["/v1/classes/{class_id}/staff/{staff_sub}"]
    assert "delete" in paths["/v1/pupils/{pupil_id}/personal-data"]
    assert {"/v1/pupils/{pupil_id}/move", "/v1/pupils/{pupil_id}/leaving", "/v1/pupils/{pupil_id}/groups"} <= set(paths)
