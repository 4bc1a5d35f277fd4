"""The read replica's health, for operators: is it reachable, and how far behind the primary is its replay.

With ``REPORTS_DATABASE_URL`` set the reports service reads its read models from a streaming replica (see
:class:`fathom_reports.loading.store.ReadModelStore`). Its lag decides how long a ``consistency=at_least:N``
read waits, and an unreachable replica turns every such read into a 503: both belong on the operations port.

- ``fathom_replica_up``: 1 when the replica answered this scrape, 0 when it did not.
- ``fathom_replica_replay_lag_bytes``: WAL the primary had written when asked that the replica had not yet
  replayed. Read on the primary first, then on the replica, so it is never an artefact of the order of asking;
  it also counts what the replica has not even received (a broken replication connection).
- ``fathom_replica_replay_lag_seconds``: 0 when the replica has replayed everything it received, otherwise how
  long ago the last transaction it replayed committed on the primary. (``now() - last replayed commit`` alone
  would grow on an idle system where nothing is behind.)

Read when Prometheus scrapes, over engines of their own (one connection each), like
:mod:`fathom_shared.pipeline_positions`: a scrape never waits for a request's connection. ``/readyz`` (public
and detailed) is unready while either database is unreachable; the requests themselves answer 503 then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from fathom_shared.db import make_engine, on_live_connection

log = logging.getLogger(__name__)

PRIMARY_LSN = text("SELECT pg_current_wal_lsn()::text")
REPLAY = text(
    "SELECT coalesce(pg_wal_lsn_diff(CAST(:primary AS pg_lsn), pg_last_wal_replay_lsn()), 0) AS behind_bytes, "
    "CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() "
    "     THEN 0 ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END AS behind_s")
"""On a server that is not in recovery (the primary itself, or a promoted replica) both are 0."""


@dataclass(frozen=True)
class ReplicaLag:
    bytes: int
    seconds: float


def replica_lag(primary: Engine, replica: Engine) -> ReplicaLag:
    """How far the replica's replay is behind the primary now (the primary asked first)."""
    with primary.connect() as connection:
        primary_lsn = connection.execute(PRIMARY_LSN).scalar_one()
    with replica.connect() as connection:
        row = connection.execute(REPLAY, {"primary": primary_lsn}).one()
    return ReplicaLag(max(0, int(row.behind_bytes)), max(0.0, float(row.behind_s)))


class ReplicaCollector(Collector):
    """Prometheus gauges of :func:`replica_lag`; a scrape while either database is down says ``up 0``."""

    def __init__(self, primary: Engine, replica: Engine) -> None:
        self.primary, self.replica = primary, replica

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up, lag_bytes, lag_s = families = self._families()
        try:
            lag = replica_lag(self.primary, self.replica)
        except Exception as exc:  # a database is down: say so, and let the rest of the scrape answer
            log.warning("replica lag unavailable: %s: %s", exc.__class__.__name__, exc)
            up.add_metric([], 0)
            return iter([up])
        up.add_metric([], 1)
        lag_bytes.add_metric([], lag.bytes)
        lag_s.add_metric([], lag.seconds)
        return iter(families)

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily("fathom_replica_up", "1 when the read replica and the primary answered the scrape"),
            GaugeMetricFamily("fathom_replica_replay_lag_bytes",
                              "WAL written on the primary that the read replica has not replayed"),
            GaugeMetricFamily("fathom_replica_replay_lag_seconds",
                              "Age of the last replayed commit while the replica has received WAL it has not "
                              "replayed (0 when it has replayed everything it received)"),
        ]


def replica_engine(url: str, pool_size: int = 10, *, pre_ping: bool = True) -> Engine:
    """An engine for the replica whose every transaction is ``READ ONLY``.

    Not merely tidy: a hot standby refuses ``BEGIN READ WRITE``, and that is what the driver sends on a pooled
    connection once any read-only transaction has run on it (returned to the pool, its read-only flag is reset
    to "read write", not to "the server's default"). Read-only from the start, every checkout says so again.
    ``pre_ping``: as :func:`~fathom_shared.db.make_engine`'s (the reads' engine goes without: every use of it
    retries a connection the standby closed, so a ping before each read was a round trip for nothing).
    """
    return make_engine(url, pool_size, pre_ping=pre_ping).execution_options(postgresql_readonly=True)


class ReplicaUnreachable(ConnectionError):
    """The read replica did not answer (the detailed ``/readyz`` names it, not just "a database")."""


def replica_ready(replica: Engine) -> Callable[[], None]:
    def check() -> None:
        try:
            on_live_connection(replica, lambda connection: connection.execute(text("SELECT 1")))
        except Exception as exc:
            raise ReplicaUnreachable(f"the read replica (REPORTS_DATABASE_URL) is unreachable: "
                                     f"{exc.__class__.__name__}") from exc

    return check


def all_ready(*checks: Callable[[], None]) -> Callable[[], None]:
    """One readiness check of several (the primary's and the replica's): raises with the first that fails."""
    def check() -> None:
        for each in checks:
            each()

    return check
