"""The ``eventsourcing`` library's side of the ``peer`` part, used the way its documentation shows.

Appends go through an :class:`~eventsourcing.application.Application`'s event store
(``app.events.put``: its mapper and JSON transcoder, then its PostgreSQL application recorder), the
path ``Application.save`` takes. The projection is the library's own
:class:`~eventsourcing.projection.ProjectionRunner` with a :class:`~eventsourcing.projection.Projection`
whose view is a :class:`~eventsourcing.postgres.PostgresTrackingRecorder` keeping a "latest value per
pupil and objective" table: each event is upserted together with its tracking record, in one
transaction, as the library's projection examples do.

Only the benchmark imports this module (the library is the ``bench`` optional dependency).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier
from sqlalchemy import Engine, text

VERSION = f"eventsourcing {version('eventsourcing')}"
"""Named in the table: the library and its installed version."""
PUPILS = uuid.UUID("6f0b3a52-6c1e-4d0c-9a55-0b8f9a2b7c11")
"""Namespace of the pupils' originator ids (the library wants a UUID per aggregate)."""
APPEND_APPLICATION = "PeerAppends"
PROJECTED_APPLICATION = "PeerJudgements"
PROJECTION = "LatestValues"
WAIT_TIMEOUT = 1800.0
POLL_S = 0.02

APPEND_WORK = (
    "`SET LOCAL lock_timeout`, `LOCK TABLE … IN EXCLUSIVE MODE` (one writer at a time per application, so "
    "notification ids commit in order), `NOTIFY`, then one `INSERT … SELECT FROM unnest(%s::composite[])` "
    "`RETURNING notification_id` (a `bigserial`, the application-wide sequence; primary key "
    "`(originator_id, originator_version)` gives stream-version uniqueness, a unique index the notification "
    "order), pipelined in one round trip and committed.")
PROJECTION_WORK = (
    "its `ProjectionRunner` subscribes to the application (LISTEN/NOTIFY, notifications selected 500 at a "
    "time), the mapper turns each back into a domain event, and the projection's `process_event` upserts "
    "that pupil and objective's row and the tracking record in one transaction per event (the library's "
    "exactly-once pattern); the runner is started for each round and timed until its view's tracking "
    "position reaches the round's last notification (polled every 20 ms), start-up included")


class JudgementRecorded(DomainEvent):
    """The command API's ``JudgementRecorded`` data as a library domain event (same fields, same values)."""

    pupil_id: str
    objective_id: str
    value: int
    assessed_on: str
    source: str
    note_ref: str | None
    evidence_ref_id: str | None
    class_id: str | None


TOPIC = get_topic(JudgementRecorded)


def postgres_env(dbname: str, port: int) -> dict[str, str]:
    """The library's settings for the benchmark's server (trust authentication: any password will do)."""
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(port), "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "postgres", "POSTGRES_POOL_SIZE": "2", "CREATE_TABLE": "y"}


class PeerAppends(Application[uuid.UUID]):
    """The application that takes the interleaved append batches."""


class PeerJudgements(Application[uuid.UUID]):
    """The application whose judgements are projected."""


APPLICATIONS: dict[str, type[Application[uuid.UUID]]] = {
    APPEND_APPLICATION: PeerAppends, PROJECTED_APPLICATION: PeerJudgements}


@dataclass
class LibraryStore:
    """An application of the library; stream versions counted here, as an application's aggregates would."""

    app: Application[uuid.UUID]
    versions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, env: dict[str, str], name: str) -> LibraryStore:
        return cls(APPLICATIONS[name](env))

    def events(self, batch: Sequence[dict[str, Any]]) -> list[JudgementRecorded]:
        now = datetime.now(UTC)
        events = []
        for data in batch:
            pupil = data["pupil_id"]
            self.versions[pupil] = version_ = self.versions.get(pupil, 0) + 1
            events.append(JudgementRecorded(originator_id=uuid.uuid5(PUPILS, pupil), originator_version=version_,
                                            timestamp=now, **data))
        return events

    def append(self, batch: Sequence[dict[str, Any]]) -> None:
        """One batch in one transaction, as ``Application.save`` records an aggregate's pending events."""
        self.app.events.put(self.events(batch))

    def bulk_append(self, payloads: Sequence[dict[str, Any]], chunk: int = 10_000) -> None:
        for start in range(0, len(payloads), chunk):
            self.append(payloads[start:start + chunk])

    def max_notification_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self.app.close()


