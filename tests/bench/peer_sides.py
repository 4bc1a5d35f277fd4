"""Fathom's side of the ``peer`` part, and ``COPY`` as the ceiling, over the payloads both sides share.

Fathom appends exactly as the command API does: one :class:`~fathom_shared.db.TenantUnitOfWork`
(application role, ``fathom.trust`` set, so row-level security applies) around
:func:`~fathom_shared.event_store.append_events`, then commit. It projects as the projector process does
when it serves a trust from the event store (the library's runner reads its own store too):
:func:`fathom_projector.trust_batch.catch_up_trust`, pages read from the store, folded and written with the
trust's position, one transaction a chunk.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

import psycopg
from sqlalchemy import Engine

from fathom_projector.trust_batch import catch_up_trust
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.event_store import NewEvent, append_events
from fathom_shared.events import CURRENT_VERSION, judgement_recorded, serialise
from tests.support import DEPTH_BANDS

Payload = dict[str, Any]
"""One ``JudgementRecorded``'s data in its stored form, exactly as the command API builds it."""
EVENT_TYPE = "JudgementRecorded"
METADATA = {"actor_ref": str(uuid.UUID(int=11)), "roles": ["teacher"], "request_id": "bench-peer"}
"""What the command API records with every event of a request (who acted, by reference; the request)."""
PUPILS_PER_CLASS = 30
SCHOOL = "school-1"
YEAR_GROUP = 4


@dataclass(frozen=True)
class Cohort:
    """Pupils in classes of 30 and objectives: what judgements are about."""

    classes: int
    objectives: int

    def class_ids(self) -> list[str]:
        return [f"4-{c + 1:03d}" for c in range(self.classes)]

    def pupils(self, class_id: str) -> list[str]:
        return [f"{class_id}-p{p + 1:02d}" for p in range(PUPILS_PER_CLASS)]

    def objective_ids(self) -> list[str]:
        return [f"y4-m{n + 1:03d}" for n in range(self.objectives)]


def batches(cohort: Cohort, objectives_per_batch: int, seed: int = 11) -> Iterator[list[Payload]]:
    """Endless batches of one class × ``objectives_per_batch`` objectives (30 × 10 = 300 judgements),
    moving through the classes, then the objectives, then a day later: every batch names cells the
    previous ones did, as a term of marking does."""
    rng = random.Random(seed)
    objectives = cohort.objective_ids()
    blocks = [objectives[i:i + objectives_per_batch] for i in range(0, len(objectives), objectives_per_batch)]
    on = date.today() - timedelta(days=365)
    while True:
        for block in blocks:
            for class_id in cohort.class_ids():
                yield [_judgement(pupil, objective, rng.randint(1, 4), on, class_id)
                       for pupil in cohort.pupils(class_id) for objective in block]
        on += timedelta(days=1)


def rounds_of_judgements(cohort: Cohort, total: int, seed: int = 11) -> Iterator[Payload]:
    """``total`` judgements: every pupil on every objective, one round a day, as many rounds as it takes."""
    rng = random.Random(seed)
    on = date.today() - timedelta(days=365)
    produced = 0
    while True:
        for class_id in cohort.class_ids():
            for pupil in cohort.pupils(class_id):
                for objective in cohort.objective_ids():
                    if produced == total:
                        return
                    yield _judgement(pupil, objective, rng.randint(1, 4), on, class_id)
                    produced += 1
        on += timedelta(days=1)


def _judgement(pupil: str, objective: str, value: int, on: date, class_id: str) -> Payload:
    return judgement_recorded(pupil_id=pupil, objective_id=objective, value=value, assessed_on=on, source="teacher",
                              note_ref=None, evidence_ref_id=None, class_id=class_id)


def chunks(payloads: Iterator[Payload], size: int) -> Iterator[list[Payload]]:
    while batch := list(islice(payloads, size)):
        yield batch


# --- Fathom -----------------------------------------------------------------------------------------


def fathom_append(app: Engine, trust_id: str, batch: Sequence[Payload]) -> None:
    """One batch in one transaction, as the command API appends a request's events (and commits them: nothing
    follows in the unit of work, so no next transaction is begun and scoped to the trust)."""
    with TenantUnitOfWork(app, trust_id) as uow:
        append_events(uow.connection, trust_id, judgement_events(batch), METADATA)
        uow.commit_last()


