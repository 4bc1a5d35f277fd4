"""The directory's answer: the schools and classes the caller may read."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.views.reading_order import NAME_ORDER


class DirectoryClassSchema(Schema):
    class_id = fields.String()
    name = fields.String()
    year_group = fields.Integer()
    academic_year = fields.String()
    closed_on = fields.Date(allow_none=True, metadata={
        "description": "The day the class was closed (last year's class after a roll-over: read-only); null: open."})
    pupils = fields.Integer(metadata={"description": "Pupils in the class now (leavers not counted)."})
    sources = fields.List(fields.String(), metadata={
        "description": "The judgement sources the caller may record for the class's pupils (empty: none)."})


class DirectorySchoolSchema(Schema):
    school_id = fields.String()
    name = fields.String()
    readable = fields.Boolean(metadata={"description": "Whether the caller may read the school's analysis."})
    year_groups = fields.List(fields.Integer())
    classes = fields.List(fields.Nested(DirectoryClassSchema), metadata={
        "description": f"By year group, then name. {NAME_ORDER}"})


class DirectorySchema(Schema):
    trust_id = fields.String()
    sub = fields.String()
    roles = fields.List(fields.String())
    trust_wide = fields.Boolean(metadata={"description": "Whether the caller may read the trust analysis."})
    audit = fields.Boolean(metadata={"description": "Whether the caller may read the audit log."})
    assesses = fields.Boolean(metadata={
        "description": "Whether the caller's roles record judgements and interventions (for which pupils: per class)."})
    settings = fields.Boolean(metadata={
        "description": "Whether the caller changes trust-wide settings, such as the assessment calendar."})
    rollover = fields.Boolean(metadata={
        "description": "Whether the caller may start a new school year (the whole trust, or their own school)."})
    schools = fields.List(fields.Nested(DirectorySchoolSchema), metadata={"description": NAME_ORDER})
