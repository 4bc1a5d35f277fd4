"""Falling behind, clearly indicated: who a pupil progress meeting should look at first.

Three lists for a class (or a school) at an assessment point, from the pupils' summative codes as ranks
on the trust's scale (low = further behind):

- ``moved_down``: the rank fell since the previous point (a change of code shown as what it is: no
  "expected progress" line is drawn or implied, so staying on the same code is never "falling behind");
- ``below_expected_twice``: below the expected code (``rank < expected_rank``) at this point and at the
  previous one, so one off day does not put a child on the list;
- ``disagreement``: the latest test band and the teacher's judgement disagree by more than the trust's
  margin: the moderation prompt of :func:`fathom_reports.views.disagreement.compare`, whose answer the
  caller passes in per pupil (that rule is written once, there).

Each list comes with counts by pupil group (pupil premium, SEN, EAL, gender, more able, the trust's own),
each marked ``small_group`` by the trust's threshold as every other split is: a count of 1 of 3 is a child,
not a trend. The groups and the threshold are given by the caller (the reports service's
``views.pupil_groups`` and trust settings), so a group means the same pupils here as everywhere.

Pure: no I/O. "The previous point" (crossing academic years) is the calendar's rule,
:func:`fathom_shared.assessment_calendar.points_before`; the caller looks the ranks up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GroupPredicate = Callable[[Mapping[str, Any]], bool]
"""Whether a pupil's group flags (``PupilGroups``) place them in a group."""
LISTS = ("moved_down", "below_expected_twice", "disagreement")


@dataclass(frozen=True)
class PupilCodes:
    """One pupil's codes as ranks at this point and the two before it (None: no code there)."""

    pupil_id: str
    groups: Mapping[str, Any]
    current_rank: int | None
    previous_rank: int | None
    rank_two_points_ago: int | None = None
    disagreement: Mapping[str, Any] | None = field(default=None, compare=False)
    """The test band against teacher judgement (``views.disagreement.compare``'s answer), None without a test."""


def moved_down(pupil: PupilCodes) -> bool:
    """The code is lower than at the previous point (both known)."""
    return (pupil.current_rank is not None and pupil.previous_rank is not None
            and pupil.current_rank < pupil.previous_rank)


def below_expected_twice(pupil: PupilCodes, expected_rank: int) -> bool:
    """Below the expected code at this point and at the previous one (a missing code is not "below")."""
    return all(rank is not None and rank < expected_rank for rank in (pupil.current_rank, pupil.previous_rank))


def in_disagreement(pupil: PupilCodes) -> bool:
    """The disagreement rule prompted a moderation conversation for this pupil."""
    return bool(pupil.disagreement and pupil.disagreement.get("moderation_prompt"))


def _entry(pupil: PupilCodes) -> dict[str, Any]:
    entry: dict[str, Any] = {"pupil_id": pupil.pupil_id, "current_rank": pupil.current_rank,
                             "previous_rank": pupil.previous_rank, "rank_two_points_ago": pupil.rank_two_points_ago}
    if pupil.disagreement is not None:
        entry["disagreement"] = dict(pupil.disagreement)
    return entry


def group_counts(pupils: Sequence[PupilCodes], listed: Iterable[str], groups: Mapping[str, GroupPredicate],
                 is_small: Callable[[int], bool]) -> list[dict[str, Any]]:
    """Per group with at least one pupil: how many of the group's pupils are ``listed`` of how many there are.

    ``small_group`` when the group has fewer pupils than the trust's threshold (``is_small``).
    """
    listed = set(listed)
    counts = []
    for name, predicate in groups.items():
        members = [pupil.pupil_id for pupil in pupils if predicate(pupil.groups)]
        if members:
            counts.append({"group": name, "pupils": len(members),
                           "listed": sum(1 for pupil_id in members if pupil_id in listed),
                           "small_group": is_small(len(members))})
    return counts


def falling_behind(pupils: Sequence[PupilCodes], expected_rank: int, groups: Mapping[str, GroupPredicate],
                   is_small: Callable[[int], bool]) -> dict[str, Any]:
    """The three lists (pupils in the order given), each with its group counts, and the number of pupils."""
    rules: dict[str, Callable[[PupilCodes], bool]] = {
        "moved_down": moved_down,
        "below_expected_twice": lambda pupil: below_expected_twice(pupil, expected_rank),
        "disagreement": in_disagreement,
    }
    answer: dict[str, Any] = {"pupils": len(pupils), "expected_rank": expected_rank}
    for name, rule in rules.items():
        chosen = [pupil for pupil in pupils if rule(pupil)]
        answer[name] = {"count": len(chosen), "pupils": [_entry(pupil) for pupil in chosen],
                        "by_group": group_counts(pupils, (p.pupil_id for p in chosen), groups, is_small)}
    return answer


def custom_groups(pupils: Iterable[PupilCodes]) -> list[str]:
    """The trust's own groups these pupils belong to, sorted (the names ``custom:<name>`` filters take)."""
    return sorted({name for pupil in pupils for name in (pupil.groups.get("custom") or ())})
