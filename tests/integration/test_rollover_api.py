"""The new school year on the real database: ``POST /v1/rollover`` (dry run, real run, again), roles, isolation,
and ``POST /v1/rollover/roster`` (the same from next year's OneRoster files).

The small trust has Year 4 classes 4A (p1-p6) and 4B (p7, p8) in 2026-27. The roll-over to 2027-28 creates 5A,
moves 4A's pupils and p7 into it (Year 5), lets p8 leave, and closes 4A and 4B.
"""

from __future__ import annotations

import io

import pytest

from fathom_api.validation import school_today
from fathom_reports import create_app as create_reports
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.writer import apply_from_store
from tests.integration.test_commands_roster_import import HEADERS, STUDENTS, oneroster, post_import, render
from tests.support import SmallTrust, bearer, events_of, poster, rows_of, token_for

TODAY = school_today().isoformat()
ROLLOVER = {"from_year": "2026-27", "to_year": "2027-28", "classes": {"4A": "5A", "4B": "5A"},
            "new_classes": [{"class_id": "5A", "school_id": "sch-1", "name": "5A", "year_group": 5}],
            "leavers": ["p8"], "effective_on": TODAY}


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


def roll(client, headers, **changes):
    return client.post("/v1/rollover", json={**ROLLOVER, **changes}, headers=headers)


def project(engine, trust):
    with TenantUnitOfWork(engine, trust) as uow:
        assert apply_from_store(uow.connection, trust, after=0).dead_letters == []
        uow.commit()


def test_a_dry_run_reports_exactly_what_will_change_and_appends_nothing(client, leader, small, trust, app_engine):
    before = len(events_of(app_engine, trust))
    answer = roll(client, leader, dry_run=True)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["dry_run"] is True and body["sequences"] == [] and body["last_sequence"] is None
    assert body["classes_created"] == [{"class_id": "5A", "school_id": "sch-1", "name": "5A", "year_group": 5,
                                        "academic_year": "2027-28"}]
    moved = {m["pupil_id"]: (m["from_class_id"], m["to_class_id"], m["from_year_group"], m["to_year_group"])
             for m in body["pupils_moved"]}
    assert moved == {**{p: ("4A", "5A", 4, 5) for p in small.pupils_a}, "p7": ("4B", "5A", 4, 5)}
    assert body["leavers"] == [{"pupil_id": "p8", "school_id": "sch-1", "class_id": "4B", "year_group": 4}]
    assert [c["class_id"] for c in body["classes_closed"]] == ["4A", "4B"]
    assert body["counts"] == {"classes_created": 1, "pupils_moved": 7, "leavers": 1, "classes_closed": 2}
    assert len(events_of(app_engine, trust)) == before
    assert rows_of(app_engine, trust, "SELECT class_id FROM classes WHERE class_id = '5A'") == []


def test_the_real_run_appends_in_one_go_and_history_stays_with_each_pupil(client, leader, small, trust, app_engine,
                                                                          reports):
    before = len(events_of(app_engine, trust))
    answer = roll(client, leader)
    assert answer.status_code == 201, answer.json
    appended = events_of(app_engine, trust)[before:]
    assert [e.event_type for e in appended] == ["ClassCreated", *["PupilMoved"] * 7, "PupilLeft", *["ClassClosed"] * 2]
    assert answer.json["sequences"] == [e.sequence for e in appended]
    assert {e.data["moved_on"] for e in appended if e.event_type == "PupilMoved"} == {TODAY}
    assert appended[-1].data == {"class_id": "4B", "closed_on": TODAY}
    assert sorted(rows_of(app_engine, trust, "SELECT class_id, closed_on IS NOT NULL AS closed FROM classes")) == [
        ("4A", True), ("4B", True), ("5A", False)]
    assert set(rows_of(app_engine, trust, "SELECT pupil_id, class_id, year_group FROM pupils WHERE left_on IS NULL")) \
        == {(p, "5A", 5) for p in [*small.pupils_a, "p7"]}

    project(app_engine, trust)
    assert rows_of(app_engine, trust, "SELECT class_id, closed_on::text FROM rm_classes ORDER BY class_id") == [
        ("4A", TODAY), ("4B", TODAY), ("5A", None)]
    profile = reports.get("/v1/pupils/p7", headers=leader).json
    assert [(h["class_id"], h["to_date"]) for h in profile["pupil"]["class_history"]] == [("4B", TODAY), ("5A", None)]
    assert reports.get("/v1/classes/4A/analysis", headers=leader).status_code == 200  # last year's class still reads
    directory = reports.get("/v1/directory", headers=leader).json
    assert directory["rollover"] is True
    assert {(c["class_id"], c["academic_year"], c["closed_on"], c["pupils"])
            for s in directory["schools"] for c in s["classes"]} == {
        ("4A", "2026-27", TODAY, 0), ("4B", "2026-27", TODAY, 0), ("5A", "2027-28", None, 7)}


