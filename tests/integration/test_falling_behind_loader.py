"""The falling-behind loader on the real database, over a temporary summative table of the shape
the summative read model will have: ranks across points and years, the disagreement prompt, group counts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from fathom_projector.trust_batch import apply_trust_batch
from fathom_reports.loading.falling_behind import load_falling_behind
from fathom_shared.db import TenantUnitOfWork
from tests.support import SmallTrust, events_of, poster

EXS = 2
CODES = [  # pupil, academic year, point, rank
    ("p1", "2025-26", "summer-2", 3), ("p1", "2026-27", "autumn-1", 2), ("p1", "2026-27", "autumn-2", 1),
    ("p2", "2026-27", "autumn-1", 1), ("p2", "2026-27", "autumn-2", 1),
    ("p3", "2026-27", "autumn-1", 2), ("p3", "2026-27", "autumn-2", 2),
    ("p7", "2026-27", "autumn-1", 3), ("p7", "2026-27", "autumn-2", 1),  # 4B's: not on 4A's lists
]


@pytest.fixture
def projected(client, leader, app_engine, trust):
    post = poster(client, leader)
    SmallTrust().create(post)
    post("/v1/standardised-scores", {"scores": [
        {"pupil_id": "p3", "test": "NFER Maths Autumn", "subject": "maths", "score": 130, "taken_on": "2026-11-20"},
        {"pupil_id": "p4", "test": "NFER Maths Autumn", "subject": "maths", "score": 100, "taken_on": "2026-11-20"}]})
    post("/v1/judgements", {"judgements": [
        {"pupil_id": p, "objective_id": o, "value": v, "assessed_on": "2026-11-10"}
        for p, o, v in (("p3", "m4-1", 1), ("p3", "m4-2", 1), ("p4", "m4-1", 3), ("p4", "m4-2", 2))]})
    apply_trust_batch(app_engine, trust, events_of(app_engine, trust))


def lists(app_engine, trust: str, point_id: str, extra: list[tuple[str, ...]] = (),
          scope: tuple[str, str] = ("class", "4A")) -> dict[str, Any]:
    with TenantUnitOfWork(app_engine, trust) as uow:
        connection = uow.connection
        connection.execute(text(
            "CREATE TEMP TABLE summative_stand_in (trust_id text, pupil_id text, subject text, academic_year text, "
            "point_id text, code text, rank integer, class_id text) ON COMMIT DROP"))
        rows = [(trust, p, "maths", y, pt, str(r), r) for p, y, pt, r in CODES] + list(extra)
        connection.execute(text("INSERT INTO summative_stand_in VALUES (:t, :p, :s, :y, :pt, :c, :r, NULL)"),
                           [dict(zip(("t", "p", "s", "y", "pt", "c", "r"), row, strict=True)) for row in rows])
        return load_falling_behind(connection, trust, *scope, "2026-27", point_id, "maths", EXS,
                                         table="pg_temp.summative_stand_in")


def pupils(answer: dict[str, Any], name: str) -> list[str]:
    return [p["pupil_id"] for p in answer[name]["pupils"]]


def test_a_class_at_a_point_lists_who_moved_down_stayed_below_and_disagrees(projected, app_engine, trust):
    other_trust = [("another-trust", "p2", "maths", "2026-27", "autumn-2", "3", 3)]
    answer = lists(app_engine, trust, "autumn-2", other_trust)
    assert answer["points"] == [{"academic_year": "2026-27", "point_id": "autumn-2"},
                                {"academic_year": "2026-27", "point_id": "autumn-1"},
                                {"academic_year": "2025-26", "point_id": "summer-2"}]
    assert answer["pupils"] == 6
    assert pupils(answer, "moved_down") == ["p1"]
    assert answer["moved_down"]["pupils"][0] == {"pupil_id": "p1", "current_rank": 1, "previous_rank": 2,
                                                 "rank_two_points_ago": 3}
    assert pupils(answer, "below_expected_twice") == ["p2"]
    assert pupils(answer, "disagreement") == ["p3"]  # test band 3 ("above"), teacher band 0: past the margin
    assert answer["disagreement"]["pupils"][0]["disagreement"]["test_band"] == 3
    counts = {row["group"]: row for row in answer["below_expected_twice"]["by_group"]}
    assert counts["sen_support"] == {"group": "sen_support", "pupils": 1, "listed": 1, "small_group": True}
    assert counts["pupil_premium"]["pupils"] == 3 and counts["pupil_premium"]["listed"] == 0


def test_the_first_point_of_a_year_looks_back_to_last_years_last(projected, app_engine, trust):
    answer = lists(app_engine, trust, "autumn-1")
    assert answer["points"][1] == {"academic_year": "2025-26", "point_id": "summer-2"}
    assert pupils(answer, "moved_down") == ["p1"]
    assert answer["moved_down"]["pupils"][0]["rank_two_points_ago"] is None
    assert pupils(answer, "disagreement") == [], "a test taken after the point ended does not count there"


def test_a_point_outside_the_calendar_answers_none(projected, app_engine, trust):
    assert lists(app_engine, trust, "autumn-9") is None


def test_a_school_at_a_point_lists_every_class(projected, app_engine, trust):
    answer = lists(app_engine, trust, "autumn-2", scope=("school", "sch-1"))
    assert answer["pupils"] == 8 and (answer["scope"], answer["scope_id"]) == ("school", "sch-1")
    assert pupils(answer, "moved_down") == ["p1", "p7"]
    assert pupils(answer, "below_expected_twice") == ["p2"]
