"""The projector process: consume the events topic, apply each trust's events, then commit offsets.

Offsets are committed only after the database commit, so a crash at any point redelivers
messages, which the per-trust position then skips. While a backlog lasts they are committed at most
every few seconds, and when a poll finds the topic drained at most every second
(:class:`~fathom_projector.offsets.OffsetCommits`).
Nothing here is fatal: a broker or database outage closes the consumer, waits with backoff and starts again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from kafka import KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition
from sqlalchemy import Engine, text

from fathom_projector.idle import FetchGate, Hint, PublishedHint, Records
from fathom_projector.membership import AssignmentAnswers, AssignmentTracker, UnreadableAssignment, joining, leave_group
from fathom_projector.metrics import ProjectorMetrics
from fathom_projector.offsets import OffsetCommits, next_offsets
from fathom_projector.ops_server import start_ops_server
from fathom_projector.sweep import CATCH_UP_AFTER_S, SweepThread
from fathom_projector.trim import ConsumedTrimmer, admin_for
from fathom_projector.trust_batch import TrustBatchResult, apply_trust_batch
from fathom_shared import stage_trace
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.event_store import StoredEvent, event_lines
from fathom_shared.gc_pause import gc_paused
from fathom_shared.kafka import BrokerAccess, ensure_topic
from fathom_shared.notifications import conninfo_for
from fathom_shared.pipeline_positions import PipelineCollector
from fathom_shared.process import Backoff
from fathom_shared.tally_log import TallyLog

log = logging.getLogger("fathom_projector")

MAX_POLL_RECORDS = 20
"""Messages per poll: at most 20 × ``EVENTS_PER_MESSAGE`` = 5,000 events (see :mod:`fathom_shared.event_store.wire`)."""
RECEIVE_MAX_BYTES = 1024 * 1024 * 1024
"""Largest frame the consumer accepts (kafka-python's default is 100 MB)."""
MAX_POLL_INTERVAL_MS = 30_000
"""Also the rebalance timeout: how long a restarted instance may wait for a killed one's partitions."""
STALLED_AFTER_S = 120.0
"""Liveness fails if the loop has not come round for this long."""


@dataclass
class LoopStatus:
    """What the probes report: is the loop turning, is it connected to the broker."""

    connected: bool = False
    last_tick: float = field(default_factory=time.monotonic)

    def tick(self) -> None:
        self.last_tick = time.monotonic()

    def liveness(self) -> str | None:
        stalled = time.monotonic() - self.last_tick
        return f"consumer loop stalled for {stalled:.0f}s" if stalled > STALLED_AFTER_S else None


PROGRESS_LINE = ("projected %(applied)d events from %(messages)d messages in %(batches)d batches, %(busy_s).2fs busy "
                 "(%(duplicates)d duplicates skipped, %(gap_fills)d gap fills, %(dead_letters)d dead letters)")
"""The consumer's progress, summed over the batches since its previous line (:mod:`fathom_shared.tally_log`)."""


def batch_tally(messages: int, results: Sequence[TrustBatchResult], seconds: float) -> dict[str, float]:
    """One batch's part of :data:`PROGRESS_LINE`."""
    return {"batches": 1, "messages": messages, "busy_s": seconds,
            "applied": sum(result.applied for result in results),
            "duplicates": sum(result.duplicates for result in results),
            "gap_fills": sum(int(result.gap_filled) for result in results),
            "dead_letters": sum(len(result.dead_letters) for result in results)}


def run(
    settings: Settings, stop: threading.Event, metrics_port: int | None = None, instance_id: str | None = None,
    catch_up_after_s: float = CATCH_UP_AFTER_S,
) -> None:
    """Project until ``stop`` is set; serve ``/metrics``, ``/healthz``, ``/readyz`` if a port is given.

    ``instance_id`` makes this a static member of the consumer group (``group.instance.id``): a restarted instance
    takes its partitions straight back instead of waiting for the broker to expire the old member. Give each
    instance its own stable id, or none. When ``stop`` is set such an instance leaves the group, so the others take
    its partitions at once (:func:`~fathom_projector.membership.leave_group`); a crash does not, and its restart
    takes them back.
    ``catch_up_after_s`` is the :class:`~fathom_projector.sweep.CatchUpSweep` grace period; the sweep runs
    on its own thread and connection, whatever the consumer is doing.
    """
    metrics = ProjectorMetrics(instance_id, settings.projector_group)
    assignment = AssignmentTracker(metrics)
    status = LoopStatus()
    engine = make_engine(settings.app_database_url, pool_size=2)
    metrics.registry.register(PipelineCollector(make_engine(settings.app_database_url, pool_size=1)))
    server = None if metrics_port is None else start_ops_server(
        metrics_port, metrics.registry, status.liveness, readiness_check(status, engine), host=settings.ops_host)
    backoff = Backoff()
    broker = BrokerAccess.from_settings(settings)
    sweeper = SweepThread.started(settings.app_database_url, metrics, catch_up_after_s)
    hint = PublishedHint(conninfo_for(settings.app_database_url))
    hint.ensure_running()
    trimmer = ConsumedTrimmer(admin_for(broker),
                              on_trim=lambda outcome: metrics.trims.labels(outcome).inc()
                              ) if settings.trim_consumed_events else None
    consume_batches = partial(consume, engine=engine, metrics=metrics, status=status, stop=stop, backoff=backoff,
                              hint=hint, assignment=assignment, trimmer=trimmer)

    def leave() -> bool:
        return instance_id is not None and leave_group(broker, settings.projector_group, instance_id)

    try:
        while not stop.is_set():
            status.tick()
            try:
                consumer = connect(settings, instance_id, assignment)
            except KafkaError as exc:
                log.warning("cannot reach the broker at %s (%s); retrying in %.1fs",
                            settings.kafka_bootstrap_servers, exc, backoff.next_s)
                backoff.wait(stop)
                continue
            status.connected = True
            failed = consume_until_failure(consumer, consume_batches, leave)
            status.connected = False
            assignment.forget_all()
            if failed:
                log.info("reconnecting to the broker in %.1fs", backoff.next_s)
                backoff.wait(stop)
        leave()
    finally:
        sweeper.close()
        hint.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
        engine.dispose()


def consume_until_failure(consumer: KafkaConsumer, consume_all: Callable[[KafkaConsumer], None],
                          leave: Callable[[], object]) -> bool:
    """One consumer's life: ``consume_all(consumer)`` until it returns or fails, then the consumer is closed (without
    a last commit). Returns whether it failed; nothing is fatal (see the module).

    After an :class:`~fathom_projector.membership.UnreadableAssignment` the member also leaves the group (``leave``:
    a static member removes itself once its consumer is closed; a dynamic one left as it closed), so that its next
    join makes the group rebalance instead of getting the same answer again.
    """
    rejoin_as_new = False
    try:
        consume_all(consumer)
        return False
    except UnreadableAssignment as exc:
        log.warning("%s; this member leaves the group so that its next join starts a rebalance", exc)
        rejoin_as_new = True
        return True
    except Exception:  # a dependency failed mid-batch: uncommitted messages come back after rejoin
        log.exception("projection failed")
        return True
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)
        if rejoin_as_new:
            leave()