def test_running_the_same_roll_over_twice_does_not_move_anyone_twice(client, leader, small, trust, app_engine):
    assert roll(client, leader).status_code == 201
    before = len(events_of(app_engine, trust))
    again = roll(client, leader)
    assert again.status_code == 200, again.json
    assert again.json["counts"] == {"classes_created": 0, "pupils_moved": 0, "leavers": 0, "classes_closed": 0}
    assert again.json["already_done"] == {"classes_created": ["5A"], "classes_closed": ["4A", "4B"],
                                          "leavers": ["p8"]}
    assert again.json["sequences"] == [] and len(events_of(app_engine, trust)) == before


def test_a_pupil_not_mapped_is_refused_naming_the_field_and_nothing_is_appended(client, leader, small, trust,
                                                                                 app_engine):
    before = len(events_of(app_engine, trust))
    answer = roll(client, leader, classes={"4A": "5A"})
    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert list(answer.json["errors"]) == ["classes.4B"] and "(p7)" in answer.json["errors"]["classes.4B"][0]
    answer = roll(client, leader, leavers="everyone")
    assert answer.status_code == 422 and "leavers" in answer.json["errors"]
    assert len(events_of(app_engine, trust)) == before


@pytest.mark.parametrize("role", ["teacher", "auditor"])
def test_teachers_and_auditors_cannot_roll_over(client, settings, small, trust, app_engine, role):
    before = len(events_of(app_engine, trust))
    headers = bearer(token_for(settings, trust, [role], schools=["sch-1"], classes=["4A", "4B"]))
    for body in ({}, {"school_id": "sch-1"}, {"dry_run": True}):
        answer = roll(client, headers, **body)
        assert answer.status_code == 403, answer.json
    assert len(events_of(app_engine, trust)) == before


def test_a_school_leader_rolls_over_their_own_school_only(client, settings, small, trust, app_engine):
    headers = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-1"]))
    assert roll(client, headers).status_code == 403  # the whole trust
    assert roll(client, bearer(token_for(settings, trust, ["school_leader"], schools=["elsewhere"])),
                school_id="sch-1").status_code == 403
    assert roll(client, headers, school_id="sch-1").status_code == 201


def test_another_trust_is_unaffected_and_cannot_be_named(client, leader, small, trust, make_trust, settings,
                                                         app_engine):
    other = make_trust("other")
    other_leader = bearer(token_for(settings, other, ["trust_leader"], sub="head"))
    SmallTrust().create(poster(client, other_leader))
    before = events_of(app_engine, other)
    assert roll(client, leader).status_code == 201
    assert events_of(app_engine, other) == before
    assert rows_of(app_engine, other, "SELECT count(*) FROM classes WHERE closed_on IS NOT NULL") == [(0,)]
    # The other trust's own roll-over still has everything to do: nothing of ours is visible to it.
    answer = roll(client, other_leader, dry_run=True)
    assert answer.status_code == 200 and answer.json["counts"]["pupils_moved"] == 7


