"""Pupil profile arithmetic: score and teacher bands, the moderation prompt, taught windows."""

from __future__ import annotations

from datetime import date

import pytest

from fathom_reports.views.disagreement import compare, score_band, teacher_band
from fathom_reports.views.profile import ClassSpell, ProfileSnapshot, PupilRecord, Taught, taught_dates


@pytest.mark.parametrize(("score", "band"), [
    (70, 0), (84, 0), (85, 1), (94, 1), (95, 2), (114, 2), (115, 3), (140, 3)])
def test_score_bands(score, band):
    assert score_band(score) == band


@pytest.mark.parametrize(("secure", "assessed", "band"), [
    (0, 0, None), (0, 4, 0), (1, 5, 0), (1, 4, 1), (49, 100, 1), (1, 2, 2), (89, 100, 2), (9, 10, 3), (4, 4, 3)])
def test_teacher_bands_by_share_secure(secure, assessed, band):
    assert teacher_band(secure, assessed) == band


def test_prompt_only_beyond_the_margin():
    assert compare(100, 1, 4, margin=1)["moderation_prompt"] is False  # expected (2) vs 25% (1): 1 apart
    far = compare(80, 9, 10, margin=1)                                  # below (0) vs 90% (3)
    assert (far["difference"], far["moderation_prompt"]) == (-3, True)
    assert compare(80, 9, 10, margin=3)["moderation_prompt"] is False
    none = compare(None, 1, 1, margin=0)
    assert (none["test_band"], none["difference"], none["moderation_prompt"], none["prompt"]) == (
        None, None, False, None)


def _snapshot(spells, taught, class_id="4b"):
    pupil = PupilRecord("p1", None, False, "north", class_id, 4, {}, None)
    return ProfileSnapshot(pupil=pupil, sequence=0, class_history=spells, objectives=(), scales={}, current=(),
                           history=(), taught=taught, scores=(), interventions=())


def test_taught_dates_count_only_while_the_pupil_was_in_the_class():
    spells = (ClassSpell("4a", "4A", 4, date(2026, 9, 1), date(2026, 10, 15)),
              ClassSpell("4b", "4B", 4, date(2026, 10, 15), None))
    taught = (Taught("4a", "x", date(2026, 9, 1)), Taught("4a", "x", date(2026, 10, 15)),
              Taught("4b", "x", date(2026, 10, 15)), Taught("4b", "y", date(2026, 10, 14)),
              Taught("4c", "z", date(2026, 10, 1)))
    assert taught_dates(_snapshot(spells, taught)) == {"x": [date(2026, 9, 1), date(2026, 10, 15)]}
    # No recorded history: the current class's dates all count.
    assert taught_dates(_snapshot((), taught)) == {"x": [date(2026, 10, 15)], "y": [date(2026, 10, 14)]}
