"""Moderation agreement arithmetic: exact and within-one agreement, pooled by pairs, never by averaging."""

from __future__ import annotations

from fathom_reports.views.moderation import ModeratedPair, moderation_agreement
from fathom_reports.views.trust_settings import TrustSettings


def pair(school: str, teacher: int, moderator: int, objective: str = "w1") -> ModeratedPair:
    return ModeratedPair(school, objective, objective.upper(), "writing", 4, teacher, moderator)


def test_agreement_is_pooled_over_pairs_not_averaged_over_schools():
    pairs = [pair("north", 3, 3), pair("north", 2, 3), pair("north", 4, 4), pair("north", 1, 3),
             pair("south", 3, 3)]
    view = moderation_agreement(pairs, TrustSettings(small_group_threshold=3))
    objective = view["objectives"][0]
    # north: 2 of 4 agree (50%), south: 1 of 1 (100%); pooled 3 of 5 = 60%, not the 75% an average would give.
    assert objective["pooled"] == {"pairs": 5, "agreed": 3, "agreement_percent": 60.0, "within_one": 4,
                                   "within_one_percent": 80.0, "small_group": False}
    by_school = {s["school_id"]: s for s in objective["schools"]}
    assert (by_school["north"]["agreement_percent"], by_school["south"]["agreement_percent"]) == (50.0, 100.0)
    assert by_school["south"]["small_group"] is True
    assert view["overall"]["pairs"] == 5


def test_no_pairs_means_no_rate_rather_than_zero():
    view = moderation_agreement([], TrustSettings())
    assert view["objectives"] == []
    assert (view["overall"]["pairs"], view["overall"]["agreement_percent"]) == (0, None)
