"""Queries and answers of leaders' summative figures: pooled per school/class at a point, and cohorts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fathom_reports.schemas.calendar import CalendarQuerySchema, PointInYearSchema
from fathom_reports.schemas.class_analysis import TrustSettingsSchema
from fathom_reports.schemas.query import _validate_group
from fathom_reports.views.pupil_groups import CUSTOM_PREFIX, GROUP_FILTERS
from fathom_reports.views.reading_order import NAME_ORDER
from fathom_shared.assessment_calendar import check_academic_year

_SUBJECT = {"example": "maths", "description": "The subject; the trust's first subject if left out."}
_GROUP = {"description": "Only pupils in this group (their groups now); `sen` means SEN support or EHCP; "
                         f"`{CUSTOM_PREFIX}<name>` a trust-defined group.",
          "examples": [*sorted(GROUP_FILTERS), f"{CUSTOM_PREFIX}looked after"]}


class PointFiguresQuerySchema(CalendarQuerySchema):
    point_id = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "example": "autumn-2", "description": "One of the year's points; today's (or the last begun) if left out."})
    subject = fields.String(validate=validate.Length(min=1, max=200), metadata=_SUBJECT)
    year_group = fields.Integer(strict=False, validate=validate.Range(min=0, max=14), metadata={
        "description": "Only codes given in classes of this year group (0 = Reception); every year group if left out."})
    group = fields.String(validate=_validate_group, metadata=_GROUP)


class CohortQuerySchema(CalendarQuerySchema):
    academic_year = fields.String(validate=check_academic_year, metadata={
        "example": "2026-27", "description": "The last year shown (this year if left out): the cohort is always "
                                             "the pupils in the year group now."})
    year_group = fields.Integer(required=True, strict=False, validate=validate.Range(min=0, max=14), metadata={
        "description": "The cohort: the pupils in this year group now, this academic year (0 = Reception), "
                       "followed back through the years."})
    school_id = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "One school's cohort (required for school leaders); the trust's if left out."})
    subject = fields.String(validate=validate.Length(min=1, max=200), metadata=_SUBJECT)
    group = fields.String(validate=_validate_group, metadata=_GROUP)


class CodeCountSchema(Schema):
    code = fields.String()
    label = fields.String()
    rank = fields.Integer(allow_none=True, metadata={"description": "Null for a code the scale no longer has."})
    count = fields.Integer(metadata={"description": "Pupils with this code."})
    at_or_above_expected = fields.Boolean()


class CodeTallySchema(Schema):
    counts = fields.List(fields.Nested(CodeCountSchema), metadata={"description": "Lowest rank first."})
    pupils = fields.Integer(allow_none=True, metadata={
        "description": "The pupils in view (a cohort's); null where only those judged are known."})
    assessed = fields.Integer(metadata={"description": "Pupils with a code at the point."})
    not_assessed = fields.Integer(allow_none=True)
    at_or_above_expected = fields.Integer()
    percent_at_or_above_expected = fields.Float(allow_none=True, metadata={
        "description": "Of those assessed, from pooled pupils: never an average of percentages."})
    small_group = fields.Boolean(metadata={"description": "Fewer assessed than the trust's small-group threshold."})


class FiguresLinksSchema(Schema):
    summative = fields.String(metadata={"description": "The same figures one level down."})


class SchoolFiguresSchema(CodeTallySchema):
    school_id = fields.String()
    name = fields.String(allow_none=True)
    links = fields.Nested(FiguresLinksSchema)


class ClassFiguresSchema(CodeTallySchema):
    class_id = fields.String()
    name = fields.String(allow_none=True)
    links = fields.Nested(FiguresLinksSchema)


class FiguresFiltersSchema(Schema):
    year_group = fields.Integer(allow_none=True)
    group = fields.String(allow_none=True)
    school_id = fields.String(allow_none=True)


class PointFiguresSchema(Schema):
    level = fields.String(metadata={"description": "trust (per school) or school (per class)."})
    filters = fields.Nested(FiguresFiltersSchema)
    subject = fields.String()
    subjects = fields.List(fields.String(), metadata={"description": f"{NAME_ORDER} The first is the default."})
    settings = fields.Nested(TrustSettingsSchema)
    point = fields.Nested(PointInYearSchema)
    expected_rank = fields.Integer()
    sequence = fields.Integer()
    pooled = fields.Nested(CodeTallySchema, metadata={"description": "Every pupil judged in view, pooled."})
    schools = fields.List(fields.Nested(SchoolFiguresSchema), metadata={
        "description": f"The trust's view. {NAME_ORDER}"})
    classes = fields.List(fields.Nested(ClassFiguresSchema), metadata={
        "description": f"A school's view, by year group, then name. {NAME_ORDER}"})


class GroupTallySchema(CodeTallySchema):
    group = fields.String()


class CohortPointSchema(CodeTallySchema):
    academic_year = fields.String()
    year_group = fields.Integer(metadata={"description": "The cohort's year group that year."})
    point_id = fields.String()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    by_group = fields.List(fields.Nested(GroupTallySchema), metadata={
        "description": "The same per fixed pupil group (pupils: the cohort's members of the group)."})


class ScaleCodeSchema(Schema):
    code = fields.String()
    label = fields.String()
    rank = fields.Integer()


class CohortSchema(Schema):
    filters = fields.Nested(FiguresFiltersSchema)
    academic_year = fields.String(metadata={"description": "The last year shown."})
    current_year = fields.String(metadata={"description": "This year: the cohort is in ``year_group`` now."})
    year_group = fields.Integer()
    subject = fields.String()
    subjects = fields.List(fields.String(), metadata={"description": f"{NAME_ORDER} The first is the default."})
    settings = fields.Nested(TrustSettingsSchema)
    pupils = fields.Integer(metadata={"description": "The cohort's pupils now (after the group filter)."})
    expected_rank = fields.Integer()
    scale = fields.List(fields.Nested(ScaleCodeSchema))
    sequence = fields.Integer()
    points = fields.List(fields.Nested(CohortPointSchema), metadata={
        "description": "Every assessment point from the cohort's earliest code to the year asked, in order."})
