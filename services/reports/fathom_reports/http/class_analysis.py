"""``GET /v1/classes/{class_id}/analysis``: the Class Analysis read endpoint."""

from __future__ import annotations

from datetime import date

from flask import Response
from flask_smorest import Blueprint

from fathom_reports.access import READER_ROLES, access_for, readable_pupils, require_class
from fathom_reports.csv_export import CLASS_TABLES, filename
from fathom_reports.fair_use import limited, time_travel
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.class_analysis import class_pupils, load_class_snapshot
from fathom_reports.loading.class_pupils import readable_of
from fathom_reports.loading.read_models import ReadModels
from fathom_reports.loading.time_travel import PastReadModels, pupils_ever_in
from fathom_reports.responses import STORE_EXTENSION, cached_view, not_found, read_view, view_response, wants_csv
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.schemas.class_analysis import ClassAnalysisQuerySchema, ClassAnalysisSchema
from fathom_reports.views.class_analysis import analyse_class
from fathom_reports.views.heat_map import FULL
from fathom_reports.views.values import ClassSnapshot, DateRange
from fathom_shared.access_policy import Access
from fathom_shared.auth import Principal

__all__ = ["STORE_EXTENSION", "blp"]

blp = Blueprint("classes", __name__, url_prefix="/v1/classes", description="Class Analysis")


@endpoint(blp, "/<class_id>/analysis", roles=READER_ROLES, query=ClassAnalysisQuerySchema,
          response=ClassAnalysisSchema, limit=limited("as_of", when=time_travel), revalidated=True, problems={
              403: "Not one of the caller's classes or schools.",
              404: "No such class in the caller's trust.",
              422: "Invalid query arguments."})
def class_analysis(class_id: str, principal: Principal, subject: str | None = None,
                   group: str | None = None, source: str = "teacher", consistency: int | None = None,
                   format: str | None = None, table: str = "objectives", from_: date | None = None,
                   to: date | None = None, as_of: AsOf | None = None, heat_map: str = FULL) -> Response:
    """Per objective: pupils per band, assessed / not yet, % secure, taught dates, who is not secure;
    per pupil: the current judgement on each objective (the heat map); gaps and suggested groups.

    ``heat_map=compact`` answers the same view with the heat map in its compact encoding
    (:mod:`fathom_reports.views.heat_map`): a fraction of the bytes to render, gzip, send and parse. The
    encoding is one of the arguments that name the kept body, so each has its own body and ``ETag``. A CSV
    export is a table either way and ignores it."""
    period = DateRange(from_, to) if from_ or to else None
    if not wants_csv(format):
        arguments = {"class_id": class_id, "subject": subject, "group": group, "source": source, "from": from_,
                     "to": to, "as_of": as_of, "heat_map": heat_map}
        render_view = lambda snapshot: analyse_class(snapshot, subject=subject, group=group,  # noqa: E731
                                                     heat_map=heat_map)
        if as_of is None:
            live = LiveClass(principal, class_id)
            return cached_view(principal.trust_id, consistency, "class_analysis", arguments, check=live.check,
                               load=lambda models: live.load(models, source, period), render_view=render_view,
                               missing="class")
        past = PastClass(principal, class_id)
        return cached_view(principal.trust_id, None, "class_analysis", arguments, check=past.check,
                           load=lambda models: past.load(models, source, period), render_view=render_view,
                           missing="class", as_of=as_of)
    snapshot = read_view(principal.trust_id, consistency, as_of, load_class_for, principal, class_id, source, period)
    if snapshot is None:
        raise not_found("class")
    view = analyse_class(snapshot, subject=subject, group=group)
    return view_response(view, format, CLASS_TABLES[table], filename("class", class_id, "analysis", table))


def load_class_for(models: ReadModels, principal: Principal, class_id: str, source: str,
                   period: DateRange | None) -> ClassSnapshot | None:
    """The class if it is the caller's now, checked before anything is read or replayed; a past view holds
    only the pupils the caller may read today."""
    connection = models.connection
    access = access_for(connection, principal)
    require_class(connection, access, class_id)
    models.prepare_class(class_id, readable=lambda pupil_ids: readable_pupils(connection, access, pupil_ids),
                         judgements=period is not None)
    return load_class_snapshot(connection, models.trust_id, class_id, source, period, access)


class LiveClass:
    """A class now, for one caller: the class must be the caller's (403/404); what its body shows beyond the read
    models' version (names included, :func:`~fathom_reports.loading.store.read_version`) is which of the class's
    pupils the caller may read (all of an open class's; of a closed class's, those the caller may read now), so a
    leader's body of last year's class is never a teacher's."""

    def __init__(self, principal: Principal, class_id: str) -> None:
        self.principal, self.class_id = principal, class_id
        self.access: Access | None = None

    def check(self, models: ReadModels) -> tuple[tuple[str, ...]]:
        connection = models.connection
        self.access = access_for(connection, self.principal)
        require_class(connection, self.access, self.class_id)
        if self.access.reads_whole_trust():
            return ((),)
        pupils = class_pupils(connection, models.trust_id, self.class_id, None)
        seen = {pupil.pupil_id for pupil in readable_of(pupils, self.access)}
        return (tuple(sorted(p.pupil_id for p in pupils if p.pupil_id not in seen)),)

    def load(self, models: ReadModels, source: str, period: DateRange | None) -> ClassSnapshot | None:
        return load_class_snapshot(models.connection, models.trust_id, self.class_id, source, period, self.access)


class PastClass:
    """A class as it stood at a past moment, for one caller: access is checked and the pupils the caller may see
    are found before anything is replayed; they are part of what names the body (their names now are in the past
    models' version, :meth:`~fathom_reports.loading.time_travel.PastReadModels.version`)."""

    def __init__(self, principal: Principal, class_id: str) -> None:
        self.principal, self.class_id = principal, class_id
        self.readable: frozenset[str] = frozenset()

    def check(self, models: PastReadModels) -> tuple[tuple[str, ...]]:
        connection = models.connection
        access = access_for(connection, self.principal)
        require_class(connection, access, self.class_id)
        ever_in = pupils_ever_in(connection, [self.class_id], models.moment.sequence)
        self.readable = frozenset(readable_pupils(connection, access, ever_in))
        return (tuple(sorted(self.readable)),)

    def load(self, models: PastReadModels, source: str, period: DateRange | None) -> ClassSnapshot | None:
        models.prepare_class(self.class_id, readable=lambda pupil_ids: self.readable & frozenset(pupil_ids),
                             judgements=period is not None)
        return load_class_snapshot(models.connection, models.trust_id, self.class_id, source, period)
