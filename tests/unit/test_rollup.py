"""The rollup rule for a pupil's current judgement, on hand-made judgements."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from fathom_shared.read_models.rollup import Current, JudgementFact, current_judgement, nearest_band

# Emerging / Developing / Secure / Mastery: the top two count as secure.
EDSM = [{"value": 1, "secure": False}, {"value": 2, "secure": False},
        {"value": 3, "secure": True}, {"value": 4, "secure": True}]


def j(sequence: int, value: int, day: int, withdrawn: bool = False) -> JudgementFact:
    return JudgementFact(uuid.UUID(int=sequence), value, date(2026, 10, day), sequence, withdrawn=withdrawn)


def value_of(judgements: list[JudgementFact], method: str, n: int | None = None) -> int:
    current = current_judgement(judgements, method, n, EDSM)
    assert current is not None
    return current.value


def test_latest_is_the_last_by_date_then_sequence_whatever_the_order_given():
    judgements = [j(5, 2, 9), j(1, 4, 12), j(7, 3, 12), j(9, 1, 3)]
    assert current_judgement(judgements, "latest", None, EDSM) == Current(3, judgements[2], 9, 4)


def test_withdrawn_judgements_do_not_count_and_none_left_means_no_current():
    judgements = [j(1, 2, 1), j(2, 4, 2, withdrawn=True)]
    assert current_judgement(judgements, "latest", None, EDSM) == Current(2, judgements[0], 1, 1)
    assert current_judgement([j(2, 4, 2, withdrawn=True)], "highest", None, EDSM) is None
    assert current_judgement([], "latest", None, EDSM) is None


def test_highest_takes_the_top_value_but_dates_the_cell_by_the_latest():
    judgements = [j(1, 2, 1), j(2, 4, 2), j(3, 4, 3), j(4, 1, 4)]
    assert current_judgement(judgements, "highest", None, EDSM) == Current(4, judgements[3], 4, 4)
    assert value_of([j(1, 4, 1, withdrawn=True), j(2, 3, 2)], "highest") == 3


@pytest.mark.parametrize(("values", "n", "expected"), [
    ([1, 3], 2, 2),          # mean 2.0: exactly a band
    ([2, 3], 2, 3),          # 2.5: a tie goes to the higher band
    ([1, 2, 2], 3, 2),       # 1.67 → 2
    ([4, 1, 1, 2], 2, 2),    # only the last two (1, 2) count: 1.5 → 2
    ([4, 4, 1], 2, 3),       # 2.5 → 3
    ([3], 2, 3),             # fewer than n: the mean of what there is
    ([1, 1, 2], None, 1),    # no n: the default of 3, 1.33 → 1
])
def test_mean_of_the_last_n_rounds_to_the_nearest_band(values, n, expected):
    assert value_of([j(i + 1, v, i + 1) for i, v in enumerate(values)], "mean_last_n", n) == expected


def test_mean_rounds_to_band_values_not_whole_numbers():
    gappy = [{"value": 1, "secure": False}, {"value": 4, "secure": False}, {"value": 7, "secure": True}]
    assert nearest_band(5.4, gappy) == 4
    assert nearest_band(5.5, gappy) == 7  # equally near 4 and 7: the higher
    assert nearest_band(2.5, []) == 3     # no scale known: halves up


def test_mean_ignores_withdrawn_judgements():
    judgements = [j(1, 1, 1), j(2, 3, 2), j(3, 4, 3, withdrawn=True)]
    assert value_of(judgements, "mean_last_n", 2) == 2


@pytest.mark.parametrize(("values", "expected"), [
    ([3], 2),              # secure once: capped to the highest non-secure band
    ([3, 4], 4),           # secure twice: the latest value stands
    ([3, 1, 3], 3),        # secure twice, not in a row: still consolidated
    ([4, 3, 2], 2),        # latest not secure: stands as it is
    ([2, 2, 4], 2),        # first secure judgement: capped
])
def test_secure_n_times_caps_a_secure_value_until_it_has_been_secure_n_times(values, expected):
    assert value_of([j(i + 1, v, i + 1) for i, v in enumerate(values)], "secure_n_times", 2) == expected


def test_secure_n_times_counts_only_judgements_that_still_stand():
    judgements = [j(1, 3, 1, withdrawn=True), j(2, 3, 2)]
    assert value_of(judgements, "secure_n_times", 2) == 2
    assert value_of([j(1, 3, 1), j(2, 3, 2)], "secure_n_times", 2) == 3


def test_secure_n_times_without_a_scale_is_the_latest():
    assert current_judgement([j(1, 3, 1)], "secure_n_times", 2, []).value == 3


def test_an_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="unknown rollup method"):
        current_judgement([j(1, 1, 1)], "median", None, EDSM)
