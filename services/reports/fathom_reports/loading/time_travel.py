"""Time travel: a view exactly as it stood at a past moment, replayed from the event store.

``as_of`` is a trust sequence number or a timestamp (turned into the last sequence recorded
at or before it; within a trust ``recorded_at`` rises with the sequence, as appends are
serialised per trust). The view is answered from the events with ``sequence <= as_of`` —
corrections, withdrawals, moves and settings changes made later are simply not in them.

Only the events the view needs are read, each set by an index range read (never the trust's
whole log), so the cost follows the view's size, not the trust's:

- the trust's framework and settings — the ``scale``, ``objective``, ``trust`` and
  ``intervention`` streams (the ``(trust_id, stream_type, …)`` unique index);
- the classes' streams (class details, taught dates);
- the streams of the pupils who were ever in the classes, found by ``data->>'class_id'`` on
  their registrations and moves (the partial index of those event types, migration ``0015_membership_events``).

They are folded by the projector's own fold and writer (:mod:`fathom_shared.read_models`) into scratch read models
(:mod:`fathom_reports.loading.scratch`), and the view's ordinary SQL loader reads those: so
``as_of`` = now gives the live view, by construction rather than by keeping two loaders equal.
Names come from today's roster (personal details are not history: an erased pupil stays unnamed
in the past too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text

from fathom_reports.loading.class_analysis import load_class_snapshot
from fathom_reports.loading.impact import load_intervention
from fathom_reports.loading.past_events import PastEvents
from fathom_reports.loading.personal_texts import NAMES_VERSION
from fathom_reports.loading.read_models import ReadablePupils, ReadModels, VisibleMembers
from fathom_reports.loading.scratch import create_scratch, replay
from fathom_reports.schemas.as_of import AsOf
from fathom_reports.views.class_analysis import analyse_class
from fathom_shared.assessment_calendar import SCHOOL_TIMEZONE
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import (
    HEAD_SEQUENCE,
    EventFilter,
    StreamKey,
    events_matching,
    head_sequence,
    recorded_at,
    sequence_at,
)
from fathom_shared.gc_pause import gc_paused
from fathom_shared.read_models.tables import JUDGEMENTS

FRAMEWORK_STREAMS = ("scale", "objective", "trust", "intervention")
STRUCTURE_STREAMS = ("school", "class")
MEMBERSHIP_EVENTS = ("PupilRegistered", "PupilMoved")


@dataclass(frozen=True)
class Moment:
    """``as_of`` resolved: the last sequence counted, and the school day it fell on (for "today")."""

    sequence: int
    day: date | None


def resolve(connection: Connection, as_of: AsOf) -> Moment:
    """The sequence ``as_of`` stands for in the current trust (0: before the first event)."""
    if as_of.timestamp is not None:
        return Moment(sequence_at(connection, as_of.timestamp), as_of.timestamp.astimezone(SCHOOL_TIMEZONE).date())
    at = recorded_at(connection, int(as_of.sequence or 0))
    return Moment(min(int(as_of.sequence or 0), head_sequence(connection)),
                  at.astimezone(SCHOOL_TIMEZONE).date() if at else None)


def membership_filter(class_ids: Iterable[str], until: int) -> EventFilter:
    """The registrations and moves into any of the classes up to ``until``.

    Read through the partial index of the membership event types (migration ``0015_membership_events``):
    the condition on ``data->>'class_id'`` is not leakproof, so under row-level security it can only
    filter the rows an index on leakproof columns found, and that index holds the trust's memberships only.
    """
    return EventFilter(event_types=MEMBERSHIP_EVENTS, data={"class_id": sorted(class_ids)}, until=until)


def pupils_ever_in(connection: Connection, class_ids: Iterable[str], until: int) -> list[str]:
    """Pupils registered into or moved into any of the classes up to ``until``."""
    joined = events_matching(connection, membership_filter(class_ids, until))
    return sorted({event.data["pupil_id"] for event in joined})


_HEAD_AND_NAMES = text(f"SELECT {HEAD_SEQUENCE}, {NAMES_VERSION}")


class PastReadModels(ReadModels):
    """The read models as they stood at ``moment``: each ``prepare_*`` replays what its view needs."""

    live = False

    def __init__(self, connection: Connection, trust_id: str, moment: Moment, kept: PastEvents | None = None) -> None:
        super().__init__(connection, trust_id)
        self.moment, self.today = moment, moment.day
        self._kept = PastEvents() if kept is None else kept
        self._replayed = False
        self._scratch = False

    def version(self) -> tuple[int, str, int, int]:
        """What a past view is a function of besides the caller: the moment (its last sequence and school day,
        both immutable), the trust's head (today's roster and erasable texts, read live) and how often its pupils'
        personal details were written (their names now, read live; :data:`NAMES_VERSION`)."""
        head, names = self.connection.execute(_HEAD_AND_NAMES).one()
        return self.moment.sequence, self.moment.day.isoformat() if self.moment.day else "", int(head), int(names)

    @classmethod
    def at(cls, connection: Connection, trust_id: str, as_of: AsOf, kept: PastEvents | None = None) -> PastReadModels:
        """The models at ``as_of``, reading the streams through ``kept`` (the worker's; by default nothing kept)."""
        return cls(connection, trust_id, resolve(connection, as_of), kept)

    def _replay(self, *, stream_types: Sequence[str] = (), streams: Iterable[StreamKey] = (),
                judgements: bool = True) -> None:
        """Read, fold and write with the cyclic collector paused: the events and rows form no cycles and all
        live until the end, so a collection would only walk them (see :mod:`fathom_shared.gc_pause`).
        ``judgements`` false: the view reads the cells, not the judgements, which are then not written."""
        if not self._scratch:  # created at the first replay: a kept past body is answered without it
            create_scratch(self.connection)
            self._scratch = True
        with gc_paused():
            batch = self._kept.parsed(self.connection, self.trust_id, stream_types=stream_types, streams=streams,
                                      until=self.moment.sequence)
            replay(self.connection, self.trust_id, batch, self.moment.sequence, clear=self._replayed,
                   unread=() if judgements else (JUDGEMENTS.name,))
        self._replayed = True

    def prepare_class(self, class_id: str, readable: ReadablePupils | None = None, judgements: bool = True) -> None:
        pupil_ids = pupils_ever_in(self.connection, [class_id], self.moment.sequence)
        if readable is not None:
            pupil_ids = sorted(readable(pupil_ids))
        self._replay(stream_types=FRAMEWORK_STREAMS, streams=[("class", class_id), *(("pupil", p) for p in pupil_ids)],
                     judgements=judgements)

    def prepare_pupil(self, pupil_id: str) -> None:
        own = self._kept.parsed(self.connection, self.trust_id, streams=[("pupil", pupil_id)],
                                until=self.moment.sequence).events()  # kept: the replay below reads it again
        class_ids = sorted({e.data["class_id"] for e in own
                            if e.event_type in MEMBERSHIP_EVENTS and e.data.get("class_id")})
        self._replay(stream_types=FRAMEWORK_STREAMS, streams=[("pupil", pupil_id), *(("class", c) for c in class_ids)])

    def prepare_intervention(self, intervention_id: str, visible: VisibleMembers | None = None) -> None:
        """Only the intervention's own stream is replayed before ``visible`` decides whose rows the caller
        sees; only those pupils' histories are then replayed."""
        self._replay(streams=[("intervention", intervention_id)])
        intervention = load_intervention(self.connection, self.trust_id, intervention_id)
        if intervention is None:
            return
        members = intervention.pupil_ids if visible is None else visible(intervention)
        self._replay(stream_types=FRAMEWORK_STREAMS, streams=[("pupil", p) for p in sorted(members)])

    def prepare_year_group(self, year_group: int, school_id: str | None = None, judgements: bool = True) -> None:
        """Replays every class's pupils, so it costs more than a class (the year group's history, never the
        whole trust's log)."""
        self._replay(stream_types=STRUCTURE_STREAMS)
        class_ids = self.connection.execute(text(
            "SELECT class_id FROM rm_classes WHERE trust_id = :trust AND year_group = :year_group "
            "AND (CAST(:school AS text) IS NULL OR school_id = :school)"),
            {"trust": self.trust_id, "year_group": year_group, "school": school_id}).scalars().all()
        pupil_ids = pupils_ever_in(self.connection, class_ids, self.moment.sequence)
        self._replay(stream_types=(*STRUCTURE_STREAMS, *FRAMEWORK_STREAMS), streams=[("pupil", p) for p in pupil_ids],
                     judgements=judgements)


def class_analysis_as_of(engine: Engine, trust_id: str, class_id: str, as_of: AsOf | int,
                         source: str = "teacher") -> dict[str, Any] | None:
    """The Class Analysis as it stood at ``as_of`` (a sequence or :class:`AsOf`): the benchmark's entry point."""
    moment = as_of if isinstance(as_of, AsOf) else AsOf(sequence=as_of)
    with TenantUnitOfWork(past_engine(engine), trust_id) as uow:
        models = PastReadModels.at(uow.connection, trust_id, moment)
        models.prepare_class(class_id, judgements=False)
        snapshot = load_class_snapshot(uow.connection, trust_id, class_id, source)
    return None if snapshot is None else analyse_class(snapshot)


def past_engine(engine: Engine) -> Engine:
    """One snapshot for all of a past view's queries; not read-only at first, so the scratch tables can be
    created (the transaction turns read-only right after, see :mod:`fathom_reports.loading.scratch`)."""
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=False)
