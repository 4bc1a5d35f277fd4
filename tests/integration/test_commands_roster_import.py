"""OneRoster 1.2 CSV roster import: exact events and counts, idempotent re-import, moves, errors by line."""

from __future__ import annotations

import csv
import io
import json

import pytest

from fathom_api.validation import school_today
from tests.support import bearer, events_of, rows_of, staff_sub, token_for

TODAY = school_today().isoformat()
HEADERS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                   "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users.csv": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
                 "identifier,email,sms,phone,agentSourcedIds,grades,password,role",
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
                       "primary,beginDate,endDate",
}
STUDENTS = {  # id: (given, family, UPN, class)
    "s1": ("Amelia", "Okafor", "A00000000001A", "c-oak-4a"),
    "s2": ("Noah", "Brennan", "A00000000002B", "c-oak-4a"),
    "s3": ("Isla", "Kowalska", "A000000000033", "c-oak-4a"),
    "s4": ("Leo", "Hartmann", "", "c-oak-4b"),
    "s5": ("Freya", "Adeyemi", "B00000000005C", "c-oak-4b"),
    "s6": ("Arlo", "Szabo", "B00000000006D", "c-elm-r"),
    "s7": ("Mila", "Castellanos", "B00000000007E", "c-elm-r"),
    "s8": ("Ezra", "Lindqvist", "B00000000008F", "c-elm-r"),
}
NAMES = [n for given, family, _, _ in STUDENTS.values() for n in (given, family)] + ["Ghost", "Wilhelmina"]


def oneroster() -> dict[str, list[dict[str, str]]]:
    """2 schools, 3 classes, 8 students, 2 teachers, plus rows Fathom ignores or skips."""
    return {
        "orgs.csv": [
            {"sourcedId": "dist-1", "name": "Oak Trust", "type": "district"},
            {"sourcedId": "sch-oak", "status": "active", "name": "Oak Primary", "type": "school", "identifier": "1001",
             "parentSourcedId": "dist-1"},
            {"sourcedId": "sch-elm", "name": "Elm Primary", "type": "school", "parentSourcedId": "dist-1"},
        ],
        "classes.csv": [
            {"sourcedId": "c-oak-4a", "title": "4A", "grades": "04", "schoolSourcedId": "sch-oak", "classType": "x"},
            {"sourcedId": "c-oak-4b", "title": "4B", "grades": "4", "schoolSourcedId": "sch-oak", "classType": "x"},
            {"sourcedId": "c-elm-r", "title": "Robins", "grades": "R", "schoolSourcedId": "sch-elm"},
        ],
        "users.csv": [
            *({"sourcedId": sid, "enabledUser": "true", "username": f"{sid}@pupils", "givenName": given,
               "familyName": family, "identifier": upn, "role": "student"}
              for sid, (given, family, upn, _) in STUDENTS.items()),
            {"sourcedId": "s9", "status": "tobedeleted", "username": "s9", "givenName": "Ghost", "familyName": "Gone",
             "role": "student"},
            {"sourcedId": "t1", "username": "t.smith", "givenName": "Tess", "familyName": "Smith", "role": "teacher"},
            {"sourcedId": "t2", "username": "j.jones", "givenName": "Jo", "familyName": "Jones", "role": "teacher"},
            {"sourcedId": "g1", "username": "parent", "givenName": "Wilhelmina", "familyName": "Okafor",
             "role": "parent"},
        ],
        "enrollments.csv": [
            *({"sourcedId": f"e-{sid}", "classSourcedId": klass, "userSourcedId": sid, "role": "student"}
              for sid, (_, _, _, klass) in STUDENTS.items()),
            {"sourcedId": "e-old", "classSourcedId": "c-oak-4b", "userSourcedId": "s1", "role": "student",
             "beginDate": "2019-09-01", "endDate": "2020-07-20"},
            {"sourcedId": "e-s9", "status": "tobedeleted", "classSourcedId": "c-oak-4a", "userSourcedId": "s9",
             "role": "student"},
            {"sourcedId": "e-t1a", "classSourcedId": "c-oak-4a", "schoolSourcedId": "sch-oak", "userSourcedId": "t1",
             "role": "teacher", "primary": "true"},
            {"sourcedId": "e-t1b", "classSourcedId": "c-oak-4b", "userSourcedId": "t1", "role": "teacher"},
            {"sourcedId": "e-t2", "classSourcedId": "c-elm-r", "userSourcedId": "t2", "role": "teacher"},
        ],
    }


