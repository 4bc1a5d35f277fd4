"""The score import's plan on in-memory rows and pupils (no database, no request)."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_api.imports.csv_table import RowErrors
from fathom_api.imports.scores import decide_score_import, score_rows
from fathom_api.refusals import Forbidden, InvalidFile
from tests.unit.command_fakes import PupilRow, caller

TODAY = date(2025, 10, 1)
TEACHER = caller("teacher", classes=frozenset({"4a"}))
PUPILS = {"p1": PupilRow("p1", "north", "4a"), "p2": PupilRow("p2", "north", "4b")}
HEADER = "pupil_id,test,subject,score,taken_on\n"


def plan(text: str, dry_run: bool = False):
    errors = RowErrors()
    return decide_score_import(score_rows(text, errors), TEACHER, PUPILS, TODAY, dry_run, errors)


def test_each_row_is_one_event_and_a_dry_run_reports_the_same_counts():
    text = HEADER + "p1,NGRT,reading,104,2025-09-30\np1,NGRT,maths,99,2025-09-30\n"
    real, dry = plan(text), plan(text, dry_run=True)
    assert [e.event_type for e in real.events] == ["StandardisedScoreRecorded"] * 2
    assert dry.events == [] and dry.status == 200 and real.status is None
    assert dry.report["counts"] == real.report["counts"] == {"scores": {"created": 2}}


def test_an_unknown_pupil_a_future_date_and_a_bad_score_are_row_errors_by_line():
    text = HEADER + "x,NGRT,reading,104,2025-09-30\np1,NGRT,reading,104,2025-10-02\np1,NGRT,reading,20,2025-09-30\n"
    with pytest.raises(InvalidFile) as refused:
        plan(text)
    assert set(refused.value.errors) == {"rows.2.pupil_id", "rows.3.taken_on", "rows.4.score"}


def test_a_pupil_not_in_the_callers_classes_is_forbidden_when_the_rows_are_clean():
    with pytest.raises(Forbidden) as refused:
        plan(HEADER + "p2,NGRT,reading,104,2025-09-30\n")
    assert refused.value.errors == {"rows.2.pupil_id": ["This pupil is not in one of your classes."]}
