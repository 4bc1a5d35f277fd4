"""The data schemas of the half-termly assessment cycle's events (the assessment calendar first).

Apart from :mod:`fathom_shared.events`, which lists every event type and its version, so the events of the
cycle a trust runs each half term are read together.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from fathom_shared.event_data import EventData


class AssessmentPoint(Schema):
    point_id = fields.String(required=True)
    name = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class AssessmentPointsSet(EventData):
    """The whole list of one academic year's assessment points (stream ``calendar`` / the academic year):
    it replaces the year's previous list (see :mod:`fathom_shared.assessment_calendar` for the rules)."""

    academic_year = fields.String(required=True)
    points = fields.List(fields.Nested(AssessmentPoint), required=True)


class ParentReportCommentWritten(EventData):
    """The teacher's comment on a pupil's report for parents at one assessment point (stream ``parent_report`` /
    the pupil id). The comment is free text about a child, so the event carries only its id in
    ``personal_texts`` (``comment_ref``; None: the report has no comment). A later one replaces it."""

    pupil_id = fields.String(required=True)
    academic_year = fields.String(required=True)
    point_id = fields.String(required=True)
    comment_ref = fields.String(required=True, allow_none=True)
