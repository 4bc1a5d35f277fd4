"""The data schemas of the half-termly assessment cycle's events: the assessment calendar, summative
judgements, the meetings' decisions and the new school year's ``ClassClosed``.

Apart from :mod:`fathom_shared.events`, which lists every event type and its version, so the events of the
cycle a trust runs each half term are read together.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

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


MEETING_SCOPES = ("class", "school")
"""A pupil progress meeting is held for one class, or (leaders) for a whole school."""
DECISION_KINDS = ("teaching_change", "intervention_started", "professional_learning", "pupil_to_watch")
REVIEW_OUTCOMES = ("done", "continue", "dropped")
"""``continue``: reviewed, and it goes on (the meeting may record it again with a later review point)."""


class MeetingDecisionRecorded(EventData):
    """A decision of a pupil progress meeting (stream ``meeting`` / ``<scope>:<scope_id>:<year>:<point_id>``).

    What was decided is free text about children, so the event carries it by id (``text_ref``, an erasable
    row of ``personal_texts``), and the owner by their erasable ``staff_ref`` (``owner_ref``). It is reviewed
    at ``review_point_id`` of ``review_academic_year`` (at or after the meeting's point).
    """

    decision_id = fields.String(required=True)
    scope = fields.String(required=True, validate=validate.OneOf(MEETING_SCOPES))
    scope_id = fields.String(required=True)
    """The class id, or the school id for a school meeting."""
    school_id = fields.String(required=True)
    academic_year = fields.String(required=True)
    point_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(DECISION_KINDS))
    text_ref = fields.String(required=True, allow_none=True)
    owner_ref = fields.String(required=True, allow_none=True)
    review_academic_year = fields.String(required=True)
    review_point_id = fields.String(required=True)
    pupil_ids = fields.List(fields.String(), load_default=list)
    intervention_id = fields.String(load_default=None, allow_none=True)
    """For ``intervention_started``: the intervention (started by the intervention command) it links."""


class MeetingDecisionReviewed(EventData):
    """What became of a decision, said at a later meeting (same stream as the decision); once per decision."""

    decision_id = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(REVIEW_OUTCOMES))
    note_ref = fields.String(load_default=None, allow_none=True)


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


class ClassClosed(EventData):
    """Last year's class is kept read-only from ``closed_on`` (stream ``class`` / the class id): its history
    stays readable, and every command that would write to it is refused. Appended by the roll-over to a new
    school year once the class's pupils have moved up or left."""

    class_id = fields.String(required=True)
    closed_on = fields.Date(required=True)


class ParentReportCommentWritten(EventData):
    """The teacher's comment on a pupil's report for parents at one assessment point (stream ``parent_report`` /
    the pupil id). The comment is free text about a child, so the event carries only its id in
    ``personal_texts`` (``comment_ref``; None: the report has no comment). A later one replaces it."""

    pupil_id = fields.String(required=True)
    academic_year = fields.String(required=True)
    point_id = fields.String(required=True)
    comment_ref = fields.String(required=True, allow_none=True)


CYCLE_EVENTS: tuple[type[EventData], ...] = (
    AssessmentPointsSet, ClassClosed, MeetingDecisionRecorded, MeetingDecisionReviewed, SummativeScaleChosen,
    SummativeJudgementRecorded, SummativeJudgementCorrected, SummativeJudgementWithdrawn, ParentReportCommentWritten,
)
"""The cycle's event types (:data:`fathom_shared.events.EVENT_SCHEMAS` lists them with the rest)."""
