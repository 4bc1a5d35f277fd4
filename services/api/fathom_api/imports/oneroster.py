"""OneRoster 1.2 CSV roster import: the bundle compared with the trust, then one command.

Re-importing the same files changes nothing because every row is compared with the trust's
command-side state first: an identical school, class or pupil is unchanged; a student whose
class changed is moved (``PupilMoved``); changed names or UPN update ``pupil_personal`` only.
Schools and classes are never edited by import (there are no events for that), so a
difference is an error, as in the framework import. Groups are not in OneRoster, so they are
left as they are. Events and rows come from the same builders the single-resource endpoints
use (:mod:`fathom_api.commands`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from fathom_api.access import Access
from fathom_api.command_tables import classes_by_id, pupils_with_personal_details, schools_by_id, staff_assignments_of
from fathom_api.commands.classes import class_created
from fathom_api.commands.pupils import personal_details_changed, pupil_moved, pupil_registered
from fathom_api.commands.schools import school_created
from fathom_api.commands.staff import staff_assigned
from fathom_api.executor import Decide, Decision, combine
from fathom_api.imports.csv_table import RowErrors, report
from fathom_api.imports.oneroster_files import CLASSES, ENROLLMENTS, ORGS, USERS, Bundle, Line, read_bundle
from fathom_api.refusals import Forbidden
from fathom_api.schemas import GroupsIn
from fathom_api.validation import school_today
from fathom_shared.auth import Principal
from fathom_shared.personal import staff_ref

KINDS = {"schools": ("created", "unchanged"), "classes": ("created", "unchanged"),
         "pupils": ("created", "unchanged", "moved", "updated"), "staff": ("created", "unchanged")}
CLASS_COLUMNS = {"school_id": "schoolSourcedId", "name": "title", "year_group": "grades",
                 "academic_year": "sourcedId"}
"""Where a class's differing field is reported (the academic year comes from the query)."""


@dataclass
class StoredRoster:
    """The trust's command-side rows the files mention (row-level security hides other trusts').

    Rows have the ``command_tables`` columns as attributes (a test gives named tuples).
    """

    schools: Mapping[str, Any]
    classes: Mapping[str, Any]
    pupils: Mapping[str, Any]
    """With the personal details (``given_name``, ``family_name``, ``upn``) a file may change."""
    staff: set[tuple[str, str]]
    """``(staff_sub, class_id)`` of the files' teachers' current assignments."""


def read_stored_roster(conn: Connection, bundle: Bundle) -> StoredRoster:
    """What the planning compares the files with: the rows of every school, class, pupil and assignment named."""
    class_ids = {*bundle.classes, *(e.values["class_id"] for e in (*bundle.pupil_class.values(),
                                                                    *bundle.staff.values()))}
    classes = classes_by_id(conn, class_ids)
    school_ids = {*bundle.schools, *(c.values["school_id"] for c in bundle.classes.values()),
                  *(c.school_id for c in classes.values())}
    schools = schools_by_id(conn, school_ids)
    pupils = pupils_with_personal_details(conn, bundle.students)
    staff = staff_assignments_of(conn, {sub for sub, _ in bundle.staff})
    return StoredRoster(schools, classes, pupils, staff)


@dataclass
class Plan:
    """What the import would do: decisions in dependency order and counts."""

    bundle: Bundle
    trust: StoredRoster
    academic_year: str
    errors: RowErrors
    today: date
    staff_ref_of: Callable[[str], str]
    """The id standing for a member of staff in events (given a ``sub``)."""
    decisions: list[Decision] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {kind: Counter() for kind in KINDS})

    def report_counts(self) -> dict[str, dict[str, int]]:
        """Per kind, how many were created, unchanged (moved, updated) and skipped."""
        return {kind: {**{name: self.counts[kind][name] for name in names}, "skipped": self.bundle.skipped[kind]}
                for kind, names in KINDS.items()}

    def takes_effect(self, enrollment: Line) -> date:
        """The day a student's enrollment starts their class membership: its ``beginDate``, else today.

        A begin date after today counts from today: Fathom keeps who is in a class, not planned enrolments
        (a file sent in July for September moves pupils when it is imported, as it always did)."""
        begin = enrollment.values.get("begin_date")
        return self.today if begin is None or begin > self.today else begin

    def klass(self, enrollment: Line) -> dict[str, Any] | None:
        """The class an enrollment names (from the files, else the trust), or None after reporting it (also when
        the class is closed: nobody joins, nor teaches, last year's class)."""
        class_id = enrollment.values["class_id"]
        found = self.bundle.classes.get(class_id)
        klass = found.values if found else (self.trust.classes[class_id]._asdict()
                                            if class_id in self.trust.classes else None)
        if klass is None:
            if ("class", class_id) not in self.bundle.broken:  # a bad class row already has its error
                self.errors.add(ENROLLMENTS, enrollment.line, "classSourcedId",
                                f"Unknown class {class_id}: not in classes.csv nor in this trust.")
            return None
        stored = self.trust.classes.get(class_id)
        if getattr(stored, "closed_on", None) is not None:
            self.errors.add(ENROLLMENTS, enrollment.line, "classSourcedId",
                            f"Class {class_id} is closed (last year's class): it is kept read-only.")
            return None
        stated = enrollment.values["school_id"]
        if stated is not None and stated != klass["school_id"]:
            self.errors.add(ENROLLMENTS, enrollment.line, "schoolSourcedId",
                            f"Class {class_id} is at school {klass['school_id']}.")
            return None
        return klass