def line_of(files: dict[str, list[dict[str, str]]], name: str, sourced_id: str) -> int:
    """The file line of a row (header = line 1); of its last occurrence when it repeats."""
    return [n for n, row in enumerate(files[name], start=2) if row["sourcedId"] == sourced_id][-1]


def render(rows: list[dict[str, str]], header: str) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header.split(","), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def post_import(client, headers, files, dry_run=False, year="2026-27", csv_headers=HEADERS, **extra_headers):
    data = {name: (io.BytesIO(render(rows, csv_headers[name])), name) for name, rows in files.items()}
    query = f"dry_run={str(dry_run).lower()}" + (f"&academic_year={year}" if year else "")
    return client.post(f"/v1/roster/import?{query}", headers={**headers, **extra_headers},
                       content_type="multipart/form-data", data=data)


FIRST_COUNTS = {
    "schools": {"created": 2, "unchanged": 0, "skipped": 0},
    "classes": {"created": 3, "unchanged": 0, "skipped": 0},
    "pupils": {"created": 8, "unchanged": 0, "moved": 0, "updated": 0, "skipped": 2},
    "staff": {"created": 3, "unchanged": 0, "skipped": 0},
}
DEFAULT_GROUPS = {"pupil_premium": False, "sen": "none", "eal": False, "gender": None, "more_able": False,
                  "custom": []}


def test_a_oneroster_bundle_imports_with_exact_events_and_counts(client, leader, app_engine, trust):
    response = post_import(client, leader, oneroster())
    assert response.status_code == 201, response.json
    assert response.json["dry_run"] is False and response.json["counts"] == FIRST_COUNTS
    events = events_of(app_engine, trust)
    assert response.json["sequences"] == [e.sequence for e in events] == list(range(1, 17))
    assert [(e.event_type, e.stream_id) for e in events[:5]] == [
        ("SchoolCreated", "sch-oak"), ("SchoolCreated", "sch-elm"),
        ("ClassCreated", "c-oak-4a"), ("ClassCreated", "c-oak-4b"), ("ClassCreated", "c-elm-r")]
    assert [e.data for e in events[:5]] == [
        {"school_id": "sch-oak", "name": "Oak Primary"}, {"school_id": "sch-elm", "name": "Elm Primary"},
        {"class_id": "c-oak-4a", "school_id": "sch-oak", "name": "4A", "year_group": 4, "academic_year": "2026-27"},
        {"class_id": "c-oak-4b", "school_id": "sch-oak", "name": "4B", "year_group": 4, "academic_year": "2026-27"},
        {"class_id": "c-elm-r", "school_id": "sch-elm", "name": "Robins", "year_group": 0,
         "academic_year": "2026-27"}]
    school_of = {"c-oak-4a": "sch-oak", "c-oak-4b": "sch-oak", "c-elm-r": "sch-elm"}
    assert [e.data for e in events[5:13]] == [
        {"pupil_id": sid, "school_id": school_of[klass], "class_id": klass,
         "year_group": 0 if klass == "c-elm-r" else 4, "groups": DEFAULT_GROUPS,
         "enrolled_on": school_today().isoformat()}  # no beginDate in the file: from the day of the import
        for sid, (_, _, _, klass) in STUDENTS.items()]
    assert {e.event_type for e in events[5:13]} == {"PupilRegistered"}
    assert sorted((e.event_type, e.stream_type, staff_sub(app_engine, trust, e.data["staff_ref"]), e.data["class_id"])
                  for e in events[13:]) == [
        ("StaffAssigned", "class_staff", "j.jones", "c-elm-r"), ("StaffAssigned", "class_staff", "t.smith", "c-oak-4a"),
        ("StaffAssigned", "class_staff", "t.smith", "c-oak-4b")]
    personal = rows_of(app_engine, trust, "SELECT pupil_id, given_name, family_name, upn FROM pupil_personal "
                                          "ORDER BY pupil_id")
    assert [tuple(r) for r in personal] == [(sid, g, f, upn or None) for sid, (g, f, upn, _) in STUDENTS.items()]
    staff = rows_of(app_engine, trust, "SELECT staff_sub, class_id FROM staff_assignments ORDER BY 1, 2")
    assert [tuple(r) for r in staff] == [("j.jones", "c-elm-r"), ("t.smith", "c-oak-4a"), ("t.smith", "c-oak-4b")]


