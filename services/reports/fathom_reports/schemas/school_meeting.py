"""A school's pupil progress meeting: its query and answer."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.schemas.calendar import AssessmentPointSchema, PointInYearSchema
from fathom_reports.schemas.class_analysis import TrustSettingsSchema
from fathom_reports.schemas.meetings import DecisionSchema
from fathom_reports.schemas.summative import SummativeGridQuerySchema
from fathom_reports.schemas.summative_figures import CodeTallySchema
from fathom_reports.views.reading_order import NAME_ORDER


class SchoolMeetingQuerySchema(SummativeGridQuerySchema):
    subject = fields.String(metadata={
        "example": "maths", "description": "The subject; the first of the trust's subjects if left out."})


class MovesSchema(Schema):
    up = fields.Integer(metadata={"description": "Pupils whose code now is above their code at the point before."})
    same = fields.Integer()
    down = fields.Integer()
    not_compared = fields.Integer(metadata={
        "description": "Pupils with no code (or one the scale no longer has) at the point before."})


class ChangeSchema(Schema):
    now = fields.Nested(CodeTallySchema, metadata={"description": "The codes given at this point."})
    before = fields.Nested(CodeTallySchema, metadata={
        "description": "The same pupils' own codes at the point before, whichever class gave them."})
    moved = fields.Nested(MovesSchema)


class MeetingCountsSchema(Schema):
    recorded = fields.Integer(metadata={"description": "Decisions the class's meeting recorded at this point."})
    due_here = fields.Integer(metadata={"description": "The class's decisions to be reviewed at this point."})
    overdue = fields.Integer(metadata={"description": "The class's decisions overdue for review (any point)."})


class ClassMeetingLinksSchema(Schema):
    meeting = fields.String(metadata={"description": "The class's meeting at this point, where its decisions live."})
    summative = fields.String()
    falling_behind = fields.String()


class ClassChangeSchema(ChangeSchema):
    class_id = fields.String()
    name = fields.String(allow_none=True)
    decisions = fields.Nested(MeetingCountsSchema)
    links = fields.Nested(ClassMeetingLinksSchema)


class SchoolMeetingLinksSchema(Schema):
    falling_behind = fields.String()
    summative = fields.String()


class SchoolMeetingSchema(Schema):
    school_id = fields.String()
    school_name = fields.String(allow_none=True)
    academic_year = fields.String()
    point = fields.Nested(PointInYearSchema)
    previous_point = fields.Nested(PointInYearSchema, allow_none=True, metadata={
        "description": "The point before in the trust's calendar (last year's last point before a year's first)."})
    points = fields.List(fields.Nested(AssessmentPointSchema), metadata={"description": "The year's points."})
    subject = fields.String()
    subjects = fields.List(fields.String(), metadata={"description": f"{NAME_ORDER} The first is the default."})
    settings = fields.Nested(TrustSettingsSchema)
    expected_code = fields.String(allow_none=True)
    sequence = fields.Integer(metadata={"description": "The trust's read-model position this answer reflects."})
    pooled = fields.Nested(ChangeSchema, metadata={
        "description": "Every pupil given a code at this point in one of the school's classes, pooled."})
    classes = fields.List(fields.Nested(ClassChangeSchema), metadata={
        "description": "The school's classes of the year, by year group, then name: pupils here are those the class "
                       "gave a code at this point."})
    decisions = fields.List(fields.Nested(DecisionSchema), metadata={
        "description": "Every decision recorded at this point by the school's meetings (its classes' and its own)."})
    due_here = fields.List(fields.Nested(DecisionSchema), metadata={
        "description": "Every decision of the school's meetings whose review point is this one."})
    overdue = fields.List(fields.Nested(DecisionSchema), metadata={
        "description": "Every decision of the school's meetings overdue for review now (by the school's clock)."})
    links = fields.Nested(SchoolMeetingLinksSchema)
