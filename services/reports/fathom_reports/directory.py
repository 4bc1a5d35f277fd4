"""``GET /v1/directory``: the schools and classes the caller may read, for navigation (web app, BI tools)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import Connection, text

from fathom_reports.access import READER_ROLES, Access, access_for
from fathom_reports.http.registrar import endpoint
from fathom_reports.responses import json_response, read_store
from fathom_reports.schemas import ConsistencyQuerySchema
from fathom_shared.auth import Principal

blp = Blueprint("directory", __name__, url_prefix="/v1", description="What the caller may read")


class DirectoryClassSchema(Schema):
    class_id = fields.String()
    name = fields.String()
    year_group = fields.Integer()
    academic_year = fields.String()
    pupils = fields.Integer(metadata={"description": "Pupils in the class now (leavers not counted)."})
    sources = fields.List(fields.String(), metadata={
        "description": "The judgement sources the caller may record for the class's pupils (empty: none)."})


class DirectorySchoolSchema(Schema):
    school_id = fields.String()
    name = fields.String()
    readable = fields.Boolean(metadata={"description": "Whether the caller may read the school's analysis."})
    year_groups = fields.List(fields.Integer())
    classes = fields.List(fields.Nested(DirectoryClassSchema))


class DirectorySchema(Schema):
    trust_id = fields.String()
    sub = fields.String()
    roles = fields.List(fields.String())
    trust_wide = fields.Boolean(metadata={"description": "Whether the caller may read the trust analysis."})
    audit = fields.Boolean(metadata={"description": "Whether the caller may read the audit log."})
    assesses = fields.Boolean(metadata={
        "description": "Whether the caller's roles record judgements and interventions (for which pupils: per class)."})
    schools = fields.List(fields.Nested(DirectorySchoolSchema))


def load_directory(connection: Connection, trust_id: str) -> list[dict[str, Any]]:
    """Every school with its classes and their current pupil counts, in name order."""
    schools = {r.school_id: {"school_id": r.school_id, "name": r.name, "classes": []} for r in connection.execute(
        text("SELECT school_id, name FROM rm_schools WHERE trust_id = :t ORDER BY name, school_id"),
        {"t": trust_id})}
    rows = connection.execute(text(
        "SELECT c.class_id, c.school_id, c.name, c.year_group, c.academic_year, "
        "       (SELECT count(*) FROM rm_pupils p WHERE p.trust_id = c.trust_id AND p.class_id = c.class_id "
        "          AND p.left_on IS NULL) AS pupils "
        "FROM rm_classes c WHERE c.trust_id = :t ORDER BY c.year_group, c.name, c.class_id"), {"t": trust_id})
    for r in rows:
        if r.school_id in schools:
            schools[r.school_id]["classes"].append({
                "class_id": r.class_id, "school_id": r.school_id, "name": r.name, "year_group": r.year_group,
                "academic_year": r.academic_year, "pupils": r.pupils})
    return list(schools.values())


def visible_directory(who: Access | Principal, schools: list[dict[str, Any]]) -> dict[str, Any]:
    """Only what the caller may read: a teacher sees their classes' schools and just those classes (their
    token's and their staff assignments' when ``who`` is their :class:`Access`)."""
    access = who if isinstance(who, Access) else Access(who)
    principal = access.principal
    visible = []
    for school in schools:
        classes = [c for c in school["classes"] if access.may_read_class(c["class_id"], c["school_id"])]
        readable = access.may_read_school(school["school_id"])
        if classes or readable:
            visible.append({"school_id": school["school_id"], "name": school["name"], "readable": readable,
                            "year_groups": sorted({c["year_group"] for c in classes}),
                            "classes": [_class_view(access, c) for c in classes]})
    return {"trust_id": principal.trust_id, "sub": principal.sub, "roles": sorted(principal.roles),
            "trust_wide": access.may_read_trust(), "audit": access.may_read_audit(), "assesses": access.may_assess(),
            "schools": visible}


def _class_view(access: Access, klass: dict[str, Any]) -> dict[str, Any]:
    """A listed class, with the sources the caller may record for it (so an entry form offers only those)."""
    return {**{k: v for k, v in klass.items() if k != "school_id"},
            "sources": list(access.recordable_sources(klass["school_id"], klass["class_id"]))}


@endpoint(blp, "/directory", roles=READER_ROLES, query=ConsistencyQuerySchema, response=DirectorySchema,
          problems={422: "Invalid query arguments."})
def directory(principal: Principal, consistency: int | None = None) -> Response:
    """The schools and classes the caller may read (a teacher: their classes; a school leader: their schools;
    trust-wide roles: everything), with year groups and pupil counts, to navigate by."""
    access, schools = read_store(consistency, principal.trust_id).read(
        principal.trust_id, lambda conn, trust_id: (access_for(conn, principal), load_directory(conn, trust_id)))
    return json_response(visible_directory(access, schools))
