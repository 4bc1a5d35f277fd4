"""Reading a OneRoster 1.2 CSV bundle (orgs, classes, users, enrollments): file checks only, no database.

What can be checked from the files alone is checked here, every problem keyed
``<file>.<line>.<column>``. References that may point at something already in the trust (a
class's school, an enrollment's class) are resolved by :mod:`fathom_api.imports.oneroster`,
which reads the trust's command-side state.

Only what Fathom keeps is read: schools, classes with one year group, students (names and UPN
for ``pupil_personal``), teachers (their ``username`` is their token ``sub``) and class
enrollments. Other columns, org types and roles are allowed and ignored, as OneRoster expects.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from fathom_api.imports.csv_table import CsvRow, CsvTable, RowErrors, load_row, parse_csv
from fathom_api.schemas import UPN, YEAR_GROUP, identifier

ORGS, CLASSES, USERS, ENROLLMENTS = FILES = ("orgs.csv", "classes.csv", "users.csv", "enrollments.csv")
REQUIRED = {
    ORGS: ("sourcedId", "name", "type"),
    CLASSES: ("sourcedId", "title", "grades", "schoolSourcedId"),
    USERS: ("sourcedId", "username", "givenName", "familyName"),
    ENROLLMENTS: ("sourcedId", "classSourcedId", "userSourcedId", "role"),
}
PERSONAL_COLUMNS = {"givenName": "given_name", "familyName": "family_name", "identifier": "upn"}
TO_BE_DELETED = "tobedeleted"
RECEPTION = ("R", "KG")


class Grade(fields.Field):
    """A OneRoster grade as a year group: ``04`` or ``4`` is Year 4, ``R`` / ``KG`` (Reception) is 0."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        text = str(value).strip().upper()
        if "," in text:
            raise ValidationError("Give one grade: a Fathom class has one year group.")
        if text in RECEPTION:
            return 0
        if text.isdigit():
            YEAR_GROUP(int(text))
            return int(text)
        raise ValidationError("Use a grade such as 04, 4, R or KG.")


class OrgSchool(Schema):
    school_id = identifier(required=True, data_key="sourcedId")
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClassLine(Schema):
    class_id = identifier(required=True, data_key="sourcedId")
    name = fields.String(required=True, data_key="title", validate=validate.Length(min=1, max=100))
    year_group = Grade(required=True, data_key="grades")
    school_id = identifier(required=True, data_key="schoolSourcedId")


class Student(Schema):
    """Names and UPN are read only to go to ``pupil_personal``; they never reach an event."""

    pupil_id = identifier(required=True, data_key="sourcedId")
    given_name = fields.String(load_default=None, data_key="givenName", validate=validate.Length(max=100))
    family_name = fields.String(load_default=None, data_key="familyName", validate=validate.Length(max=100))
    upn = fields.String(load_default=None, data_key="identifier", validate=UPN)


class Teacher(Schema):
    user_id = fields.String(required=True, data_key="sourcedId", validate=validate.Length(min=1, max=200))
    staff_sub = fields.String(required=True, data_key="username", validate=validate.Length(min=1, max=200))


class Enrollment(Schema):
    class_id = identifier(required=True, data_key="classSourcedId")
    user_id = fields.String(required=True, data_key="userSourcedId", validate=validate.Length(min=1, max=200))
    school_id = identifier(load_default=None, data_key="schoolSourcedId")
    begin_date = fields.Date(load_default=None, data_key="beginDate")
    end_date = fields.Date(load_default=None, data_key="endDate")


@dataclass(frozen=True)
class Line:
    """One usable row: its line (for errors) and its values by Fathom's names."""

    line: int
    values: dict[str, Any]


@dataclass
class Bundle:
    """The files' content as Fathom sees it, before it is compared with the trust."""

    schools: dict[str, Line] = field(default_factory=dict)
    classes: dict[str, Line] = field(default_factory=dict)
    broken: set[tuple[str, str]] = field(default_factory=set)
    """(kind, sourcedId) of rows with errors: what refers to them is not "unknown" as well."""
    students: dict[str, Line] = field(default_factory=dict)
    """``values`` are the personal details the file gives (only the columns it has)."""
    teachers: dict[str, Line] = field(default_factory=dict)
    pupil_class: dict[str, Line] = field(default_factory=dict)
    """A student's one active class enrollment, by pupil id."""
    staff: dict[tuple[str, str], Line] = field(default_factory=dict)
    """Teacher enrollments by (username, class id)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Rows marked ``tobedeleted`` by the kind they feed (schools, classes, pupils, staff)."""


