"""Each pupil's teacher judgements of one subject's objectives, tallied: how many are judged and how many of
those are secure on their objective's scale. The summative grid shows it as a prompt beside each code and the
falling-behind lists compare it with the latest test; both count with this one function, so a band marked
secure counts the same way in both (the band's rule is :func:`fathom_reports.views.class_analysis.value_view`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from fathom_reports.loading.class_analysis import parse_bands
from fathom_reports.views.class_analysis import value_view
from fathom_reports.views.values import Scale

_OBJECTIVES = ("SELECT objective_id, scale_id FROM rm_objectives "
               "WHERE trust_id = :trust AND lower(subject) = lower(:subject)")
_JUDGEMENTS = ("SELECT pupil_id, objective_id, value FROM rm_pupil_objective WHERE trust_id = :trust "
               "AND pupil_id = ANY(:ids) AND objective_id = ANY(:objective_ids) AND source = 'teacher'")
"""The cells are asked for by pupil and objective, the primary key's columns, after the subject's objectives are
read: joined in one statement, a trust the planner's statistics did not know yet (one objective estimated) had
each of the subject's objectives look up every cell of the class's pupils, all subjects' (24,000 cells read for
600 in ``tests/integration/test_reads_statistics.py``)."""
_SCALES = "SELECT scale_id, name, bands FROM rm_scales WHERE trust_id = :trust AND scale_id = ANY(:ids)"


def teacher_tallies(connection: Connection, trust_id: str, subject: str,
                    pupil_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Pupil → (secure, judged) for ``subject`` (any case), pupils with no teacher judgement left out."""
    scale_of = dict(connection.execute(text(_OBJECTIVES), {"trust": trust_id, "subject": subject}).all())
    if not scale_of:
        return {}
    judgements = connection.execute(text(_JUDGEMENTS), {"trust": trust_id, "ids": list(pupil_ids),
                                                        "objective_ids": sorted(scale_of)}).all()
    if not judgements:
        return {}
    scales = {r.scale_id: Scale(r.scale_id, r.name, parse_bands(r.bands)) for r in connection.execute(
        text(_SCALES), {"trust": trust_id, "ids": sorted({scale_of[j.objective_id] for j in judgements})})}
    tallies: dict[str, tuple[int, int]] = {}
    for judgement in judgements:
        secure, judged = tallies.get(judgement.pupil_id, (0, 0))
        secure += int(value_view(scales.get(scale_of[judgement.objective_id]), judgement.value)["secure"])
        tallies[judgement.pupil_id] = (secure, judged + 1)
    return tallies
