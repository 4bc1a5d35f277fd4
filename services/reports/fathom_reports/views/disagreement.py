"""Standardised scores beside teacher judgement: one 0..3 scale for both, and the moderation prompt.

A flag is a prompt for a moderation conversation, never a verdict on either the test or the
teacher: the two measure different things over different spans of time.
"""

from __future__ import annotations

from typing import Any

from fathom_reports.views.class_analysis import percent

BAND_LABELS = ("below", "working towards", "expected", "above")
"""0..3, for test bands and teacher judgement alike."""


def score_band(score: int) -> int:
    """Age-standardised score → 0..3: below 85, 85–94, 95–114, 115 and over."""
    if score < 85:
        return 0
    if score < 95:
        return 1
    if score < 115:
        return 2
    return 3


def teacher_band(secure: int, assessed: int) -> int | None:
    """% of assessed objectives secure → 0..3: under 25, under 50, under 90, 90 and over; None if none assessed."""
    if assessed == 0:
        return None
    share = secure * 100 / assessed
    if share < 25:
        return 0
    if share < 50:
        return 1
    if share < 90:
        return 2
    return 3


def compare(score: int | None, secure: int, assessed: int, margin: int) -> dict[str, Any]:
    """The subject's latest test band against its teacher judgements, and whether to prompt moderation."""
    test = score_band(score) if score is not None else None
    teacher = teacher_band(secure, assessed)
    difference = None if test is None or teacher is None else test - teacher
    flagged = difference is not None and abs(difference) > margin
    return {
        "teacher": {"assessed": assessed, "secure": secure, "percent_secure": percent(secure, assessed),
                    "band": teacher, "band_label": _label(teacher)},
        "test_band": test, "test_band_label": _label(test),
        "difference": difference,
        "margin": margin,
        "moderation_prompt": flagged,
        "prompt": (f"The latest test places this pupil {BAND_LABELS[test]!r}; teacher judgements "
                   f"{BAND_LABELS[teacher]!r}. Worth a moderation conversation — not a verdict on either."
                   if flagged and test is not None and teacher is not None else None),
    }


def _label(band: int | None) -> str | None:
    return BAND_LABELS[band] if band is not None else None
