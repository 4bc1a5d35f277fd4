"""The data schemas of the half-termly assessment cycle's events (the assessment calendar first, then the new
school year's ``ClassClosed``).

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


class ClassClosed(EventData):
    """Last year's class is kept read-only from ``closed_on`` (stream ``class`` / the class id): its history
    stays readable, and every command that would write to it is refused. Appended by the roll-over to a new
    school year once the class's pupils have moved up or left."""

    class_id = fields.String(required=True)
    closed_on = fields.Date(required=True)
