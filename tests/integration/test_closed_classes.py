"""Last year's classes are read-only after a roll-over: every command that writes to one is a 409 problem.

Refused, with nothing appended: objectives taught to it, a pupil moved or registered into it, staff assigned to
it or taken off it, a correction or withdrawal of a judgement recorded in it, summative codes saved to it or a
correction or withdrawal of one given in it; a roster import enrolling someone in it is a row error. Reads of it
keep working, and the pupils write on in their new class. Its reads (summative grid and CSV, report comments, Class
Analysis, falling behind) show the pupils who were in it when it closed, leavers too — of them, those the caller
may read now, so a teacher still assigned to last year's class sees only the pupils they teach this year.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fathom_api.validation import CLOSED, school_today
from fathom_reports import create_app as create_reports
from fathom_reports.loading.class_pupils import CLASS_PUPILS
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.writer import apply_from_store
from tests.integration.test_commands_roster_import import line_of, oneroster, post_import
from tests.support import bearer, events_of, token_for

TODAY = school_today().isoformat()
ROLLOVER = {"from_year": "2026-27", "to_year": "2027-28", "classes": {"4A": "5A", "4B": "5A"},
            "new_classes": [{"class_id": "5A", "school_id": "sch-1", "name": "5A", "year_group": 5}],
            "leavers": [], "effective_on": TODAY}
SUMMATIVE = {"academic_year": "2026-27", "point_id": "autumn-1", "subject": "maths",
             "entries": [{"pupil_id": "p1", "code": "EXS"}]}


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, engine=app_engine).test_client()


@pytest.fixture
def rolled_over(client, leader, small):
    """A judgement, a summative code and a teacher in 4A last year, then the roll-over (4A and 4B closed, everyone
    in 5A)."""
    recorded = client.post("/v1/judgements", headers=leader, json={"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 3, "assessed_on": TODAY}]})
    assert recorded.status_code == 201, recorded.json
    assert client.post("/v1/classes/4A/summative", headers=leader, json=SUMMATIVE).status_code == 201
    assert client.post("/v1/classes/4A/staff", headers=leader, json={"staff_sub": "ms.last"}).status_code == 201
    assert client.post("/v1/rollover", headers=leader, json=ROLLOVER).status_code == 201
    return recorded.json["event_ids"][0]


def refused(answer, field="class_id"):
    assert answer.status_code == 409, answer.json
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json["errors"] == {field: [CLOSED]}
    return True


def test_every_write_to_a_closed_class_is_a_409_and_appends_nothing(client, leader, rolled_over, trust, app_engine):
    before = len(events_of(app_engine, trust))
    assert refused(client.post("/v1/objectives-taught", headers=leader, json={
        "class_id": "4A", "objective_ids": ["m4-1"], "taught_on": TODAY}))
    assert refused(client.post("/v1/pupils/p1/move", headers=leader, json={"class_id": "4A", "moved_on": TODAY}))
    assert refused(client.post("/v1/pupils", headers=leader, json={"id": "p-new", "school_id": "sch-1",
                                                                    "class_id": "4B"}))
    assert refused(client.post("/v1/classes/4A/staff", headers=leader, json={"staff_sub": "mr.new"}))
    assert refused(client.delete("/v1/classes/4A/staff/ms.last", headers=leader))
    assert refused(client.post(f"/v1/judgements/{rolled_over}/correction", headers=leader,
                               json={"value": 4, "reason": "typo"}), "judgement_id")
    assert refused(client.post(f"/v1/judgements/{rolled_over}/withdrawal", headers=leader,
                               json={"reason": "wrong pupil"}), "judgement_id")
    assert refused(client.post("/v1/classes/4A/summative", headers=leader, json=SUMMATIVE))
    code = str(events_of(app_engine, trust, "SummativeJudgementRecorded")[0].event_id)
    assert refused(client.post(f"/v1/summative-judgements/{code}/correction", headers=leader,
                               json={"code": "GDS", "reason": "moderated"}), "judgement_id")
    assert refused(client.post(f"/v1/summative-judgements/{code}/withdrawal", headers=leader,
                               json={"reason": "wrong pupil"}), "judgement_id")
    assert len(events_of(app_engine, trust)) == before


def test_the_pupils_write_on_in_their_new_class_and_last_years_class_still_reads(client, leader, rolled_over, trust,
                                                                                app_engine, reports):
    recorded = client.post("/v1/judgements", headers=leader, json={"judgements": [
        {"pupil_id": "p1", "objective_id": "m4-1", "value": 4, "assessed_on": TODAY}]})
    assert recorded.status_code == 201, recorded.json
    assert events_of(app_engine, trust, "JudgementRecorded")[-1].data["class_id"] == "5A"
    assert client.post("/v1/objectives-taught", headers=leader, json={
        "class_id": "5A", "objective_ids": ["m4-1"], "taught_on": TODAY}).status_code == 201
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert apply_from_store(uow.connection, trust, after=0).dead_letters == []
        uow.commit()
    last_year = reports.get("/v1/classes/4A/analysis", headers=leader)
    assert last_year.status_code == 200, last_year.json
    assert reports.get("/v1/pupils/p1", headers=leader).status_code == 200


def test_a_roster_import_does_not_enrol_anyone_in_a_closed_class(client, leader, trust, app_engine):
    files = oneroster()
    assert post_import(client, leader, files).status_code == 201
    rollover = {"from_year": "2026-27", "to_year": "2027-28", "school_id": "sch-oak",
                "classes": {"c-oak-4a": "c-oak-5", "c-oak-4b": "c-oak-5"},
                "new_classes": [{"class_id": "c-oak-5", "school_id": "sch-oak", "name": "5", "year_group": 5}],
                "leavers": [], "effective_on": TODAY}
    assert client.post("/v1/rollover", headers=leader, json=rollover).status_code == 201
    before = len(events_of(app_engine, trust))
    answer = post_import(client, leader, files)  # last year's files again: s1 into c-oak-4a
    assert answer.status_code == 422, answer.json
    key = f"enrollments.csv.{line_of(files, 'enrollments.csv', 'e-s1')}.classSourcedId"
    assert answer.json["errors"][key] == ["Class c-oak-4a is closed (last year's class): it is kept read-only."]
    assert len(events_of(app_engine, trust)) == before


def _projected(app_engine, trust) -> None:
    with TenantUnitOfWork(app_engine, trust) as uow:
        assert apply_from_store(uow.connection, trust, after=0).dead_letters == []
        uow.commit()


LAST_YEAR_4A = ["p1", "p2", "p3", "p4", "p5", "p6"]
AT = "academic_year=2026-27&point_id=autumn-1"


def _class_reads(reports, headers, class_id="4A") -> dict[str, list[str]]:
    """The pupil ids each read of the class shows."""
    grid = reports.get(f"/v1/classes/{class_id}/summative?{AT}&subject=maths", headers=headers)
    comments = reports.get(f"/v1/classes/{class_id}/report-comments?{AT}", headers=headers)
    analysis = reports.get(f"/v1/classes/{class_id}/analysis", headers=headers)
    behind = reports.get(f"/v1/classes/{class_id}/falling-behind?{AT}&subject=maths", headers=headers)
    for answer in (grid, comments, analysis, behind):
        assert answer.status_code == 200, answer.json
    csv = reports.get(f"/v1/classes/{class_id}/summative?{AT}&subject=maths&format=csv", headers=headers)
    assert csv.status_code == 200
    return {"grid": sorted(p["pupil_id"] for p in grid.json["pupils"]),
            "csv": sorted(line.split(",")[0] for line in csv.get_data(as_text=True).splitlines()[1:]),
            "comments": sorted(p["pupil_id"] for p in comments.json["pupils"]),
            "analysis": sorted(p["pupil_id"] for p in analysis.json["heat_map"]),
            "falling_behind": [str(behind.json["pupils"])]}


def test_last_years_closed_class_reads_show_the_pupils_in_it_when_it_closed(leader, rolled_over, trust, app_engine,
                                                                          reports):
    _projected(app_engine, trust)
    shown = _class_reads(reports, leader)
    assert {read: ids for read, ids in shown.items() if read != "falling_behind"} == {
        "grid": LAST_YEAR_4A, "csv": LAST_YEAR_4A, "comments": LAST_YEAR_4A, "analysis": LAST_YEAR_4A}
    assert shown["falling_behind"] == ["6"]
    grid = reports.get(f"/v1/classes/4A/summative?{AT}&subject=maths", headers=leader).json
    assert {p["pupil_id"]: p["code"] for p in grid["pupils"]}["p1"] == "EXS"  # last year's code, kept
    # This year's class reads its current pupils, as ever: everyone from 4A and 4B.
    assert _class_reads(reports, leader, "5A")["comments"] == [*LAST_YEAR_4A, "p7", "p8"]


def test_a_teacher_of_last_years_class_sees_only_the_pupils_they_teach_now(settings, rolled_over, trust, app_engine,
                                                                           reports):
    _projected(app_engine, trust)
    leader = bearer(token_for(settings, trust, ["trust_leader"], sub="head"))
    assert _class_reads(reports, leader)["analysis"] == LAST_YEAR_4A  # its body is kept: not the teacher's
    last_year_only = bearer(token_for(settings, trust, ["teacher"], sub="ms.last"))  # assigned to 4A, not 5A
    assert _class_reads(reports, last_year_only) == {"grid": [], "csv": [], "comments": [], "analysis": [],
                                                      "falling_behind": ["0"]}
    both = bearer(token_for(settings, trust, ["teacher"], sub="ms.both", classes=["4A", "5A"]))
    assert _class_reads(reports, both)["grid"] == LAST_YEAR_4A  # not 4B's pupils, though they are in 5A now


def test_a_closed_class_whose_pupils_all_left_shows_them_to_leaders(client, leader, small, trust, app_engine,
                                                                    reports):
    leaving = {**ROLLOVER, "classes": {"4A": "5A", "4B": None}, "leavers": ["p7", "p8"]}
    answer = client.post("/v1/rollover", headers=leader, json=leaving)
    assert answer.status_code == 201, answer.json
    _projected(app_engine, trust)
    assert _class_reads(reports, leader, "4B")["grid"] == ["p7", "p8"]


def test_a_class_finds_its_memberships_by_the_class_index_as_the_application_role(app_engine, owner_engine, trust):
    """Six years of a trust's memberships, analysed, then the plan of a class's pupils as the services read it,
    with sequential scans off so it does not depend on how few other rows a test database holds."""
    with owner_engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO rm_pupil_classes (trust_id, pupil_id, class_id, from_date, to_date) "
            "SELECT :trust, 'p' || (n % 1200), 'c' || (n / 30), DATE '2020-09-01' + (n / 1200) * 365, NULL "
            "FROM generate_series(0, 7199) AS n"), {"trust": trust})
        connection.execute(text("ANALYZE rm_pupil_classes"))
    with TenantUnitOfWork(app_engine, trust) as uow:
        uow.connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = str(uow.connection.execute(text(
            f"EXPLAIN (FORMAT JSON) SELECT p.pupil_id FROM rm_pupils p WHERE p.trust_id = :trust AND {CLASS_PUPILS}"),
            {"trust": trust, "class_id": "c7"}).scalar_one())
    assert "rm_pupil_classes_class" in plan
