"""The report for parents: its query and answer (documentation; a test loads real answers through it)."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.schemas.calendar import AssessmentPointSchema, CalendarQuerySchema, PointInYearSchema
from fathom_reports.schemas.query import ConsistencyQuerySchema
from fathom_shared.assessment_calendar import check_academic_year


class ReportQuerySchema(ConsistencyQuerySchema):
    academic_year = fields.String(required=True, validate=check_academic_year, metadata={
        "example": "2026-27", "description": "The academic year (September to August) of the assessment point."})
    point_id = fields.String(required=True, metadata={
        "example": "autumn-1", "description": "An assessment point of that year's calendar (`GET /v1/calendar`)."})


class ReportPupilSchema(Schema):
    pupil_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True, metadata={"description": "Null once erased."})
    erased = fields.Boolean(required=True)
    school_id = fields.String(required=True)
    class_id = fields.String(required=True, allow_none=True, metadata={
        "description": "The pupil's class now (null for a leaver): whose teachers may write the comment."})
    year_group = fields.Integer(required=True)
    class_name = fields.String(required=True, allow_none=True, metadata={
        "description": "The class the pupil was in at the point's end (null if none)."})
    school_name = fields.String(required=True, allow_none=True)


class StatementSchema(Schema):
    objective_id = fields.String(required=True)
    strand = fields.String(required=True, allow_none=True)
    text = fields.String(required=True, metadata={"description": "The objective in the curriculum's own words."})


class ReportSubjectSchema(Schema):
    subject = fields.String(required=True)
    summative = fields.String(required=True, allow_none=True, metadata={
        "description": "The pupil's summative judgement at the point in the words the trust's summative scale gives "
                       "parents (e.g. 'Working at the expected standard for the year'); null when none was given."})
    strengths = fields.List(fields.Nested(StatementSchema), required=True, metadata={
        "description": "Objectives the pupil is secure in by the point's end (the trust's rollup of the teacher's "
                       "judgements assessed by then)."})
    next_steps = fields.List(fields.Nested(StatementSchema), required=True, metadata={
        "description": "Objectives taught to the pupil (or judged) this academic year by the point's end, not yet "
                       "secure."})


class ParentReportSchema(Schema):
    pupil = fields.Nested(ReportPupilSchema, required=True)
    academic_year = fields.String(required=True)
    point = fields.Nested(AssessmentPointSchema, required=True)
    sequence = fields.Integer(required=True, metadata={
        "description": "The trust's read-model position this answer reflects."})
    subjects = fields.List(fields.Nested(ReportSubjectSchema), required=True, metadata={
        "description": "Subjects with anything to report, by name."})
    comment = fields.String(required=True, allow_none=True, metadata={
        "description": "The teacher's comment at this point (null: none written, or erased)."})


class ClassCommentsQuerySchema(CalendarQuerySchema):
    point_id = fields.String(metadata={
        "example": "autumn-1", "description": "An assessment point of the year; today's (or the latest begun) if "
                                              "left out."})


class ClassCommentSchema(Schema):
    pupil_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True, metadata={"description": "Null once erased."})
    comment = fields.String(required=True, allow_none=True, metadata={
        "description": "The comment on the pupil's report at the point (null: none written, or erased)."})


class ClassCommentsSchema(Schema):
    class_id = fields.String(required=True)
    point = fields.Nested(PointInYearSchema, required=True)
    points = fields.List(fields.Nested(AssessmentPointSchema), required=True, metadata={
        "description": "The year's points, in date order."})
    sequence = fields.Integer(required=True, metadata={
        "description": "The trust's read-model position this answer reflects."})
    written = fields.Integer(required=True, metadata={"description": "How many of the pupils have a comment."})
    pupils = fields.List(fields.Nested(ClassCommentSchema), required=True, metadata={
        "description": "The class's pupils now (a closed class's: those in it when it closed), as a register "
                       "reads."})