def readiness_check(status: LoopStatus, engine: Engine) -> Callable[[], str | None]:
    """``/readyz``: connected to the broker and the database answers."""

    def readiness() -> str | None:
        if not status.connected:
            return "not connected to the broker"
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return f"database unavailable: {exc.__class__.__name__}"
        return None

    return readiness


def connect(settings: Settings, instance_id: str | None = None,
            listener: AssignmentTracker | None = None) -> KafkaConsumer:
    broker = BrokerAccess.from_settings(settings)
    consumer = KafkaConsumer(
        **broker.producer_consumer_config(),
        group_id=settings.projector_group,
        group_instance_id=instance_id,
        client_id="fathom-projector",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_records=MAX_POLL_RECORDS,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        # Apache Kafka honours the fetch limits above; the local noida-db broker does not and answers
        # with everything from the committed offset, so a large backlog arrives as one frame.
        receive_message_max_bytes=RECEIVE_MAX_BYTES,
        bootstrap_timeout_ms=3000,
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
    )
    try:
        # Grown if it has fewer partitions than configured: each trust is applied by its sequence, so a trust
        # whose key moves to a new partition is safe (its newer events first mean a gap, filled from the store).
        ensure_topic(broker, settings.events_topic, settings.topic_partitions, grow=True)
        consumer.subscribe([settings.events_topic], listener=listener)
    except BaseException:
        consumer.close(autocommit=False, timeout_ms=5000)
        raise
    return consumer