def framework_events(cohort: Cohort) -> list[NewEvent]:
    """The scale, school, classes, objectives and pupils a trust has before its first judgement."""
    def event(stream_type: str, stream_id: str, event_type: str, data: dict[str, Any]) -> NewEvent:
        return NewEvent(stream_type, stream_id, event_type, serialise(event_type, data),
                        schema_version=CURRENT_VERSION[event_type])

    events = [event("scale", "esdm", "ScaleDefined", {"scale_id": "esdm", "name": "Emerging to Mastery",
                                                      "bands": DEPTH_BANDS}),
              event("school", SCHOOL, "SchoolCreated", {"school_id": SCHOOL, "name": "Bench Primary"})]
    events += [event("objective", o, "ObjectiveDefined", {"objective_id": o, "code": o.upper(), "subject": "maths",
                                                         "year_group": YEAR_GROUP, "strand": "number",
                                                         "text": f"Objective {o}", "scale_id": "esdm"})
               for o in cohort.objective_ids()]
    for class_id in cohort.class_ids():
        events.append(event("class", class_id, "ClassCreated", {"class_id": class_id, "school_id": SCHOOL,
                                                                "name": class_id, "year_group": YEAR_GROUP,
                                                                "academic_year": "2026-27"}))
        events += [event("pupil", p, "PupilRegistered", {"pupil_id": p, "school_id": SCHOOL, "class_id": class_id,
                                                         "year_group": YEAR_GROUP, "groups": {},
                                                         "enrolled_on": date(2026, 9, 1)})
                   for p in cohort.pupils(class_id)]
    return events


def bulk_append(app: Engine, trust_id: str, events: Sequence[NewEvent], chunk: int = 10_000) -> None:
    """Setup, not measured: big transactions through the same ``append_events``."""
    for start in range(0, len(events), chunk):
        with TenantUnitOfWork(app, trust_id) as uow:
            append_events(uow.connection, trust_id, events[start:start + chunk], METADATA)
            uow.commit()


def judgement_events(payloads: Sequence[Payload]) -> list[NewEvent]:
    return [NewEvent("pupil", data["pupil_id"], EVENT_TYPE, data, schema_version=CURRENT_VERSION[EVENT_TYPE])
            for data in payloads]


@dataclass
class FathomProjector:
    """Fathom's projector serving one trust from the event store, a chunk of ``batch`` events a transaction."""

    app: Engine
    trust_id: str
    batch: int
    dead_letters: int = 0

    def project_until(self, head: int) -> int:
        """Apply every stored event past the trust's position (up to ``head``, the store's head); how many."""
        result = catch_up_trust(self.app, self.trust_id, chunk=self.batch)
        if result.last_applied < head:
            raise RuntimeError(f"{self.trust_id}: the projector stopped at {result.last_applied}, not {head}")
        self.dead_letters += len(result.dead_letters)
        return result.applied


# --- COPY, the ceiling ----------------------------------------------------------------------------------

COPY_TABLE = "peer_copy_events"
COPY_COLUMNS = ("trust_id", "sequence", "event_id", "stream_type", "stream_id", "stream_version", "event_type",
                "schema_version", "data", "metadata", "recorded_at", "prev_hash", "hash")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def create_copy_table(owner_url: str) -> None:
    """The event store's columns and NOT NULLs, nothing else: no keys, indexes, policies or triggers."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {COPY_TABLE} (LIKE events)")


def copy_field(value: Any) -> str:
    """One value in ``COPY``'s text format (``\\N`` for NULL, bytea as hex, JSON as its text)."""
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, dict):
        value = json.dumps(value)
    elif isinstance(value, datetime):
        value = value.isoformat()
    return str(value).translate(_ESCAPES)


@dataclass
class CopyAppender:
    """``COPY … FROM STDIN`` of the rows Fathom stores for a batch, one transaction a batch.

    The ceiling of what the server takes for those rows: the payload is rendered before timing (every
    value already in ``COPY``'s text form), so what is timed is one ``COPY`` round trip and the commit."""

    owner_url: str
    trust_id: str = "peer-copy"
    sequence: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    commits: list[float] = field(default_factory=list)
    """Seconds of each timed batch spent in the commit (the WAL flush), to show where the ceiling is."""
    connection: psycopg.Connection | None = None

    def rows(self, batch: Sequence[Payload]) -> bytes:
        """The batch as event rows (sequence, ids, versions, 32-byte digests), rendered for ``COPY``."""
        recorded = datetime.now(UTC)
        lines = []
        for data in batch:
            self.sequence += 1
            version = self.versions[data["pupil_id"]] = self.versions.get(data["pupil_id"], 0) + 1
            row = (self.trust_id, self.sequence, uuid.uuid4(), "pupil", data["pupil_id"], version, EVENT_TYPE,
                   CURRENT_VERSION[EVENT_TYPE], data, METADATA, recorded, os.urandom(32), os.urandom(32))
            lines.append("\t".join(copy_field(value) for value in row) + "\n")
        return "".join(lines).encode()

    def copy(self, payload: bytes) -> None:
        """Timed: the ``COPY`` and the commit."""
        if self.connection is None:
            self.connection = psycopg.connect(self.owner_url)
        with self.connection.cursor() as cursor, \
                cursor.copy(f"COPY {COPY_TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            copy.write(payload)
        started = time.perf_counter()
        self.connection.commit()
        self.commits.append(time.perf_counter() - started)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
