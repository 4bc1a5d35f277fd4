"""Who is in an intervention after ``InterventionPupilsChanged``: one rule for the write side and the read models.

The command API folds an intervention's stream to decide the next change, and the projector folds the
same events into the ``interventions`` read model; both must agree on the membership or a pupil the API
thinks is in the group is missing from the views (or in them twice).
"""

from __future__ import annotations

from collections.abc import Sequence


def pupils_after_change(current: Sequence[str], added: Sequence[str], removed: Sequence[str]) -> list[str]:
    """Removals first, then additions at the end, each pupil once; the order of those staying is kept."""
    gone = set(removed)
    kept = [p for p in current if p not in gone]
    staying = set(kept)
    return kept + [p for p in dict.fromkeys(added) if p not in staying]