def test_reimporting_the_same_files_changes_nothing(client, leader, app_engine, trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    before = events_of(app_engine, trust)
    again = post_import(client, leader, oneroster())
    assert again.status_code == 201, again.json
    assert again.json["counts"] == {
        "schools": {"created": 0, "unchanged": 2, "skipped": 0},
        "classes": {"created": 0, "unchanged": 3, "skipped": 0},
        "pupils": {"created": 0, "unchanged": 8, "moved": 0, "updated": 0, "skipped": 2},
        "staff": {"created": 0, "unchanged": 3, "skipped": 0}}
    assert again.json["sequences"] == [] and again.json["last_sequence"] is None
    assert events_of(app_engine, trust) == before


def test_a_changed_enrollment_is_one_pupil_moved_and_a_changed_name_no_event(client, leader, app_engine, trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    files = oneroster()
    files["enrollments.csv"][2]["classSourcedId"] = "c-oak-4b"  # s3: 4A -> 4B
    files["users.csv"][0]["familyName"] = "Okafor-Reid"  # s1 changed name
    response = post_import(client, leader, files)
    assert response.status_code == 201, response.json
    assert response.json["counts"]["pupils"] == {"created": 0, "unchanged": 7, "moved": 1, "updated": 1, "skipped": 2}
    [moved] = events_of(app_engine, trust, "PupilMoved")
    assert moved.data == {"pupil_id": "s3", "class_id": "c-oak-4b", "year_group": 4, "moved_on": TODAY}
    assert response.json["sequences"] == [moved.sequence] and len(events_of(app_engine, trust)) == 17
    assert rows_of(app_engine, trust, "SELECT class_id FROM pupils WHERE pupil_id = 's3'")[0].class_id == "c-oak-4b"
    assert rows_of(app_engine, trust, "SELECT family_name FROM pupil_personal WHERE pupil_id = 's1'")[0][0] == \
        "Okafor-Reid"
    assert post_import(client, leader, files).json["counts"]["pupils"]["unchanged"] == 8


def test_an_erased_pupil_is_not_given_their_details_back(client, leader, app_engine, trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    assert client.delete("/v1/pupils/s2/personal-data", headers=leader).status_code == 200
    again = post_import(client, leader, oneroster())
    assert again.json["counts"]["pupils"]["updated"] == 0
    assert tuple(rows_of(app_engine, trust, "SELECT given_name, family_name, upn FROM pupil_personal "
                                            "WHERE pupil_id = 's2'")[0]) == (None, None, None)


def test_a_dry_run_reports_the_same_counts_and_writes_nothing(client, leader, app_engine, trust):
    dry = post_import(client, leader, oneroster(), dry_run=True)
    assert dry.status_code == 200, dry.json
    assert dry.json["dry_run"] is True and dry.json["counts"] == FIRST_COUNTS and dry.json["sequences"] == []
    assert events_of(app_engine, trust) == []
    for table in ("schools", "classes", "pupils", "pupil_personal", "staff_assignments"):
        assert rows_of(app_engine, trust, f"SELECT count(*) FROM {table}")[0][0] == 0, table


def _set(file: str, sourced_id: str, /, **values: str):
    def change(files):
        row = next(r for r in files[file] if r["sourcedId"] == sourced_id)
        row.update(values)
    return change


def _add(file: str, /, **row: str):
    return lambda files: files[file].append(row)


S4_UNENROLLED = ("users.csv", "s4", "sourcedId")  # a new student whose only enrollment is bad has no class
BAD_ROWS = [
    (_set("orgs.csv", "sch-elm", name=""), ("orgs.csv", "sch-elm", "name")),
    (_add("orgs.csv", sourcedId="sch-elm", name="Elm Again", type="school"), ("orgs.csv", "sch-elm", "sourcedId")),
    (_set("orgs.csv", "sch-elm", status="archived"), ("orgs.csv", "sch-elm", "status")),
    (_set("classes.csv", "c-oak-4b", grades="Y4"), ("classes.csv", "c-oak-4b", "grades")),
    (_set("classes.csv", "c-oak-4b", grades="03,04"), ("classes.csv", "c-oak-4b", "grades")),
    (_set("classes.csv", "c-oak-4b", grades="14"), ("classes.csv", "c-oak-4b", "grades")),
    (_set("classes.csv", "c-oak-4b", schoolSourcedId="sch-ash"), ("classes.csv", "c-oak-4b", "schoolSourcedId")),
    (_set("classes.csv", "c-elm-r", title=""), ("classes.csv", "c-elm-r", "title")),
    (_set("users.csv", "s5", identifier="B0000000005C"), ("users.csv", "s5", "identifier")),
    (_set("users.csv", "s5", role="student,teacher"), ("users.csv", "s5", "role")),
    (_set("users.csv", "t2", username=""), ("users.csv", "t2", "username")),
    (_set("users.csv", "s5", givenName="x" * 101), ("users.csv", "s5", "givenName")),
    (_add("users.csv", sourcedId="s10", givenName="New", familyName="Pupil", role="student"),
     ("users.csv", "s10", "sourcedId")),
    (_add("users.csv", sourcedId="bad id", givenName="Bad", familyName="Id", role="student"),
     ("users.csv", "bad id", "sourcedId")),
    (_set("enrollments.csv", "e-s4", classSourcedId="c-nowhere"), ("enrollments.csv", "e-s4", "classSourcedId")),
    (_set("enrollments.csv", "e-s4", userSourcedId="s99"), ("enrollments.csv", "e-s4", "userSourcedId"),
     S4_UNENROLLED),
    (_set("enrollments.csv", "e-s4", userSourcedId="t1"), ("enrollments.csv", "e-s4", "role"), S4_UNENROLLED),
    (_set("enrollments.csv", "e-t1a", schoolSourcedId="sch-elm"), ("enrollments.csv", "e-t1a", "schoolSourcedId")),
    (_set("enrollments.csv", "e-s4", endDate="next week"), ("enrollments.csv", "e-s4", "endDate"), S4_UNENROLLED),
    (_add("enrollments.csv", sourcedId="e-twice", classSourcedId="c-oak-4a", userSourcedId="s4", role="student"),
     ("enrollments.csv", "e-twice", "classSourcedId")),
]


@pytest.mark.parametrize(("change", "expected"), [(b[0], b[1:]) for b in BAD_ROWS],
                         ids=[f"{b[1][0]}-{b[1][2]}-{n}" for n, b in enumerate(BAD_ROWS)])
def test_each_bad_row_is_reported_by_file_line_and_column_and_nothing_is_written(
        client, leader, app_engine, trust, change, expected):
    files = oneroster()
    change(files)
    keys = {f"{name}.{line_of(files, name, sourced_id)}.{column}" for name, sourced_id, column in expected}
    for dry_run in (True, False):
        response = post_import(client, leader, files, dry_run=dry_run)
        assert response.status_code == 422, response.json
        assert set(response.json["errors"]) == keys, response.json["errors"]
    assert events_of(app_engine, trust) == []
    assert rows_of(app_engine, trust, "SELECT count(*) FROM schools")[0][0] == 0


def test_two_active_class_enrollments_name_both_lines(client, leader, trust):
    files = oneroster()
    _add("enrollments.csv", sourcedId="e-twice", classSourcedId="c-oak-4a", userSourcedId="s4", role="student")(files)
    first, second = line_of(files, "enrollments.csv", "e-s4"), line_of(files, "enrollments.csv", "e-twice")
    [message] = post_import(client, leader, files).json["errors"][f"enrollments.csv.{second}.classSourcedId"]
    assert f"(line {first})" in message and f"(line {second})" in message


def test_existing_schools_and_classes_are_not_edited_by_import(client, leader, app_engine, trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    files = oneroster()
    _set("orgs.csv", "sch-oak", name="Oak Academy")(files)
    _set("classes.csv", "c-oak-4b", grades="5")(files)
    response = post_import(client, leader, files, year="2027-28")
    assert response.status_code == 422
    oak, b4, elm_r = (line_of(files, "orgs.csv", "sch-oak"), line_of(files, "classes.csv", "c-oak-4b"),
                      line_of(files, "classes.csv", "c-elm-r"))
    assert set(response.json["errors"]) == {f"orgs.csv.{oak}.name", f"classes.csv.{b4}.grades",
                                            f"classes.csv.{b4}.sourcedId", f"classes.csv.{elm_r}.sourcedId",
                                            f"classes.csv.{line_of(files, 'classes.csv', 'c-oak-4a')}.sourcedId"}
    assert len(events_of(app_engine, trust)) == 16


def test_a_later_import_may_refer_to_what_the_trust_already_has(client, leader, app_engine, trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    files = {
        "orgs.csv": [],
        "classes.csv": [{"sourcedId": "c-oak-5a", "title": "5A", "grades": "05", "schoolSourcedId": "sch-oak"}],
        "users.csv": [{"sourcedId": "s11", "givenName": "Ada", "familyName": "Quinn", "role": "student"}],
        "enrollments.csv": [{"sourcedId": "e-s11", "classSourcedId": "c-elm-r", "userSourcedId": "s11",
                             "role": "student"}],
    }
    response = post_import(client, leader, files)
    assert response.status_code == 201, response.json
    assert [(e.event_type, e.data.get("school_id")) for e in events_of(app_engine, trust)[16:]] == [
        ("ClassCreated", "sch-oak"), ("PupilRegistered", "sch-elm")]


@pytest.mark.parametrize(
    ("file", "column", "key"),
    [("enrollments.csv", None, "enrollments.csv"), ("classes.csv", "grades", "classes.csv.1.grades"),
     ("users.csv", "role", "users.csv.1.role"), ("orgs.csv", "sourcedId", "orgs.csv.1.sourcedId")],
)
def test_a_missing_file_or_column_is_named(client, leader, app_engine, trust, file, column, key):
    files, headers = oneroster(), dict(HEADERS)
    if column is None:
        del files[file]
    else:
        headers[file] = ",".join(c for c in HEADERS[file].split(",") if c != column)
        files[file] = [{k: v for k, v in row.items() if k != column} for row in files[file]]
    response = post_import(client, leader, files, csv_headers=headers)
    assert response.status_code == 422 and list(response.json["errors"]) == [key], response.json
    assert events_of(app_engine, trust) == []


def test_query_limits_and_roles(client, leader, settings, app_engine, trust):
    missing_year = post_import(client, leader, oneroster(), year=None)
    assert missing_year.status_code == 422 and "query.academic_year" in missing_year.json["errors"]
    files = oneroster()
    files["users.csv"] += [{"sourcedId": f"x{n}", "role": "student"} for n in range(5001)]
    too_many = post_import(client, leader, files)
    assert too_many.status_code == 413 and "users.csv" in too_many.json["detail"]
    teacher = bearer(token_for(settings, trust, ["teacher"]))
    assert post_import(client, teacher, oneroster()).status_code == 403
    assert events_of(app_engine, trust) == []


def test_a_school_leader_imports_only_their_own_schools(client, leader, settings, app_engine, trust):
    oak_head = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-oak"]))
    refused = post_import(client, oak_head, oneroster())
    assert refused.status_code == 403
    assert f"orgs.csv.{line_of(oneroster(), 'orgs.csv', 'sch-oak')}.sourcedId" in refused.json["errors"]
    assert post_import(client, leader, oneroster()).status_code == 201
    oak_only = oneroster()
    oak_only["orgs.csv"] = oak_only["orgs.csv"][:2]
    oak_only["classes.csv"] = oak_only["classes.csv"][:2]
    oak_only["users.csv"] = [u for u in oak_only["users.csv"] if u["sourcedId"] not in ("s6", "s7", "s8", "t2")]
    oak_only["enrollments.csv"] = [e for e in oak_only["enrollments.csv"]
                                   if e["userSourcedId"] not in ("s6", "s7", "s8", "t2")]
    oak_only["enrollments.csv"][0]["classSourcedId"] = "c-oak-4b"
    mine = post_import(client, oak_head, oak_only)
    assert mine.status_code == 201, mine.json
    assert mine.json["counts"]["pupils"]["moved"] == 1
    assert post_import(client, oak_head, oneroster()).status_code == 403  # names Elm's rows, unchanged or not
    assert len(events_of(app_engine, trust)) == 17


def test_a_school_leaders_import_is_scoped_before_it_is_compared(client, leader, settings, app_engine, trust):
    """Rows naming another school's class or pupil are refused (403) before any comparison, and the answer
    says nothing about them: it used to be a 422 naming Elm's class, its school and a leaver's date."""
    assert post_import(client, leader, oneroster()).status_code == 201
    elm_class = {"id": "c-elm-1", "school_id": "sch-elm", "name": "Wrens", "year_group": 1, "academic_year": "2026-27"}
    assert client.post("/v1/classes", json=elm_class, headers=leader).status_code == 201
    assert client.post("/v1/pupils/s7/leaving", json={"left_on": "2025-07-18"}, headers=leader).status_code == 201
    before = len(events_of(app_engine, trust))
    oak_head = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-oak"]))
    files = oneroster()
    files["orgs.csv"] = files["orgs.csv"][:2]
    files["classes.csv"][2] = {"sourcedId": "c-elm-r", "title": "Kites", "grades": "2", "schoolSourcedId": "sch-oak"}
    files["users.csv"] = [u for u in files["users.csv"] if u["sourcedId"] in ("s1", "s6", "s7", "t1")]
    files["enrollments.csv"] = [
        {"sourcedId": "e-s1", "classSourcedId": "c-oak-4a", "userSourcedId": "s1", "role": "student"},
        {"sourcedId": "e-s6", "classSourcedId": "c-oak-4a", "userSourcedId": "s6", "role": "student"},
        {"sourcedId": "e-s7", "classSourcedId": "c-elm-1", "userSourcedId": "s7", "role": "student"},
        {"sourcedId": "e-t1", "classSourcedId": "c-elm-1", "userSourcedId": "t1", "role": "teacher"}]
    refused = post_import(client, oak_head, files)
    assert refused.status_code == 403, refused.json
    users, enrollments = [f"users.csv.{n}.sourcedId" for n in (3, 4)], "enrollments.csv.{}.classSourcedId"
    assert refused.json["errors"] == {
        "classes.csv.4.sourcedId": ["Not a class of one of your schools."],
        **{key: ["Not a pupil of one of your schools."] for key in users},
        enrollments.format(4): ["Not a class of one of your schools."],
        enrollments.format(5): ["Not a class of one of your schools."]}
    body = refused.get_data(as_text=True)
    for other_schools in ("sch-elm", "Elm", "Robins", "Wrens", "c-elm", "2025-07-18", "left", "s6", "s7"):
        assert other_schools not in body
    assert len(events_of(app_engine, trust)) == before


def test_names_never_reach_the_event_log(client, leader, app_engine, trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    files = oneroster()
    files["users.csv"][3]["givenName"] = "Leonardo"
    files["enrollments.csv"][0]["classSourcedId"] = "c-oak-4b"
    assert post_import(client, leader, files).status_code == 201
    log = json.dumps([[e.data, e.metadata] for e in events_of(app_engine, trust)])
    for secret in [*NAMES, "Leonardo", *(upn for _, _, upn, _ in STUDENTS.values() if upn)]:
        assert secret not in log, secret


def test_another_trusts_ids_are_not_visible(client, leader, settings, app_engine, trust, make_trust):
    assert post_import(client, leader, oneroster()).status_code == 201
    other = make_trust("other")
    other_leader = bearer(token_for(settings, other, ["trust_leader"]))
    only_enrollment = {"orgs.csv": [], "classes.csv": [],
                       "users.csv": [{"sourcedId": "s1", "givenName": "A", "familyName": "B", "role": "student"}],
                       "enrollments.csv": [{"sourcedId": "e", "classSourcedId": "c-oak-4a", "userSourcedId": "s1",
                                            "role": "student"}]}
    refused = post_import(client, other_leader, only_enrollment)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["enrollments.csv.2.classSourcedId"]
    same = post_import(client, other_leader, oneroster())
    assert same.status_code == 201 and same.json["counts"] == FIRST_COUNTS
    assert len(events_of(app_engine, trust)) == 16 and len(events_of(app_engine, other)) == 16


def test_idempotency_key_replays_the_answer(client, leader, app_engine, trust):
    first = post_import(client, leader, oneroster(), **{"Idempotency-Key": "roster-1"})
    replay = post_import(client, leader, oneroster(), **{"Idempotency-Key": "roster-1"})
    assert first.status_code == replay.status_code == 201 and first.json == replay.json
    assert len(events_of(app_engine, trust)) == 16


def test_roster_import_is_in_openapi(client):
    body = client.get("/openapi.json").json["paths"]["/v1/roster/import"]["post"]["requestBody"]
    assert set(body["content"]["multipart/form-data"]["schema"]["properties"]) == {
        "orgs.csv", "classes.csv", "users.csv", "enrollments.csv"}


def test_a_roles_column_works_like_role(client, leader, app_engine, trust):
    headers = {**HEADERS, "users.csv": HEADERS["users.csv"].replace(",role", ",roles")}
    files = oneroster()
    files["users.csv"] = [{("roles" if k == "role" else k): v for k, v in row.items()} for row in files["users.csv"]]
    files["users.csv"][-1]["roles"] = "guardian, parent"
    response = post_import(client, leader, files, csv_headers=headers)
    assert response.status_code == 201 and response.json["counts"] == FIRST_COUNTS, response.json


def test_an_enrollments_begin_date_is_when_the_pupil_joins_the_class(client, leader, app_engine, trust):
    files = oneroster()
    files["enrollments.csv"][0] = {**files["enrollments.csv"][0], "beginDate": "2026-09-03"}
    assert post_import(client, leader, files).status_code == 201
    first = files["enrollments.csv"][0]["userSourcedId"]
    enrolled = {e.stream_id: e.data["enrolled_on"] for e in events_of(app_engine, trust, "PupilRegistered")}
    assert enrolled[first] == "2026-09-03"
    assert {day for pupil, day in enrolled.items() if pupil != first} == {school_today().isoformat()}
