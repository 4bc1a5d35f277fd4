"""The teacher's comment on a report for parents (pure rules and fold): who may write it, at which points, and
that the event carries the comment only by reference."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from fathom_api.commands.parent_reports import decide_comment
from fathom_api.refusals import Forbidden, Invalid, NotFound
from fathom_shared.assessment_calendar import default_points
from fathom_shared.event_store import StoredEvent
from fathom_shared.events import serialise
from fathom_shared.read_models.fold import project
from fathom_shared.read_models.parsing import parse_batch
from fathom_shared.read_models.tables import PARENT_REPORT_COMMENTS
from tests.unit.command_fakes import PupilRow, caller

POINTS = default_points("2026-27")
PUPIL = PupilRow("p1", "north", "4a")
COMMENT = {"academic_year": "2026-27", "point_id": "autumn-1", "comment": "  Ada reads widely and with joy.  "}


class Kept:
    """Stands in for ``personal_texts``: what was kept, and the id given for it."""

    def __init__(self) -> None:
        self.texts: list[str | None] = []

    def __call__(self, text: str | None) -> str | None:
        self.texts.append(text)
        return None if text is None else f"ref-{len(self.texts)}"


def test_the_pupils_teacher_writes_a_comment_kept_as_personal_text():
    kept = Kept()
    [event] = decide_comment("p1", PUPIL, COMMENT, POINTS, caller("teacher", classes=frozenset({"4a"})), kept)
    assert (event.stream_type, event.stream_id, event.event_type) == (
        "parent_report", "p1", "ParentReportCommentWritten")
    assert event.data == {"pupil_id": "p1", "academic_year": "2026-27", "point_id": "autumn-1",
                          "comment_ref": "ref-1"}
    assert kept.texts == ["Ada reads widely and with joy."]
    assert "Ada" not in str(event.data)


def test_an_empty_comment_leaves_the_report_without_one():
    kept = Kept()
    [event] = decide_comment("p1", PUPIL, {**COMMENT, "comment": "   "}, POINTS, caller("trust_leader"), kept)
    assert event.data["comment_ref"] is None and kept.texts == [None]


@pytest.mark.parametrize("who", [caller("trust_leader"), caller("school_leader", schools=frozenset({"north"})),
                                 caller("teacher", classes=frozenset({"4a"}))])
def test_leaders_of_the_pupils_school_or_trust_and_their_teachers_may_write(who):
    assert decide_comment("p1", PUPIL, COMMENT, POINTS, who, Kept())


@pytest.mark.parametrize("who", [caller("teacher", classes=frozenset({"4b"})),
                                 caller("school_leader", schools=frozenset({"south"}))])
def test_anyone_else_is_refused(who):
    kept = Kept()
    with pytest.raises(Forbidden):
        decide_comment("p1", PUPIL, COMMENT, POINTS, who, kept)
    assert kept.texts == []


@pytest.mark.parametrize("role", ["auditor", "integration"])
def test_readers_write_nothing(role):
    with pytest.raises(Forbidden):
        decide_comment("p1", PUPIL, COMMENT, POINTS, caller(role), Kept())


def test_an_unknown_pupil_is_not_found():
    with pytest.raises(NotFound):
        decide_comment("p9", None, COMMENT, POINTS, caller("trust_leader"), Kept())


def test_a_point_not_in_the_years_calendar_is_named_and_nothing_is_kept():
    kept = Kept()
    with pytest.raises(Invalid) as refused:
        decide_comment("p1", PUPIL, {**COMMENT, "point_id": "autumn-3"}, POINTS, caller("trust_leader"), kept)
    assert list(refused.value.errors) == ["point_id"]
    assert "autumn-1" in refused.value.errors["point_id"][0]
    assert kept.texts == []


def test_a_leavers_last_report_may_still_be_finished():
    leaver = PupilRow("p1", "north", "4a", left_on=date(2026, 10, 20))
    assert decide_comment("p1", leaver, COMMENT, POINTS, caller("teacher", classes=frozenset({"4a"})), Kept())


def _written(sequence: int, point_id: str, comment_ref: str | None) -> StoredEvent:
    data = {"pupil_id": "p1", "academic_year": "2026-27", "point_id": point_id, "comment_ref": comment_ref}
    return StoredEvent("t", sequence, uuid.uuid4(), "parent_report", "p1", sequence, "ParentReportCommentWritten",
                       1, serialise("ParentReportCommentWritten", data), {"actor_ref": "staff-1"},
                       datetime(2026, 10, 20, 15, tzinfo=UTC), b"", b"")


def test_the_latest_comment_per_pupil_and_point_is_the_reports():
    first, second, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    projection = project(parse_batch([_written(1, "autumn-1", first), _written(2, "autumn-2", other),
                                      _written(3, "autumn-1", second)]))
    rows = sorted(projection.table_rows(PARENT_REPORT_COMMENTS), key=lambda row: row["point_id"])
    assert [(row["point_id"], row["comment_ref"], row["sequence"], row["written_by_ref"]) for row in rows] == [
        ("autumn-1", second, 3, "staff-1"), ("autumn-2", other, 2, "staff-1")]
