"""The assessment calendar's query and answer."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields

from fathom_reports.schemas.query import ExportQuerySchema
from fathom_shared.assessment_calendar import first_calendar_year


def _academic_year(value: str) -> None:
    if first_calendar_year(value) is None:
        raise ValidationError("Expected an academic year such as 2026-27.")


class CalendarQuerySchema(ExportQuerySchema):
    academic_year = fields.String(validate=_academic_year, metadata={
        "example": "2026-27", "description": "The academic year (September to August); the current one if left out."})


class AssessmentPointSchema(Schema):
    point_id = fields.String()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()


class CalendarSchema(Schema):
    academic_year = fields.String()
    default = fields.Boolean(metadata={
        "description": "True when the trust has not set this year's points: these are the six default half terms."})
    sequence = fields.Integer(metadata={"description": "The trust's read-model position this answer reflects."})
    points = fields.List(fields.Nested(AssessmentPointSchema), metadata={"description": "In date order."})