def read_bundle(texts: dict[str, str], errors: RowErrors, today: date) -> Bundle:
    """Parse and check the four files; problems go to ``errors``, usable rows into the bundle."""
    tables = {name: parse_csv(texts[name], name, REQUIRED[name], errors=errors, extra_columns=True)
              for name in FILES}
    if tables[USERS].columns and not {"role", "roles"} & set(tables[USERS].columns):
        errors.add(USERS, 1, "role", "Missing column: give role or roles.")
    if any(not table.columns or not {*REQUIRED[name]} <= {*table.columns} for name, table in tables.items()) or (
            USERS + ".1.role" in errors.by_field):
        errors.raise_any()  # without its columns a file's rows cannot be checked, nor what refers to them
    bundle = Bundle()
    deleted: set[tuple[str, str]] = set()
    _read_orgs(tables[ORGS], bundle, errors)
    _read_classes(tables[CLASSES], bundle, errors, deleted)
    _read_users(tables[USERS], bundle, errors, deleted)
    _read_enrollments(tables[ENROLLMENTS], bundle, errors, deleted, today)
    return bundle


def _live(row: CsvRow, prefix: str, errors: RowErrors) -> bool | None:
    """True for an active row, False for one marked ``tobedeleted``, None (an error) otherwise."""
    status = row.values.get("status", "").lower()
    if status in ("", "active"):
        return True
    if status == TO_BE_DELETED:
        return False
    errors.add(prefix, row.line, "status", "Use active, tobedeleted or leave it blank.")
    return None


def _first(seen: dict[str, int], key: str, prefix: str, line: int, errors: RowErrors) -> bool:
    """True the first time ``key`` (a sourcedId) appears in a file; a repeat is an error."""
    if key and key in seen:
        errors.add(prefix, line, "sourcedId", f"Same sourcedId as line {seen[key]}.")
        return False
    seen[key] = line
    return True


def _read_orgs(table: CsvTable, bundle: Bundle, errors: RowErrors) -> None:
    seen: dict[str, int] = {}
    for row in table.rows:
        if row.values.get("type", "").lower() != "school":
            continue
        live, school_id = _live(row, ORGS, errors), row.values.get("sourcedId", "")
        if not _first(seen, school_id, ORGS, row.line, errors):
            continue
        if live is False:
            bundle.skipped["schools"] += 1
        elif live and (school := load_row(OrgSchool(), row, ORGS, errors)) is not None:
            bundle.schools[school["school_id"]] = Line(row.line, school)
        else:
            bundle.broken.add(("school", school_id))


def _read_classes(table: CsvTable, bundle: Bundle, errors: RowErrors, deleted: set[tuple[str, str]]) -> None:
    seen: dict[str, int] = {}
    for row in table.rows:
        live, class_id = _live(row, CLASSES, errors), row.values.get("sourcedId", "")
        if not _first(seen, class_id, CLASSES, row.line, errors):
            continue
        if live is False:
            bundle.skipped["classes"] += 1
            deleted.add(("class", class_id))
        elif live and (klass := load_row(ClassLine(), row, CLASSES, errors)) is not None:
            bundle.classes[klass["class_id"]] = Line(row.line, klass)
        else:
            bundle.broken.add(("class", class_id))


def roles_of(row: CsvRow) -> set[str]:
    """The user's roles from ``role`` (OneRoster 1.1 style) or ``roles`` (a comma-separated list)."""
    cell = row.values.get("role") or row.values.get("roles") or ""
    return {role for role in re.split(r"[,;\s]+", cell.lower()) if role}


