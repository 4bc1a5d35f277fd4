"""The catch-up sweep: brings trusts up to date from the event store, on a thread and a schedule of its own.

The broker path cannot notice a trust whose *newest* messages were lost (no later message reveals the
gap), and while the broker is down it delivers nothing at all. So every ``grace_s / 3`` the sweep looks for
trusts whose oldest unprojected event has waited longer than ``grace_s`` and applies them from the event
store (:func:`~fathom_projector.trust_batch.catch_up_trust`): read models stay within about ``4/3 × grace_s``
of the store whatever the broker does.

The same thread also serves reads that wait (``consistency=at_least:N``): once a read has waited a moment the
reports service notifies ``fathom_read_waiting`` with its trust and sequence, and the trust is applied from
the store at once up to that sequence, :data:`WAITED_FOR_CHUNK` events a turn, trust after trust. The
consumer applies what each poll brings, in the order the broker hands it over: a trust whose few new events
sit behind another trust's import of 100,000 judgements would wait for all of them
(seconds; with the local broker, which answers a fetch with a whole partition's backlog, until every buffered
message of the import was applied), where the store has them at hand.

It runs on its own thread with its own connections (a catch-up's, and its read-ahead's), not between consumer
polls: a broker that is frozen rather than gone (a stopped process, a partitioned network) keeps the consumer
inside request timeouts and rejoin attempts for as long as the outage lasts, and a sweep that waits for the
consumer waits as long.

Running beside the consumer is safe because both paths apply a trust only under its ``rm_positions`` row
lock and only past the ``last_applied`` they read under it (the lock that already serialises several
projector processes): whichever comes second sees the other's position and skips what it applied, so no
event is applied twice or out of order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import Counter
from sqlalchemy import Engine

from fathom_projector.metrics import SWEEP, ProjectorMetrics
from fathom_projector.trust_batch import TrustBatchResult, catch_up_trust, stale_trusts
from fathom_shared.db import make_engine
from fathom_shared.notifications import READ_WAITING, ChannelListener, conninfo_for, parse_notification

log = logging.getLogger("fathom_projector")

WAITED_FOR_CHUNK = 5_000
"""Events applied for one waiting read's trust before the next trust's turn (a few tenths of a second)."""
CATCH_UP_AFTER_S = 15.0
"""Grace period before a trust's unprojected events are read from the store instead of the broker."""
SWEEPS_PER_GRACE = 3
"""The sweep runs every ``grace_s / SWEEPS_PER_GRACE``: an event waits at most about 4/3 of the grace."""


@dataclass
class CatchUpSweep:
    """One pass over every trust: those whose oldest unprojected event is older than ``grace_s`` catch up."""

    engine: Engine
    metrics: ProjectorMetrics
    grace_s: float

    @property
    def every_s(self) -> float:
        return self.grace_s / SWEEPS_PER_GRACE

    def run_once(self) -> int:
        """Catch up the stale trusts; returns how many there were."""
        caught_up = 0
        for trust_id in stale_trusts(self.engine, self.grace_s):
            result = catch_up_trust(self.engine, trust_id)
            if not self._counted(result, self.metrics.catch_ups):
                continue
            caught_up += 1
            log.warning("trust %s: %d events applied from the event store (up to %d); the broker did not "
                        "deliver them within %.0fs", trust_id, result.applied, result.last_applied, self.grace_s)
        return caught_up

    def run_waited_for(self, waited_for: Mapping[str, int]) -> dict[str, int]:
        """Apply each trust reads wait for (trust → the sequence they wait for) from the store, up to that
        sequence and at most :data:`WAITED_FOR_CHUNK` events a trust; returns the trusts still short of it, to be
        served again after the others (a read on a trust that is itself importing must not hold every other
        trust's reads behind that import here either)."""
        left: dict[str, int] = {}
        for trust_id in stale_trusts(self.engine, 0.0, waited_for):
            try:
                result = catch_up_trust(self.engine, trust_id, WAITED_FOR_CHUNK, until=waited_for[trust_id],
                                        chunks=1)
            except Exception:
                log.exception("catching trust %s up for a waiting read failed; the broker path or the next "
                              "sweep will", trust_id)
                continue
            if not self._counted(result, self.metrics.waited_for_catch_ups):
                continue
            log.debug("trust %s: %d events applied from the event store for a waiting read (up to %d)",
                      trust_id, result.applied, result.last_applied)
            if result.last_applied < waited_for[trust_id]:
                left[trust_id] = waited_for[trust_id]
        return left

    def _counted(self, result: TrustBatchResult, catch_ups: Counter) -> bool:
        """Count a catch-up that applied something; False if the consumer (or another projector's sweep) had
        applied the trust first, under its lock."""
        if not result.applied and not result.dead_letters:
            return False
        self.metrics.record(result, SWEEP)
        catch_ups.inc()
        return True


