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


class SummativeCode(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    words = fields.String(required=True)
    rank = fields.Integer(required=True, strict=True)


class SummativeScaleChosen(EventData):
    """The trust's summative scale, whole (stream ``summative_scale`` / ``trust``): it replaces the one before.

    Chosen from a preset or defined by the trust; see :mod:`fathom_shared.summative_scale` for the rules (a code
    in use keeps its code and rank)."""

    scale_id = fields.String(required=True)
    name = fields.String(required=True)
    codes = fields.List(fields.Nested(SummativeCode), required=True)
    expected_rank = fields.Integer(required=True, strict=True)


class SummativeCell(EventData):
    """What every summative judgement event names: whose judgement, in which subject, at which point. Not an
    event type itself; the read model keeps one current judgement per such cell."""

    judgement_id = fields.String(required=True)
    pupil_id = fields.String(required=True)
    subject = fields.String(required=True)
    academic_year = fields.String(required=True)
    point_id = fields.String(required=True)


class SummativeJudgementRecorded(SummativeCell):
    """A teacher's summative code for a pupil in a subject at an assessment point (stream ``summative`` / the
    pupil id; ``judgement_id`` is the event's id). A later judgement of the same cell replaces it. The source
    teacher is the event's recorded principal; the optional note is erasable personal text (``note_ref``)."""

    class_id = fields.String(required=True)
    code = fields.String(required=True)
    note_ref = fields.String(load_default=None, allow_none=True)


class SummativeJudgementCorrected(SummativeCell):
    """A new code for an earlier judgement (and a new note, when ``note_ref`` is given), with the reason."""

    code = fields.String(required=True)
    note_ref = fields.String(load_default=None, allow_none=True)
    reason_ref = fields.String(load_default=None, allow_none=True)


class SummativeJudgementWithdrawn(SummativeCell):
    """An earlier judgement withdrawn with the reason: the cell has no current judgement after it."""

    reason_ref = fields.String(load_default=None, allow_none=True)


class ParentReportCommentWritten(EventData):
    """The teacher's comment on a pupil's report for parents at one assessment point (stream ``parent_report`` /
    the pupil id). The comment is free text about a child, so the event carries only its id in
    ``personal_texts`` (``comment_ref``; None: the report has no comment). A later one replaces it."""

    pupil_id = fields.String(required=True)
    academic_year = fields.String(required=True)
    point_id = fields.String(required=True)
    comment_ref = fields.String(required=True, allow_none=True)
