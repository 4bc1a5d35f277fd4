"""The assessment calendar's query and answer."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.schemas.query import ExportQuerySchema
from fathom_shared.assessment_calendar import check_academic_year


class CalendarQuerySchema(ExportQuerySchema):
    academic_year = fields.String(validate=check_academic_year, metadata={
        "example": "2026-27", "description": "The academic year (September to August); the current one if left out."})


class AssessmentPointSchema(Schema):
    point_id = fields.String()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class PointInYearSchema(AssessmentPointSchema):
    """An assessment point with its academic year: where views reach across years (the point before)."""

    academic_year = fields.String(metadata={"example": "2026-27"})


class CalendarSchema(Schema):
    academic_year = fields.String()
    default = fields.Boolean(metadata={
        "description": "True when the trust has not set this year's points: these are the six default half terms."})
    sequence = fields.Integer(metadata={"description": "The trust's read-model position this answer reflects."})
    points = fields.List(fields.Nested(AssessmentPointSchema), metadata={"description": "In date order."})
