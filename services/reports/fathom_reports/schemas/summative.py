"""The summative scale's and a class's summative grid's queries and answers."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.schemas.calendar import AssessmentPointSchema, CalendarQuerySchema, PointInYearSchema
from fathom_reports.schemas.query import ExportQuerySchema
from fathom_reports.views.reading_order import NAME_ORDER


class SummativeCodeSchema(Schema):
    code = fields.String(metadata={"description": "As teachers type it, e.g. EXS."})
    label = fields.String(metadata={"description": "For staff."})
    words = fields.String(metadata={"description": "For parents."})
    rank = fields.Integer(metadata={"description": "Low = further behind."})
    at_or_above_expected = fields.Boolean()


class SummativeScaleSchema(Schema):
    scale_id = fields.String()
    name = fields.String()
    default = fields.Boolean(metadata={"description": "True while the trust has not chosen a scale."})
    expected_rank = fields.Integer(metadata={"description": "Codes ranked at or above it are at or above expected."})
    sequence = fields.Integer(metadata={"description": "The trust's read-model position this answer reflects."})
    codes = fields.List(fields.Nested(SummativeCodeSchema), metadata={"description": "Lowest rank first."})


class SummativeGridQuerySchema(CalendarQuerySchema):
    point_id = fields.String(metadata={
        "example": "autumn-2", "description": "One of the year's points; today's (or the last begun) if left out."})
    subject = fields.String(metadata={
        "example": "maths", "description": "The subject; the first of the class's subjects if left out."})


class LatestScoreSchema(Schema):
    score = fields.Integer()
    test = fields.String()
    taken_on = fields.Date()


class PromptSchema(Schema):
    taught = fields.Integer(metadata={
        "description": "The subject's objectives taught to the class by the point's end."})
    judged = fields.Integer(metadata={"description": "The subject's objectives the pupil has a teacher judgement of."})
    secure = fields.Integer(metadata={"description": "Of those, judged secure."})
    score = fields.Nested(LatestScoreSchema, allow_none=True, metadata={
        "description": "The pupil's latest standardised score in the subject."})


class SummativePupilSchema(Schema):
    pupil_id = fields.String()
    name = fields.String(allow_none=True)
    code = fields.String(allow_none=True, metadata={"description": "The current code at the point (null: none)."})
    label = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True)
    judgement_id = fields.String(allow_none=True, metadata={"description": "To correct or withdraw it."})
    note = fields.String(allow_none=True)
    at_or_above_expected = fields.Boolean(allow_none=True)
    previous_code = fields.String(allow_none=True, metadata={"description": "The code at the previous point."})
    moved = fields.String(allow_none=True, metadata={
        "description": "up, down or same: the code's rank against the previous point's (null without both)."})
    prompt = fields.Nested(PromptSchema, metadata={
        "description": "What the objective judgements and the latest score suggest: a prompt, never a fill."})


class ClassSummativeSchema(Schema):
    class_id = fields.String()
    class_name = fields.String()
    year_group = fields.Integer()
    academic_year = fields.String(metadata={
        "example": "2026-27", "description": "The class's own academic year: the grid opens at its points and "
                                            "offers none of a later year (an earlier year's, as a baseline)."})
    subject = fields.String()
    subjects = fields.List(fields.String(), metadata={"description": f"{NAME_ORDER} The first is the default."})
    point = fields.Nested(PointInYearSchema)
    previous_point = fields.Nested(PointInYearSchema, allow_none=True, metadata={
        "description": "The point before, in calendar order (the year before's last for a year's first)."})
    points = fields.List(fields.Nested(AssessmentPointSchema))
    scale = fields.List(fields.Nested(SummativeCodeSchema))
    expected_rank = fields.Integer()
    sequence = fields.Integer()
    pupils = fields.List(fields.Nested(SummativePupilSchema), metadata={
        "description": "The class's pupils now (a closed class's: those in it when it closed)."})


__all__ = ["ClassSummativeSchema", "ExportQuerySchema", "SummativeGridQuerySchema", "SummativeScaleSchema"]