def plan_schools(plan: Plan) -> None:
    for school_id, row in plan.bundle.schools.items():
        old = plan.trust.schools.get(school_id)
        if old is None:
            plan.decisions.append(school_created(row.values))
            plan.counts["schools"]["created"] += 1
        elif old.name != row.values["name"]:
            plan.errors.add(ORGS, row.line, "name", f"School {school_id} exists as {old.name!r}; "
                            "the import does not rename schools.")
        else:
            plan.counts["schools"]["unchanged"] += 1


def plan_classes(plan: Plan) -> None:
    for class_id, row in plan.bundle.classes.items():
        data = {**row.values, "academic_year": plan.academic_year}
        if data["school_id"] not in plan.bundle.schools and data["school_id"] not in plan.trust.schools:
            if ("school", data["school_id"]) not in plan.bundle.broken:
                plan.errors.add(CLASSES, row.line, "schoolSourcedId",
                                f"Unknown school {data['school_id']}: not in orgs.csv nor in this trust.")
            continue
        old = plan.trust.classes.get(class_id)
        if old is None:
            plan.decisions.append(class_created(data))
            plan.counts["classes"]["created"] += 1
            continue
        differing = [f for f in CLASS_COLUMNS if getattr(old, f) != data[f]]
        for f in differing:
            plan.errors.add(CLASSES, row.line, CLASS_COLUMNS[f], f"Class {class_id} exists with {f} "
                            f"{getattr(old, f)!r}; the import does not change classes.")
        if not differing:
            plan.counts["classes"]["unchanged"] += 1


def plan_pupils(plan: Plan) -> None:
    """New students are registered (default groups), moved students moved, changed names updated."""
    for pupil_id, row in plan.bundle.students.items():
        enrollment = plan.bundle.pupil_class.get(pupil_id)
        klass = plan.klass(enrollment) if enrollment else None
        old = plan.trust.pupils.get(pupil_id)
        if enrollment is not None and klass is None:
            continue
        line = enrollment.line if enrollment else row.line
        if old is None:
            _register(plan, pupil_id, row, klass, enrollment)
            continue
        if klass is None or klass["class_id"] == old.class_id:
            plan.counts["pupils"]["unchanged"] += 1
        elif klass["school_id"] != old.school_id:
            plan.errors.add(ENROLLMENTS, line, "classSourcedId",
                            f"Pupil {pupil_id} is at school {old.school_id}; the import moves pupils only "
                            "between classes of their school.")
        elif old.left_on is not None:
            plan.errors.add(ENROLLMENTS, line, "classSourcedId",
                            f"Pupil {pupil_id} left on {old.left_on.isoformat()}.")
        else:
            plan.decisions.append(pupil_moved(pupil_id, klass["class_id"], klass["year_group"],
                                              plan.takes_effect(enrollment)))
            plan.counts["pupils"]["moved"] += 1
        # An erased pupil stays erased: the files must not bring their details back.
        if not old.erased and any(getattr(old, k) != v for k, v in row.values.items()):
            plan.decisions.append(personal_details_changed(pupil_id, row.values))
            plan.counts["pupils"]["updated"] += 1


def _register(plan: Plan, pupil_id: str, row: Line, klass: dict[str, Any] | None, enrollment: Line | None) -> None:
    if klass is None or enrollment is None:
        plan.errors.add(USERS, row.line, "sourcedId",
                        f"Student {pupil_id} has no active class enrollment; a new pupil needs a class.")
        return
    data = {"pupil_id": pupil_id, "school_id": klass["school_id"], "class_id": klass["class_id"],
            "year_group": klass["year_group"], "groups": GroupsIn().load({}),
            "enrolled_on": plan.takes_effect(enrollment)}
    plan.decisions.append(pupil_registered(data, row.values))
    plan.counts["pupils"]["created"] += 1


def plan_staff(plan: Plan) -> None:
    for (sub, class_id), enrollment in plan.bundle.staff.items():
        if plan.klass(enrollment) is None:
            continue
        if (sub, class_id) in plan.trust.staff:
            plan.counts["staff"]["unchanged"] += 1
        else:
            plan.decisions.append(staff_assigned(plan.staff_ref_of(sub), class_id))
            plan.counts["staff"]["created"] += 1


NOT_YOUR_SCHOOL = "Not one of your schools."
NOT_YOUR_CLASS = "Not a class of one of your schools."
NOT_YOUR_PUPIL = "Not a pupil of one of your schools."