def _read_users(table: CsvTable, bundle: Bundle, errors: RowErrors, deleted: set[tuple[str, str]]) -> None:
    seen: dict[str, int] = {}
    personal_columns = [c for c in PERSONAL_COLUMNS if c in table.columns]
    role_column = "role" if "role" in table.columns else "roles"
    for row in table.rows:
        live, user_id = _live(row, USERS, errors), row.values.get("sourcedId", "")
        if not _first(seen, user_id, USERS, row.line, errors):
            continue
        roles = roles_of(row) & {"student", "teacher"}
        if len(roles) > 1:
            errors.add(USERS, row.line, role_column, "A user is a student or a teacher, not both.")
            bundle.broken.add(("user", user_id))
            continue
        if not roles:
            continue  # parents, aides, administrators: not on Fathom's roster
        kind = "pupils" if "student" in roles else "staff"
        if live is False:
            bundle.skipped[kind] += 1
            deleted.add(("user", user_id))
        elif live and kind == "pupils" and (student := load_row(Student(), row, USERS, errors)) is not None:
            personal = {PERSONAL_COLUMNS[c]: student[PERSONAL_COLUMNS[c]] for c in personal_columns}
            bundle.students[student["pupil_id"]] = Line(row.line, personal)
        elif live and kind == "staff" and (teacher := load_row(Teacher(), row, USERS, errors)) is not None:
            bundle.teachers[teacher["user_id"]] = Line(row.line, teacher)
        else:
            bundle.broken.add(("user", user_id))


def _read_enrollments(table: CsvTable, bundle: Bundle, errors: RowErrors, deleted: set[tuple[str, str]],
                      today: date) -> None:
    """A student's active enrollment gives their class (one only); a teacher's, a staff assignment.

    Enrollments that ended before ``today`` are history and ignored; those of a row marked
    ``tobedeleted`` (or of a deleted user or class) are skipped.
    """
    for row in table.rows:
        live, role = _live(row, ENROLLMENTS, errors), row.values.get("role", "").lower()
        if role not in ("student", "teacher") or live is None:
            continue
        kind = "pupils" if role == "student" else "staff"
        enrollment = load_row(Enrollment(), row, ENROLLMENTS, errors) if live else None
        if not live or (enrollment is not None and ({("class", enrollment["class_id"]),
                                                     ("user", enrollment["user_id"])} & deleted)):
            bundle.skipped[kind] += 1
            continue
        if enrollment is None or (enrollment["end_date"] is not None and enrollment["end_date"] < today):
            continue
        if role == "student":
            _student_enrollment(bundle, errors, Line(row.line, enrollment))
        else:
            _teacher_enrollment(bundle, errors, Line(row.line, enrollment))


def _user_check(bundle: Bundle, errors: RowErrors, enrollment: Line, role: str) -> bool:
    user_id = enrollment.values["user_id"]
    mine, other = (bundle.students, bundle.teachers) if role == "student" else (bundle.teachers, bundle.students)
    if user_id in mine:
        return True
    if ("user", user_id) in bundle.broken:
        return False
    if user_id in other:
        errors.add(ENROLLMENTS, enrollment.line, "role",
                   f"{user_id} is not a {role} in users.csv (line {other[user_id].line}).")
    else:
        errors.add(ENROLLMENTS, enrollment.line, "userSourcedId", f"Unknown user {user_id}: not in users.csv.")
    return False


def _student_enrollment(bundle: Bundle, errors: RowErrors, enrollment: Line) -> None:
    if not _user_check(bundle, errors, enrollment, "student"):
        return
    pupil_id = enrollment.values["user_id"]
    earlier = bundle.pupil_class.get(pupil_id)
    if earlier is not None and earlier.values["class_id"] != enrollment.values["class_id"]:
        errors.add(ENROLLMENTS, enrollment.line, "classSourcedId",
                   f"Student {pupil_id} is enrolled in {earlier.values['class_id']} (line {earlier.line}) and "
                   f"{enrollment.values['class_id']} (line {enrollment.line}); a pupil is in one class.")
        return
    bundle.pupil_class.setdefault(pupil_id, enrollment)


def _teacher_enrollment(bundle: Bundle, errors: RowErrors, enrollment: Line) -> None:
    if _user_check(bundle, errors, enrollment, "teacher"):
        sub = bundle.teachers[enrollment.values["user_id"]].values["staff_sub"]
        bundle.staff.setdefault((sub, enrollment.values["class_id"]), enrollment)