def test_the_roll_over_is_in_openapi(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/v1/rollover", "/v1/rollover/roster"):
        assert {"200", "201", "403", "422"} <= set(paths[path]["post"]["responses"])
    assert "multipart/form-data" in paths["/v1/rollover/roster"]["post"]["requestBody"]["content"]


def next_years_roster() -> dict[str, list[dict[str, str]]]:
    """Next year's files for the roster import test's trust: 4A and 4B become one Year 5 class, Reception becomes
    Year 1 with a new pupil (s10), and s4 is not in the files (they left)."""
    files = oneroster()
    files["classes.csv"] = [
        {"sourcedId": "c-oak-5", "title": "5", "grades": "05", "schoolSourcedId": "sch-oak"},
        {"sourcedId": "c-elm-1", "title": "Robins 1", "grades": "01", "schoolSourcedId": "sch-elm"}]
    files["users.csv"] = [u for u in files["users.csv"] if u["sourcedId"] not in ("s4", "s9")] + [
        {"sourcedId": "s10", "username": "s10@pupils", "givenName": "Nia", "familyName": "Obi", "role": "student"}]
    next_class = {"c-oak-4a": "c-oak-5", "c-oak-4b": "c-oak-5", "c-elm-r": "c-elm-1"}
    files["enrollments.csv"] = [
        *({"sourcedId": f"n-{sid}", "classSourcedId": next_class[klass], "userSourcedId": sid, "role": "student"}
          for sid, (_, _, _, klass) in STUDENTS.items() if sid != "s4"),
        {"sourcedId": "n-s10", "classSourcedId": "c-elm-1", "userSourcedId": "s10", "role": "student"},
        {"sourcedId": "n-t1", "classSourcedId": "c-oak-5", "userSourcedId": "t1", "role": "teacher"}]
    return files


def post_roster_rollover(client, headers, files, dry_run=False, **query):
    data = {name: (io.BytesIO(render(rows, HEADERS[name])), name) for name, rows in files.items()}
    params = {"from_year": "2026-27", "to_year": "2027-28", "dry_run": str(dry_run).lower(), **query}
    return client.post("/v1/rollover/roster", headers=headers, query_string=params,
                       content_type="multipart/form-data", data=data)


def test_a_roll_over_from_next_years_roster_moves_leaves_closes_and_is_idempotent(client, leader, trust,
                                                                                   app_engine):
    assert post_import(client, leader, oneroster()).status_code == 201
    before = len(events_of(app_engine, trust))
    dry = post_roster_rollover(client, leader, next_years_roster(), dry_run=True)
    assert dry.status_code == 200, dry.json
    assert len(events_of(app_engine, trust)) == before
    body = dry.json
    assert {m["pupil_id"]: (m["from_class_id"], m["to_class_id"], m["to_year_group"]) for m in body["pupils_moved"]} \
        == {"s1": ("c-oak-4a", "c-oak-5", 5), "s2": ("c-oak-4a", "c-oak-5", 5), "s3": ("c-oak-4a", "c-oak-5", 5),
            "s5": ("c-oak-4b", "c-oak-5", 5), "s6": ("c-elm-r", "c-elm-1", 1), "s7": ("c-elm-r", "c-elm-1", 1),
            "s8": ("c-elm-r", "c-elm-1", 1)}
    assert [p["pupil_id"] for p in body["leavers"]] == ["s4"]
    assert [c["class_id"] for c in body["classes_created"]] == ["c-oak-5", "c-elm-1"]
    assert sorted(c["class_id"] for c in body["classes_closed"]) == ["c-elm-r", "c-oak-4a", "c-oak-4b"]
    assert body["import"]["pupils"]["created"] == 1  # s10, the new pupil

    real = post_roster_rollover(client, leader, next_years_roster())
    assert real.status_code == 201, real.json
    appended = events_of(app_engine, trust)[before:]
    assert sorted({e.event_type for e in appended}) == ["ClassClosed", "ClassCreated", "PupilLeft", "PupilMoved",
                                                        "PupilRegistered", "StaffAssigned"]
    assert rows_of(app_engine, trust, "SELECT pupil_id FROM pupils WHERE left_on IS NOT NULL") == [("s4",)]
    again = post_roster_rollover(client, leader, next_years_roster())
    assert again.status_code == 200, again.json
    assert again.json["counts"] == {"classes_created": 0, "pupils_moved": 0, "leavers": 0, "classes_closed": 0}
    assert len(events_of(app_engine, trust)) == before + len(appended)


def test_next_years_roster_must_not_enrol_anyone_in_last_years_class(client, leader, trust, app_engine):
    assert post_import(client, leader, oneroster()).status_code == 201
    files = next_years_roster()
    files["enrollments.csv"][0]["classSourcedId"] = "c-oak-4a"  # s1 kept in last year's class
    before = len(events_of(app_engine, trust))
    answer = post_roster_rollover(client, leader, files)
    assert answer.status_code == 422, answer.json
    [message] = answer.json["errors"]["enrollments.csv.2.classSourcedId"]
    assert message.startswith("Class c-oak-4a is a class of 2026-27")
    assert len(events_of(app_engine, trust)) == before
