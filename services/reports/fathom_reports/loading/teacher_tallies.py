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

_JUDGEMENTS = ("SELECT po.pupil_id, o.scale_id, po.value FROM rm_objectives o "
               "JOIN rm_pupil_objective po ON po.trust_id = o.trust_id AND po.objective_id = o.objective_id "
               "AND po.source = 'teacher' AND po.pupil_id = ANY(:ids) "
               "WHERE o.trust_id = :trust AND lower(o.subject) = lower(:subject)")
_SCALES = "SELECT scale_id, name, bands FROM rm_scales WHERE trust_id = :trust AND scale_id = ANY(:ids)"


def teacher_tallies(connection: Connection, trust_id: str, subject: str,
                    pupil_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Pupil → (secure, judged) for ``subject`` (any case), pupils with no teacher judgement left out."""
    judgements = connection.execute(text(_JUDGEMENTS), {"trust": trust_id, "subject": subject,
                                                        "ids": list(pupil_ids)}).all()
    if not judgements:
        return {}
    scales = {r.scale_id: Scale(r.scale_id, r.name, parse_bands(r.bands)) for r in connection.execute(
        text(_SCALES), {"trust": trust_id, "ids": sorted({j.scale_id for j in judgements})})}
    tallies: dict[str, tuple[int, int]] = {}
    for judgement in judgements:
        secure, judged = tallies.get(judgement.pupil_id, (0, 0))
        secure += int(value_view(scales.get(judgement.scale_id), judgement.value)["secure"])
        tallies[judgement.pupil_id] = (secure, judged + 1)
    return tallies
