"""Meeting decisions' queries and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fathom_reports.schemas.calendar import PointInYearSchema
from fathom_reports.schemas.query import ExportQuerySchema
from fathom_reports.views.meetings import STATUSES
from fathom_shared.assessment_calendar import check_academic_year
from fathom_shared.cycle_events import DECISION_KINDS, MEETING_SCOPES, REVIEW_OUTCOMES


class DecisionListQuerySchema(ExportQuerySchema):
    academic_year = fields.String(validate=check_academic_year, metadata={
        "example": "2026-27", "description": "Only the decisions of meetings in this academic year."})
    overdue = fields.Boolean(load_default=False, metadata={
        "description": "Only decisions whose review point has ended (by the school's clock) without a review."})


class ReviewPointSchema(Schema):
    academic_year = fields.String()
    point_id = fields.String()
    name = fields.String(allow_none=True, metadata={"description": "Null if the point left the calendar."})
    ends_on = fields.Date(allow_none=True)


class ReviewSchema(Schema):
    outcome = fields.String(validate=validate.OneOf(REVIEW_OUTCOMES))
    note = fields.String(allow_none=True, metadata={"description": "Null if none was given or it was erased."})
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime()


class DecisionSchema(Schema):
    decision_id = fields.String()
    scope = fields.String(validate=validate.OneOf(MEETING_SCOPES))
    scope_id = fields.String(metadata={"description": "The class, or the school for a school's meeting."})
    school_id = fields.String()
    class_id = fields.String(allow_none=True)
    academic_year = fields.String()
    point_id = fields.String()
    kind = fields.String(validate=validate.OneOf(DECISION_KINDS))
    text = fields.String(allow_none=True, metadata={
        "description": "What was decided; null once erased (with a pupil it names)."})
    owner = fields.String(allow_none=True, metadata={"description": "The owner's sub; null once they are erased."})
    pupil_ids = fields.List(fields.String())
    intervention_id = fields.String(allow_none=True)
    recorded_by = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    review_point = fields.Nested(ReviewPointSchema)
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "reviewed; overdue (its review point has ended and nobody reviewed it); or open."})
    review = fields.Nested(ReviewSchema, allow_none=True)


class PreviousMeetingSchema(Schema):
    point = fields.Nested(PointInYearSchema, allow_none=True, metadata={
        "description": "The point before this one in the trust's calendar (last year's last point before the "
                       "first of a year)."})
    decisions = fields.List(fields.Nested(DecisionSchema))


class MeetingSchema(Schema):
    class_id = fields.String()
    school_id = fields.String()
    academic_year = fields.String()
    point = fields.Nested(PointInYearSchema)
    sequence = fields.Integer(metadata={"description": "The trust's read-model position this answer reflects."})
    decisions = fields.List(fields.Nested(DecisionSchema), metadata={"description": "This meeting's decisions."})
    previous_meeting = fields.Nested(PreviousMeetingSchema)
    due_here = fields.List(fields.Nested(DecisionSchema), metadata={
        "description": "Every decision of the class whose review point is this meeting's."})


class DecisionListSchema(Schema):
    school_id = fields.String(allow_none=True)
    academic_year = fields.String(allow_none=True)
    overdue = fields.Boolean()
    sequence = fields.Integer()
    decisions = fields.List(fields.Nested(DecisionSchema))
