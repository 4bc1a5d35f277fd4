"""The command-side tables follow the appended events through one module (a fake connection, no database)."""

from __future__ import annotations

from typing import Any

from fathom_api.command_table_fold import WRITES, apply
from fathom_shared.event_store import NewEvent
from fathom_shared.events import EVENT_SCHEMAS, OBJECTIVE_FIELDS

NOT_ON_COMMAND_TABLES = {
    "JudgementRecorded", "JudgementCorrected", "JudgementWithdrawn", "ObjectiveTaught", "InterventionStarted",
    "InterventionPupilsChanged", "InterventionEnded", "RollupMethodChanged", "TrustSettingsChanged",
    "TrustSettingsReset", "StandardisedScoreRecorded", "StaffErased", "AssessmentPointsSet",
    "MeetingDecisionRecorded", "MeetingDecisionReviewed",
    "SummativeScaleChosen", "SummativeJudgementRecorded", "SummativeJudgementCorrected", "SummativeJudgementWithdrawn",
    "ParentReportCommentWritten",
}
"""Events the rules read from the log itself (or, for StaffErased, whose table change the command makes)."""


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, list[dict[str, Any]]]] = []

    def execute(self, statement: Any, params: list[dict[str, Any]]) -> None:
        self.calls.append((statement, params))


def test_every_event_type_either_changes_a_command_table_or_is_known_not_to():
    assert set(WRITES) | NOT_ON_COMMAND_TABLES == set(EVENT_SCHEMAS)
    assert not set(WRITES) & NOT_ON_COMMAND_TABLES


def test_consecutive_events_of_one_type_are_one_statement_in_order():
    events = [NewEvent("school", "s1", "SchoolCreated", {"school_id": "s1", "name": "A"}),
              NewEvent("school", "s2", "SchoolCreated", {"school_id": "s2", "name": "B"}),
              NewEvent("pupil", "p1", "JudgementRecorded", {"pupil_id": "p1"}),
              NewEvent("pupil", "p1", "PupilLeft", {"pupil_id": "p1", "left_on": "2025-09-01"}),
              NewEvent("school", "s3", "SchoolCreated", {"school_id": "s3", "name": "C"})]
    conn = Recorder()
    apply(conn, events)  # type: ignore[arg-type]
    assert [(statement, [p.get("school_id") or p.get("pupil_id") for p in params])
            for statement, params in conn.calls] == [
        (WRITES["SchoolCreated"], ["s1", "s2"]), (WRITES["PupilLeft"], ["p1"]), (WRITES["SchoolCreated"], ["s3"])]


def test_the_objectives_row_has_every_field_of_the_event():
    statement = str(WRITES["ObjectiveDefined"])
    assert all(f":{name}" in statement for name in ("objective_id", *OBJECTIVE_FIELDS))