class LatestValueView(PostgresTrackingRecorder):
    """The view: one row per pupil and objective with the latest value, and the tracking table beside it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table = f"{self.tracking_table_name}_cells"
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0}.{1} (pupil_id text, objective_id text, value integer NOT NULL, "
            "assessed_on date NOT NULL, notification_id bigint NOT NULL, PRIMARY KEY (pupil_id, objective_id))"
        ).format(Identifier(self.datastore.schema), Identifier(self.table)))
        self.upsert = SQL(
            "INSERT INTO {0}.{1} AS c VALUES (%s, %s, %s, %s, %s) ON CONFLICT (pupil_id, objective_id) DO UPDATE "
            "SET value = EXCLUDED.value, assessed_on = EXCLUDED.assessed_on, "
            "notification_id = EXCLUDED.notification_id WHERE c.assessed_on <= EXCLUDED.assessed_on"
        ).format(Identifier(self.datastore.schema), Identifier(self.table))

    def record(self, event: JudgementRecorded, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.upsert, (event.pupil_id, event.objective_id, event.value, event.assessed_on,
                                         tracking.notification_id), prepare=True)
            self._insert_tracking(cursor, tracking)


class LatestValues(Projection[LatestValueView]):
    name = PROJECTION
    topics = (TOPIC,)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if isinstance(domain_event, JudgementRecorded):
            self.view.record(domain_event, tracking)


def project_until(env: dict[str, str], notification_id: int) -> float:
    """Start the library's runner, let it project up to ``notification_id``, stop it; the start-up's seconds.

    The view's position is polled every ``POLL_S`` rather than through ``runner.wait``, whose back-off
    (100 ms doubling to 800 ms) would add up to most of a second to the library's time."""
    started = time.monotonic()
    deadline = started + WAIT_TIMEOUT
    runner = ProjectionRunner(application_class=PeerJudgements, projection_class=LatestValues,
                              view_class=LatestValueView, env=env)
    try:
        with runner:
            startup = time.monotonic() - started
            while not runner.view.has_tracking_id(runner.app_name, notification_id):
                if runner.is_interrupted.is_set():
                    runner.run_forever(timeout=0)  # re-raises the processing thread's error
                    raise RuntimeError("the library's projection runner stopped early")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the library's runner did not reach {notification_id} "
                                       f"in {WAIT_TIMEOUT:.0f} s")
                time.sleep(POLL_S)
    finally:
        runner.view.datastore.close()  # the runner closes its application, not the view's pool
    return startup


def compare_with_fathom(owner: Engine, trust_id: str) -> tuple[int, int]:
    """(cells in the library's view, cells whose value differs from Fathom's ``rm_pupil_objective``)."""
    cells = f"{PROJECTION.lower()}_tracking_cells"
    with owner.connect() as conn:
        count = int(conn.execute(text(f"SELECT count(*) FROM {cells}")).scalar_one())
        differing = int(conn.execute(text(
            f"SELECT count(*) FROM {cells} c FULL JOIN (SELECT * FROM rm_pupil_objective WHERE trust_id = :t) f "
            "ON f.pupil_id = c.pupil_id AND f.objective_id = c.objective_id "
            "WHERE f.value IS DISTINCT FROM c.value OR f.assessed_on IS DISTINCT FROM c.assessed_on"),
            {"t": trust_id}).scalar_one())
    return count, differing
