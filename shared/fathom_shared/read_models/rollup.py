"""A pupil's "current" judgement on an objective, by the trust's rollup method.

One pure rule shared by the projector (which keeps ``rm_pupil_objective`` by it) and the
reports service (which applies it to a date range or a past moment), so the two can never
disagree about what "current" means.

Methods (``RollupMethodChanged.method``):

- ``latest``: the last judgement by ``(assessed_on, sequence)``.
- ``highest``: the highest value ever judged.
- ``mean_last_n``: the mean of the last ``n`` values, rounded to the nearest band value of
  the objective's scale (a tie goes to the higher band, so rounding never marks a pupil down).
- ``secure_n_times`` (consolidation): the latest value, except that until the pupil has
  been judged secure ``n`` times, a secure latest value counts only as the highest
  non-secure band: one good day is not yet secure.

Whatever the method, the result is dated and identified by the *latest* judgement: the
heat map's date says when the pupil was last assessed, and ``judgements`` how often.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

DEFAULT_N = 3
"""``n`` for ``mean_last_n`` and ``secure_n_times`` when the trust gave none."""


@dataclass(frozen=True)
class JudgementFact:
    """One judgement as the rollup sees it: its current value (after any correction)."""

    judgement_id: uuid.UUID
    value: int
    assessed_on: date
    sequence: int
    source: str = "teacher"
    note: str | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class Current:
    """The current judgement of one pupil on one objective from one source."""

    value: int
    latest: JudgementFact
    """The latest non-withdrawn judgement: the row's date, source, note and event id."""
    sequence: int
    """The highest sequence among the judgements counted (not their corrections')."""
    judgements: int
    """How many non-withdrawn judgements there are."""


def current_judgement(
    judgements: Sequence[JudgementFact], method: str, n: int | None, bands: Sequence[Mapping[str, Any]],
) -> Current | None:
    """The current judgement from ``judgements`` (any order; withdrawn ones are ignored).

    ``bands`` are the objective's scale bands (``value``, ``secure``); without them
    ``mean_last_n`` rounds to the nearest whole number (halves up) and ``secure_n_times``
    behaves as ``latest``. ``None`` when no judgement remains.
    """
    counted = sorted((j for j in judgements if not j.withdrawn), key=lambda j: (j.assessed_on, j.sequence))
    if not counted:
        return None
    latest = counted[-1]
    return Current(_value(counted, method, n or DEFAULT_N, bands), latest,
                   max(j.sequence for j in counted), len(counted))


def _value(counted: Sequence[JudgementFact], method: str, n: int, bands: Sequence[Mapping[str, Any]]) -> int:
    if method == "latest":
        return counted[-1].value
    if method == "highest":
        return max(j.value for j in counted)
    if method == "mean_last_n":
        last = [j.value for j in counted[-n:]]
        return nearest_band(sum(last) / len(last), bands)
    if method == "secure_n_times":
        return _consolidated(counted, n, bands)
    raise ValueError(f"unknown rollup method {method!r}")


def nearest_band(mean: float, bands: Sequence[Mapping[str, Any]]) -> int:
    """The band value nearest ``mean``; on a tie the higher band."""
    values = sorted({int(b["value"]) for b in bands})
    if not values:
        return math.floor(mean + 0.5)
    return min(values, key=lambda v: (abs(v - mean), -v))


def _consolidated(counted: Sequence[JudgementFact], n: int, bands: Sequence[Mapping[str, Any]]) -> int:
    secure = {int(b["value"]) for b in bands if b["secure"]}
    not_secure = [int(b["value"]) for b in bands if not b["secure"]]
    value = counted[-1].value
    if value not in secure or not not_secure:
        return value
    times_secure = sum(1 for j in counted if j.value in secure)
    return value if times_secure >= n else max(not_secure)