def consume(
    consumer: KafkaConsumer, engine: Engine, metrics: ProjectorMetrics, status: LoopStatus,
    stop: threading.Event, backoff: Backoff, hint: Hint, assignment: AssignmentTracker,
    trimmer: ConsumedTrimmer | None = None,
) -> None:
    """Apply batches until ``stop``; between bursts the :class:`FetchGate` waits without fetching. After each
    committed batch the ``trimmer`` (if any) may delete the consumed records from the broker."""
    progress = TallyLog(log, PROGRESS_LINE)

    def holding() -> set[TopicPartition]:
        return assignment.held

    gate = FetchGate(consumer, hint, MAX_POLL_RECORDS, holding,
                     on_wake=lambda reason: metrics.idle_wakeups.labels(reason).inc(),
                     joining=partial(joining, consumer), stopping=stop.is_set)
    commits = OffsetCommits(consumer, holding, trimmer)
    answers = AssignmentAnswers(consumer)
    while not stop.is_set():
        status.tick()
        with answers.reading():  # a poll may complete a join
            records = gate.next_records()
        metrics.paused.set(int(gate.paused))
        if not records:
            commits.flush_if_due()
            progress.log_if_due()
            continue
        started = time.perf_counter()
        messages = sum(len(batch) for batch in records.values())
        with gc_paused():  # a batch's messages, events and rows form no cycles (see fathom_shared.gc_pause)
            by_trust = events_by_trust(records, metrics)
            for trust_id, events in by_trust.items():
                stage_trace.mark("projector_received", trust_id, events[-1].sequence)
            results = [apply_trust_batch(engine, trust_id, events) for trust_id, events in by_trust.items()]
        committed = time.time()
        for result, events in zip(results, by_trust.values(), strict=True):
            stage_trace.mark("projector_committed", result.trust_id, result.last_applied, committed)
            if result.applied:
                metrics.applied_lag_seconds.observe(max(0.0, committed - events[-1].recorded_at.timestamp()))
        commits.applied(next_offsets(records), caught_up=gate.maybe_drained)
        for result in results:
            metrics.record(result)
        seconds = time.perf_counter() - started
        metrics.batch_seconds.observe(seconds)
        metrics.last_batch_events.set(messages)
        progress.add(**batch_tally(messages, results, seconds))
        backoff.succeeded()
    commits.flush()  # stopping: what was applied need not come back
    progress.flush()


def events_by_trust(records: Records, metrics: ProjectorMetrics) -> dict[str, list[StoredEvent]]:
    """The poll's events by trust, in the order received (a message carries a run of one trust's events,
    :mod:`fathom_shared.event_store.wire`). A line that is not an event is skipped on its own: the trust's next
    event shows the gap, which is filled from the store."""
    by_trust: dict[str, list[StoredEvent]] = {}
    for batch in records.values():
        for record in batch:
            for line in event_lines(record.value or b""):  # a message without a value is no event either
                try:
                    event = StoredEvent.from_wire(line)
                except (ValueError, KeyError, TypeError) as exc:
                    metrics.undecodable_messages.inc()
                    log.warning("skipping undecodable event in message %s[%d]@%d: %r",
                                record.topic, record.partition, record.offset, exc)
                    continue
                by_trust.setdefault(event.trust_id, []).append(event)
    return by_trust