class SweepThread(threading.Thread):
    """Runs :meth:`CatchUpSweep.run_once` every :attr:`CatchUpSweep.every_s` until ``stop`` is set, and
    :meth:`CatchUpSweep.run_waited_for` as soon as a read waits for a trust (:meth:`wanted`).

    A failed pass (the database is down too) is logged and the next one tries again: nothing here is fatal.
    """

    def __init__(self, sweep: CatchUpSweep, stop: threading.Event | None = None) -> None:
        super().__init__(name="catch-up-sweep", daemon=True)
        self.sweep, self.stop = sweep, stop or threading.Event()
        self._waited_for: dict[str, int] = {}
        self._woken = threading.Condition()
        self._listener: ReadWaitingListener | None = None

    @classmethod
    def started(cls, database_url: str, metrics: ProjectorMetrics, grace_s: float) -> SweepThread:
        """A running sweep with an engine of its own (two connections: a catch-up's and its read-ahead's), so it
        never waits for the consumer's; and its listener for waiting reads."""
        thread = cls(CatchUpSweep(make_engine(database_url, pool_size=2), metrics, grace_s))
        thread.start()
        thread._listener = ReadWaitingListener(conninfo_for(database_url), thread)
        thread._listener.ensure_running()
        return thread

    def wanted(self, trust_id: str, sequence: int) -> None:
        """A read waits for ``trust_id`` to reach ``sequence``: catch it up now rather than at the next pass."""
        with self._woken:
            self._waited_for[trust_id] = max(sequence, self._waited_for.get(trust_id, 0))
            self._woken.notify()

    def close(self, timeout_s: float = 60.0) -> None:
        """Stop after the pass under way (a catch-up commits in chunks) and release the connections."""
        if self._listener is not None:
            self._listener.stop()
        self.stop.set()
        with self._woken:
            self._woken.notify()
        self.join(timeout_s)
        self.sweep.engine.dispose()

    def run(self) -> None:
        next_pass = time.monotonic() + self.sweep.every_s
        while not self.stop.is_set():
            with self._woken:
                self._woken.wait_for(lambda: self._waited_for or self.stop.is_set(),
                                     max(0.0, next_pass - time.monotonic()))
                waited_for, self._waited_for = self._waited_for, {}
            if self.stop.is_set():
                return
            if waited_for:
                try:
                    left = self.sweep.run_waited_for(waited_for)
                except Exception:  # the database is down: the reads answer 503, the next pass tries again
                    log.exception("catch-up for waiting reads failed")
                    left = {}
                for trust_id, sequence in left.items():  # served again at the next turn, with any asked meanwhile
                    self.wanted(trust_id, sequence)
            if time.monotonic() >= next_pass:
                try:
                    self.sweep.run_once()
                except Exception:
                    log.exception("catch-up from the event store failed; trying again in %.0fs",
                                  self.sweep.every_s)
                next_pass = time.monotonic() + self.sweep.every_s


class ReadWaitingListener(ChannelListener):
    """Hands each trust a read waits for (``fathom_read_waiting``, from the reports service) to the sweep thread.
    Only a hint, like every notification: the trust is applied only if the store has events it has not."""

    def __init__(self, conninfo: str, sweeper: SweepThread) -> None:
        super().__init__(conninfo, READ_WAITING)
        self._sweeper = sweeper

    def received(self, payload: str) -> None:
        parsed = parse_notification(payload)
        if parsed is not None:
            self._sweeper.wanted(*parsed)
