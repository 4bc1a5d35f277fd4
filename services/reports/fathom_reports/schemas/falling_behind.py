"""The falling-behind lists' query and answer."""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_reports.schemas.calendar import PointInYearSchema
from fathom_reports.schemas.summative import SummativeGridQuerySchema

FallingBehindQuerySchema = SummativeGridQuerySchema
"""``academic_year``, ``point_id``, ``subject`` (and ``format``, ``consistency``): as the summative grid's."""


class PointRefSchema(Schema):
    academic_year = fields.String()
    point_id = fields.String()


class ListedPupilSchema(Schema):
    pupil_id = fields.String()
    name = fields.String(allow_none=True, metadata={"description": "Null for a pupil erased from the roster."})
    class_id = fields.String(allow_none=True, metadata={"description": "The pupil's class now."})
    code = fields.String(allow_none=True, metadata={"description": "The code at this point."})
    previous_code = fields.String(allow_none=True, metadata={"description": "The code at the point before."})
    code_two_points_ago = fields.String(allow_none=True)
    current_rank = fields.Integer(allow_none=True)
    previous_rank = fields.Integer(allow_none=True)
    rank_two_points_ago = fields.Integer(allow_none=True)
    disagreement = fields.Dict(metadata={
        "description": "The test band against the teacher's judgements (the moderation prompt), with a test only."})


class GroupCountSchema(Schema):
    group = fields.String(metadata={"example": "pupil_premium",
                                    "description": "A pupil group; the trust's own as custom:<name>."})
    pupils = fields.Integer(metadata={"description": "The group's pupils in the class or school."})
    listed = fields.Integer(metadata={"description": "Of those, on this list."})
    small_group = fields.Boolean(metadata={
        "description": "Fewer pupils than the trust's small-group threshold: a child, not a trend."})


class FallingBehindListSchema(Schema):
    title = fields.String()
    count = fields.Integer()
    pupils = fields.List(fields.Nested(ListedPupilSchema), metadata={"description": "In register order."})
    by_group = fields.List(fields.Nested(GroupCountSchema))


class FallingBehindSchema(Schema):
    scope = fields.String(metadata={"description": "class or school"})
    scope_id = fields.String()
    subject = fields.String()
    point = fields.Nested(PointInYearSchema)
    points = fields.List(fields.Nested(PointRefSchema), metadata={
        "description": "This point and up to two before it in calendar order (crossing academic years)."})
    pupils = fields.Integer(metadata={"description": "The pupils in the class or school now (leavers are not)."})
    expected_rank = fields.Integer()
    expected_code = fields.String(allow_none=True)
    sequence = fields.Integer(metadata={"description": "The trust's read-model position this answer reflects."})
    moved_down = fields.Nested(FallingBehindListSchema, metadata={
        "description": "The code's rank fell since the previous point."})
    below_expected_twice = fields.Nested(FallingBehindListSchema, metadata={
        "description": "Below the expected code at this point and the previous one."})
    disagreement = fields.Nested(FallingBehindListSchema, metadata={
        "description": "The latest test band and the teacher judgements disagree past the trust's margin."})