def refuse_out_of_scope(bundle: Bundle, trust: StoredRoster, principal: Principal) -> None:
    """Before any row is compared with the trust: a school leader's files may name only their own, existing
    schools (trust-wide roles import anything).

    Run first, so the answer to rows outside the caller's schools is this refusal alone — never a
    comparison that would describe another school's class, pupil or leaving date. A row that names
    an existing class or pupil of another school is refused whatever the file says about it, with
    the same words whether it differs from the stored one or not.
    """
    access = Access(principal)
    if access.may_write_framework():
        return
    refused = RowErrors()

    def class_school(class_id: str) -> str | None:
        """The stored class's school wins over the file's (the file cannot move a class into scope)."""
        if class_id in trust.classes:
            return trust.classes[class_id].school_id
        found = bundle.classes.get(class_id)
        return found.values["school_id"] if found else None

    for school_id, row in bundle.schools.items():
        if not access.may_keep_roster(school_id):
            refused.add(ORGS, row.line, "sourcedId", NOT_YOUR_SCHOOL)
        elif school_id not in trust.schools:
            refused.add(ORGS, row.line, "sourcedId", "Only trust leaders and integrations create schools.")
    for class_id, row in bundle.classes.items():
        if not access.may_keep_roster(row.values["school_id"]):
            refused.add(CLASSES, row.line, "schoolSourcedId", NOT_YOUR_SCHOOL)
        elif not access.may_keep_roster(class_school(class_id)):
            refused.add(CLASSES, row.line, "sourcedId", NOT_YOUR_CLASS)
    for pupil_id, row in bundle.students.items():
        stored = trust.pupils.get(pupil_id)
        if stored is not None and not access.may_keep_roster(stored.school_id):
            refused.add(USERS, row.line, "sourcedId", NOT_YOUR_PUPIL)
    for enrollment in (*bundle.pupil_class.values(), *bundle.staff.values()):
        stated, school_id = enrollment.values["school_id"], class_school(enrollment.values["class_id"])
        if stated is not None and not access.may_keep_roster(stated):
            refused.add(ENROLLMENTS, enrollment.line, "schoolSourcedId", NOT_YOUR_SCHOOL)
        elif school_id is not None and not access.may_keep_roster(school_id):
            refused.add(ENROLLMENTS, enrollment.line, "classSourcedId", NOT_YOUR_CLASS)
    if refused:
        raise Forbidden("Nothing was imported: the files name rows outside your schools.",
                      errors=refused.by_field)


def import_roster(query: dict[str, Any], files: dict[str, str]) -> Decide:
    """Import a OneRoster 1.2 CSV roster: multipart files orgs.csv, classes.csv, users.csv, enrollments.csv.

    Schools (orgs of type school), classes (one grade: ``04``/``4`` is Year 4, ``R``/``KG``
    Reception), students as pupils in the class of their one active enrollment (names and
    UPN only in the personal-data table; registered or moved as from the enrollment's ``beginDate``,
    today when it has none or it is later) and teachers' class enrollments as staff assignments
    (by ``username``, their token ``sub``). sourcedIds are the Fathom ids; ``tobedeleted``
    rows are skipped. Every problem is keyed ``<file>.<line>.<column>`` (header = line 1) and
    nothing is written until all four files are clean. A school leader's files may name only their own
    existing schools and those schools' classes and pupils; anything else is refused (403) before any row
    is compared with the trust, so the answer never describes another school's records. Re-importing the
    same files changes nothing; ``dry_run=true`` reports the same counts and writes nothing. At most 5,000 rows a
    file and 4 MiB a request (413 beyond).
    """
    errors = RowErrors()
    today = school_today()
    bundle = read_bundle(files, errors, today)
    dry_run = query["dry_run"]

    def decide(conn: Connection, principal: Principal) -> Decision:
        stored = read_stored_roster(conn, bundle)
        return decide_roster_import(bundle, stored, principal, query["academic_year"], today, dry_run, errors,
                                    lambda sub: staff_ref(conn, sub))

    return decide


def plan_roster_import(bundle: Bundle, stored: StoredRoster, caller: Principal, academic_year: str, today: date,
                       errors: RowErrors, staff_ref_of: Callable[[str], str]) -> Plan:
    """The files compared with ``stored`` (shared with the roll-over from next year's roster): rows outside a school
    leader's schools refused first (403), then every row error at once (422)."""
    refuse_out_of_scope(bundle, stored, caller)
    plan = Plan(bundle, stored, academic_year, errors, today, staff_ref_of)
    for step in (plan_schools, plan_classes, plan_pupils, plan_staff):
        step(plan)
    errors.raise_any()
    return plan


def decide_roster_import(bundle: Bundle, stored: StoredRoster, caller: Principal, academic_year: str, today: date,
                         dry_run: bool, errors: RowErrors, staff_ref_of: Callable[[str], str]) -> Decision:
    """The files compared with ``stored``: one decision creating, moving and updating what differs.

    Refuses rows outside a school leader's schools first (403), then every row error at once (422);
    a dry run answers the same counts and appends nothing.
    """
    plan = plan_roster_import(bundle, stored, caller, academic_year, today, errors, staff_ref_of)
    answer = report(dry_run, **plan.report_counts())
    if dry_run:
        return Decision(events=[], report=answer, status=200)
    return combine(plan.decisions, report=answer)
