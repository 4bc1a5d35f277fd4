"""Date-range Class Analysis: each cell's current judgement by the trust's rollup over the range alone."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from fathom_reports.views.date_range import RangeJudgement, roll_up
from fathom_reports.views.trust_settings import TrustSettings
from fathom_reports.views.values import Band, DateRange, Objective, Scale

EDSM = Scale("edsm", "EDSM", (Band(1, "E", False), Band(2, "D", False), Band(3, "S", True), Band(4, "M", True)))
OBJECTIVE = Objective("o", "O", "Maths", 4, None, "t", "edsm")


def row(pupil: str, value: int, on: date, sequence: int, source: str = "teacher") -> RangeJudgement:
    return RangeJudgement(uuid.uuid4(), pupil, "o", value, on, sequence, source)


ROWS = [row("a", 3, date(2026, 10, 1), 1), row("a", 4, date(2026, 10, 3), 2), row("a", 2, date(2026, 10, 5), 3),
        row("b", 4, date(2026, 10, 2), 4), row("a", 1, date(2026, 10, 5), 5, source="self")]


@pytest.mark.parametrize(("method", "n", "a", "b"), [
    ("latest", None, 2, 4),
    ("highest", None, 4, 4),
    ("mean_last_n", 2, 3, 4),        # (4 + 2) / 2 = 3
    ("secure_n_times", 2, 2, 2),     # a's latest is not secure; b was secure once only → highest non-secure band
])
def test_each_rollup_method(method, n, a, b):
    judgements = roll_up(ROWS, [OBJECTIVE], {"edsm": EDSM}, TrustSettings(rollup_method=method, rollup_n=n))
    values = {(j.pupil_id, j.source): (j.value, j.assessed_on) for j in judgements}
    assert values == {("a", "teacher"): (a, date(2026, 10, 5)), ("b", "teacher"): (b, date(2026, 10, 2)),
                      ("a", "self"): (1, date(2026, 10, 5))}


def test_range_covers_both_ends_and_views_as_iso_dates():
    period = DateRange(date(2026, 10, 1), date(2026, 10, 31))
    assert (period.covers(date(2026, 10, 1)), period.covers(date(2026, 10, 31)), period.covers(date(2026, 11, 1))) \
        == (True, True, False)
    assert DateRange(None, date(2026, 10, 31)).view() == {"from": None, "to": "2026-10-31"}
    assert DateRange(date(2026, 10, 1)).covers(date(2099, 1, 1))
