"""The OneRoster import's plan on in-memory files and stored rows (no database, no request)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

import pytest

from fathom_api.imports.csv_table import RowErrors
from fathom_api.imports.oneroster import StoredRoster, decide_roster_import
from fathom_api.imports.oneroster_files import read_bundle
from fathom_api.refusals import Forbidden, InvalidFile
from fathom_shared.auth import Principal

TODAY = date(2025, 10, 1)
YEAR = "2025-26"
LEADER = Principal(sub="lead", trust_id="t", roles=frozenset({"trust_leader"}))
FILES = {
    "orgs.csv": "sourcedId,name,type\nnorth,North Primary,school\n",
    "classes.csv": "sourcedId,title,grades,schoolSourcedId\n4a,Year 4A,04,north\n4b,Year 4B,4,north\n",
    "users.csv": "sourcedId,username,givenName,familyName,role\np1,p1,Ada,Lovelace,student\nt1,tess,Tess,Ng,teacher\n",
    "enrollments.csv": "sourcedId,classSourcedId,userSourcedId,role\ne1,4a,p1,student\ne2,4a,t1,teacher\n",
}


class School(NamedTuple):
    school_id: str
    name: str


class Klass(NamedTuple):
    class_id: str
    school_id: str
    name: str
    year_group: int
    academic_year: str


class Pupil(NamedTuple):
    pupil_id: str
    school_id: str
    class_id: str | None
    left_on: date | None = None
    erased: bool = False
    given_name: str | None = "Ada"
    family_name: str | None = "Lovelace"
    upn: str | None = None


EMPTY = StoredRoster({}, {}, {}, set())
KNOWN = StoredRoster({"north": School("north", "North Primary")},
                     {"4a": Klass("4a", "north", "Year 4A", 4, YEAR), "4b": Klass("4b", "north", "Year 4B", 4, YEAR)},
                     {"p1": Pupil("p1", "north", "4a")}, {("tess", "4a")})


def ref_of(sub: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, sub))


def plan(stored: StoredRoster, files=FILES, caller=LEADER, dry_run=False):
    errors = RowErrors()
    bundle = read_bundle(files, errors, TODAY)
    return decide_roster_import(bundle, stored, caller, YEAR, TODAY, dry_run, errors, ref_of)


def test_a_new_roster_creates_everything_in_dependency_order():
    decision = plan(EMPTY)
    assert [(e.event_type, e.stream_id) for e in decision.events] == [
        ("SchoolCreated", "north"), ("ClassCreated", "4a"), ("ClassCreated", "4b"), ("PupilRegistered", "p1"),
        ("StaffAssigned", "4a")]
    assert decision.events[-1].data["staff_ref"] == ref_of("tess")
    assert decision.report["counts"]["pupils"] == {"created": 1, "unchanged": 0, "moved": 0, "updated": 0,
                                                   "skipped": 0}


def test_an_unchanged_roster_plans_nothing():
    decision = plan(KNOWN)
    assert decision.events == [] and decision.after_append is None
    assert {kind: counts["unchanged"] for kind, counts in decision.report["counts"].items()} == {
        "schools": 1, "classes": 2, "pupils": 1, "staff": 1}


def test_a_moved_pupil_plans_a_move_and_a_changed_name_no_event():
    stored = StoredRoster(KNOWN.schools, KNOWN.classes, {"p1": Pupil("p1", "north", "4b", given_name="Ad")},
                          KNOWN.staff)
    decision = plan(stored)
    [moved] = decision.events
    assert (moved.event_type, moved.stream_id, moved.data["class_id"]) == ("PupilMoved", "p1", "4a")
    assert decision.after_append is not None  # the new name goes to pupil_personal, never to the log
    assert decision.report["counts"]["pupils"]["moved"] == decision.report["counts"]["pupils"]["updated"] == 1


def test_a_row_naming_an_unknown_class_is_a_row_error():
    files = {**FILES, "enrollments.csv": FILES["enrollments.csv"].replace("e1,4a", "e1,9z")}
    with pytest.raises(InvalidFile) as refused:
        plan(KNOWN, files)
    assert refused.value.errors == {
        "enrollments.csv.2.classSourcedId": ["Unknown class 9z: not in classes.csv nor in this trust."]}


def test_a_dry_run_reports_the_same_counts_as_the_real_run():
    real, dry = plan(EMPTY), plan(EMPTY, dry_run=True)
    assert dry.events == [] and dry.status == 200 and real.status is None
    assert dry.report == {**real.report, "dry_run": True}


def test_a_school_leader_is_refused_rows_outside_their_schools_before_any_comparison():
    south = Principal(sub="s", trust_id="t", roles=frozenset({"school_leader"}), schools=frozenset({"south"}))
    with pytest.raises(Forbidden) as refused:
        plan(KNOWN, caller=south)
    assert refused.value.errors["orgs.csv.2.sourcedId"] == ["Not one of your schools."]


def test_registrations_and_moves_take_effect_on_the_enrollments_begin_date():
    """Before, a roster import registered or moved every pupil as from the day of the import, so teaching
    dated between the enrollment's start and the import never reached the pupil's history."""
    header = "sourcedId,classSourcedId,userSourcedId,role,beginDate\n"
    files = {**FILES, "users.csv": FILES["users.csv"] + "p2,p2,Bo,Bell,student\np3,p3,Cy,Cole,student\n",
             "enrollments.csv": header + "e1,4a,p1,student,2025-09-03\ne2,4a,t1,teacher,\n"
                                         "e3,4a,p2,student,2025-10-20\ne4,4b,p3,student,\n"}
    decision = plan(EMPTY, files)
    registered = {e.stream_id: e.data["enrolled_on"] for e in decision.events if e.event_type == "PupilRegistered"}
    assert registered == {"p1": "2025-09-03", "p2": TODAY.isoformat(), "p3": TODAY.isoformat()}  # later: today
    stored = StoredRoster(KNOWN.schools, KNOWN.classes, {"p1": Pupil("p1", "north", "4b")}, KNOWN.staff)
    [moved] = plan(stored, {**FILES, "enrollments.csv": header + "e1,4a,p1,student,2025-09-22\n"}).events
    assert (moved.event_type, moved.data["moved_on"]) == ("PupilMoved", "2025-09-22")
