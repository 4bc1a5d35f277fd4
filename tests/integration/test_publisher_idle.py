"""A publisher that has written to many topics is idle afterwards: its producer's I/O thread does not spin."""

from __future__ import annotations

import os
import time

from fathom_shared.kafka import AcknowledgedPublisher

IDLE_SECONDS = 3.0
IDLE_CPU_SHARE = 0.05
"""At most 5 % of a core while nothing is sent (the idle-stack test's bound for a whole process)."""


def process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def test_publisher_to_many_topics_stays_idle(bootstrap_servers: str) -> None:
    """The change publisher writes one topic per trust. Before ``track_topic``, the first topic's partitions
    dropped out of the producer's metadata and its I/O thread asked for metadata in a loop: 0.5–1 s of CPU
    in every 5 s idle with 40 topics (a whole core with the test suite's hundreds)."""
    publisher = AcknowledgedPublisher(bootstrap_servers, "idle-test", 6)
    prefix = f"idle-test.{time.time_ns()}"
    try:
        for n in range(40):
            publisher.publish(f"{prefix}.t{n}", [(b"trust", b"{}") for _ in range(20)])
        before = process_cpu()
        started = time.monotonic()
        time.sleep(IDLE_SECONDS)  # the measured interval itself: nothing to wait for
        used = process_cpu() - before
        share = used / (time.monotonic() - started)
        assert share <= IDLE_CPU_SHARE, f"{used:.2f} s of CPU in {IDLE_SECONDS:.0f} s idle ({share:.0%} of a core)"
    finally:
        publisher.close()
